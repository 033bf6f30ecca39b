"""On-disk cache of inventories built for models outside the catalogue.

An entry is keyed by everything that decides its content: the config, the class, the transformers version that built
it and the lora-lint version that described it. Entries are written to a temporary file in the cache directory and
renamed into place, so parallel runs (pre-commit runs hooks concurrently) never read a half-written entry. An entry
that cannot be read is rebuilt, with a note instead of a crash.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lora_lint
from lora_lint.files import read_regular_file, write_atomically
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
        return CachedInventory(read_entry(path), hit=True, note=None)
    except FileNotFoundError:
        pass
    except (OSError, InventoryFormatError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        note = f"inventory cache entry {path} was unreadable ({reason}); rebuilt it"

    inventory = build()
    try:
        write_atomically(path, dump_inventory(inventory))
    except OSError as exc:
        write_note = f"could not write inventory cache entry {path}: {exc}"
        note = f"{note}; {write_note}" if note else write_note
    return CachedInventory(inventory, hit=False, note=note)


# The largest shipped inventory (Llama 3.1 70B) is 180 KB of JSON and a wide MoE some MB: anything far beyond is
# not an entry lora-lint wrote.
MAX_ENTRY_BYTES = 16 * 1024 * 1024
MAX_INVENTORY_BYTES = 64 * 1024 * 1024

# What rules and the matcher read of an inventory, with the types they assume: an entry of another shape (written
# by another version, or by hand) would crash every later run, so it is rebuilt instead.
_TOP_LEVEL_TYPES = {
    "model_type": str, "class": str, "is_encoder_decoder": bool, "can_generate": bool, "transformers_version": str,
    "total_parameters": int, "output_embedding": (str, type(None)), "tied_parameters": list,
    "layer_containers": list, "modules": list,
}
_MODULE_TYPES = {
    "name": str, "class": str, "lora_kind": (str, type(None)), "weight_shape": (list, type(None)),
    "in_features": (int, type(None)), "out_features": (int, type(None)), "parameters": int,
}
_CONTAINER_TYPES = {"path": str, "length": int, "stack": str}


def read_entry(path: Path) -> dict:
    """A cache entry: a regular file of bounded size that decompresses to a bounded, well-shaped inventory.
    Raises OSError or InventoryFormatError."""
    data = read_regular_file(path, MAX_ENTRY_BYTES)
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip
    try:
        text = decompressor.decompress(data, MAX_INVENTORY_BYTES)
    except zlib.error as exc:
        raise InventoryFormatError(f"not gzip data: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise InventoryFormatError(f"decompresses to more than {MAX_INVENTORY_BYTES:,} bytes")
    if decompressor.unused_data:  # a second gzip member, which the bound above did not cover
        raise InventoryFormatError("holds more than one gzip member")
    inventory = load_inventory(data)
    check_shape(inventory)
    return inventory


def check_shape(inventory: dict) -> None:
    """Raise InventoryFormatError unless every field rules and the matcher read has the type they assume."""
    _check_fields(inventory, _TOP_LEVEL_TYPES, "inventory")
    for index, module in enumerate(inventory["modules"]):
        _check_fields(module, _MODULE_TYPES, f"modules[{index}]")
        shape = module["weight_shape"]
        if shape is not None and not all(type(size) is int for size in shape):
            raise InventoryFormatError(f"modules[{index}].weight_shape is not a list of integers")
        extra = module.get("extra_parameters", {})
        if not isinstance(extra, dict) or not all(isinstance(value, list) for value in extra.values()):
            raise InventoryFormatError(f"modules[{index}].extra_parameters is not a table of shapes")
    for index, container in enumerate(inventory["layer_containers"]):
        _check_fields(container, _CONTAINER_TYPES, f"layer_containers[{index}]")
    tied = inventory["tied_parameters"]
    if not all(isinstance(group, list) and all(isinstance(name, str) for name in group) for group in tied):
        raise InventoryFormatError("tied_parameters is not a list of lists of names")


def _check_fields(value: object, types: dict, where: str) -> None:
    if not isinstance(value, dict):
        raise InventoryFormatError(f"{where} is not an object")
    for key, expected in types.items():
        if key not in value:
            raise InventoryFormatError(f"{where} has no {key}")
        found = value[key]
        # bool is an int in Python, but never a count here
        if not isinstance(found, expected) or (isinstance(found, bool) and expected is int):
            raise InventoryFormatError(f"{where}.{key} is a {type(found).__name__}")

