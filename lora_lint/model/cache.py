"""On-disk cache of inventories built for models outside the catalogue.

An entry is keyed by everything that decides its content: the config, the class, the transformers version that built
it and the lora-lint version that described it. Entries are written to a temporary file in the cache directory and
renamed into place, so parallel runs (pre-commit runs hooks concurrently) never read a half-written entry. An entry
that cannot be read is rebuilt, with a note instead of a crash.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lora_lint
from lora_lint.model.inventory import InventoryFormatError, dump_inventory, load_inventory


@dataclass
class CachedInventory:
    inventory: dict
    hit: bool  # read from the cache rather than built
    note: str | None  # what went wrong with the cache, when something did


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lora-lint"


def cache_key(config: dict, model_class: str, transformers_version: str) -> str:
    canonical = json.dumps(
        [config, model_class, transformers_version, lora_lint.__version__],
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )
    import hashlib  # only on the cache path: the catalogue path needs no key

    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def get_or_build(
    config: dict,
    model_class: str,
    transformers_version: str,
    build: Callable[[], dict],
    cache_dir: Path | None = None,
) -> CachedInventory:
    """The cached inventory for (config, model_class, transformers_version), calling `build` on a miss or a bad
    entry. Exceptions from `build` propagate and nothing is stored."""
    directory = (cache_dir or default_cache_dir()) / "inventories"
    path = directory / f"{cache_key(config, model_class, transformers_version)}.json.gz"
    note = None
    try:
        return CachedInventory(load_inventory(path.read_bytes()), hit=True, note=None)
    except FileNotFoundError:
        pass
    except (OSError, InventoryFormatError) as exc:
        note = f"inventory cache entry {path} was unreadable ({exc}); rebuilt it"

    inventory = build()
    try:
        _write_atomically(path, dump_inventory(inventory))
    except OSError as exc:
        write_note = f"could not write inventory cache entry {path}: {exc}"
        note = f"{note}; {write_note}" if note else write_note
    return CachedInventory(inventory, hit=False, note=note)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when writing: it pulls in shutil and random, which a warm lint never needs

    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
