"""Resolve a model reference (a path or a Hub id) to its config.json, choose the class a trainer loads, and get the
model's inventory.

Resolution order: a local directory or config file, the bundled catalogue, the local Hugging Face cache, then a
download of config.json alone from the Hub (lora_lint.model.hub, bounded in size and time). Torch-free: torch,
transformers and accelerate are imported only to build an inventory.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lora_lint.files import read_regular_file
from lora_lint.model.cache import get_or_build
from lora_lint.versions import installed_version
from lora_lint.model.catalog import CatalogEntry, inventories_transformers_version, lookup
from lora_lint.model.inventory import InventoryBuildError, build_inventory, load_inventory

# What each trainer dialect always loads, whatever the config's task_type says.
DIALECT_CLASSES = {"llmtune": "AutoModelForCausalLM"}

# PEFT task_type -> the Auto class trainers load for it.
TASK_TYPE_CLASSES = {
    "CAUSAL_LM": "AutoModelForCausalLM",
    "SEQ_2_SEQ_LM": "AutoModelForSeq2SeqLM",
    "SEQ_CLS": "AutoModelForSequenceClassification",
    "TOKEN_CLS": "AutoModelForTokenClassification",
    "QUESTION_ANS": "AutoModelForQuestionAnswering",
}

_BUILD_REQUIREMENTS = ("torch", "transformers", "accelerate")
_COMMIT_HASH = re.compile(r"[0-9a-f]{40}")
# huggingface_hub's repo id rule: an optional namespace, a name, no "--" or ".." anywhere, 96 characters at most.
_REPO_ID = re.compile(r"(?:[\w.-]+/)?[\w.-]{1,96}")
MAX_REPO_ID_LENGTH = 96
# A branch or tag as git and the Hub name them ("main", "v1.0", "refs/pr/3"): slash-separated components of safe
# characters, none starting with "."; with no "..", this can never leave the directory it is joined to.
_REVISION = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*(?:/[A-Za-z0-9_+-][A-Za-z0-9_.+-]*)*", re.ASCII)
MAX_REVISION_LENGTH = 255
# A config.json is kilobytes (a few MB with a huge label map); a ref file holds one commit hash.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_REF_BYTES = 1024


@dataclass
class ResolvedModel:
    reference: str  # as written in the LoRA config or given with --model
    revision: str | None
    model_id: str | None = None  # Hub id (catalogue spelling for catalogue hits), or the local directory
    source: str | None = None  # "local" | "catalog" | "cache" | "hub"; None when nothing resolved
    config: dict | None = None
    config_path: Path | None = None  # the config.json read; None for catalogue hits
    catalog_entry: CatalogEntry | None = None
    tried: list[str] = field(default_factory=list)  # one human-readable line per place looked in, in order

    @property
    def resolved(self) -> bool:
        return self.config is not None


@dataclass
class InventoryResult:
    inventory: dict | None
    source: str | None  # "catalog" (shipped), "cache" or "built"; None on failure
    notes: list[str] = field(default_factory=list)  # things the user should know about how it was obtained
    failure: str | None = None  # why there is no inventory


def resolve_model(
    reference: str, revision: str | None = None, *, offline: bool = False, hf_cache_dir: Path | None = None
) -> ResolvedModel:
    """Find the config.json of `reference`. `offline` (or HF_HUB_OFFLINE=1) forbids the Hub download;
    `hf_cache_dir` replaces the Hugging Face cache location found from the environment."""
    result = ResolvedModel(reference, revision)
    if not reference.strip():
        result.tried.append("no model named")
        return result
    problem = revision_problem(revision) if revision is not None else None
    if problem is not None:
        result.tried.append(f"nothing looked up: {problem}")
        return result
    try:
        path = Path(reference).expanduser()
        exists = path.exists()
    except (OSError, ValueError, RuntimeError) as exc:  # too long for a file name, a NUL byte, an unknown `~user`
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        result.tried.append(f"local: {reference[:80]!r}... is not a usable path ({reason})")
        return result
    if exists:
        _resolve_local(result, path)
        return result  # a path that exists is what the trainer loads too: never fall through to the Hub
    result.tried.append(f"local: no directory or file {reference!r}")

    if revision not in (None, "main"):
        result.tried.append(f"catalogue: skipped, it holds revision 'main' and {revision!r} was asked for")
    else:
        entry = lookup(reference)
        if entry is not None:
            result.model_id, result.source, result.config, result.catalog_entry = (
                entry.id, "catalog", entry.config(), entry)
            return result
        result.tried.append(f"catalogue: no entry {reference!r}")

    if not is_repo_id(reference):
        result.tried.append(f"HF cache, hub: {reference!r} is not a Hub repository id")
        return result
    cache_dir = hf_cache_dir or default_hf_cache_dir()
    if _resolve_hf_cache(result, cache_dir):
        return result

    if offline:
        result.tried.append("hub: offline (offline mode asked for)")
    elif _env_true("HF_HUB_OFFLINE"):
        result.tried.append(f"hub: offline (HF_HUB_OFFLINE={os.environ['HF_HUB_OFFLINE']})")
    else:
        _resolve_hub(result, hf_cache_dir)
    return result


def revision_problem(revision: str) -> str | None:
    """Why `revision` cannot be a branch, tag or commit name, or None when it can. A revision is joined into cache
    paths and URLs: anything else (an absolute path, `..`) would read outside the cache."""
    if (len(revision) > MAX_REVISION_LENGTH or not _REVISION.fullmatch(revision) or ".." in revision
            or revision.endswith((".", ".lock"))):
        return f"revision {revision[:80]!r} is not a branch, tag or commit name"
    return None


def is_repo_id(reference: str) -> bool:
    """Whether `reference` has the shape of a Hub repository id (which makes it safe to join into cache paths)."""
    return (len(reference) <= MAX_REPO_ID_LENGTH and _REPO_ID.fullmatch(reference) is not None
            and "--" not in reference and ".." not in reference)


def choose_model_class(config: dict | None, dialect: str | None = None, task_type: str | None = None) -> str:
    """The class the trainer loads the base model with: fixed by the dialect, else by PEFT's task_type, else the
    config's architectures[0], else AutoModel."""
    if dialect in DIALECT_CLASSES:
        return DIALECT_CLASSES[dialect]
    if task_type in TASK_TYPE_CLASSES:
        return TASK_TYPE_CLASSES[task_type]
    architectures = (config or {}).get("architectures")
    if isinstance(architectures, list) and architectures and isinstance(architectures[0], str):
        return architectures[0]
    return "AutoModel"


def get_inventory(
    resolved: ResolvedModel,
    model_class: str,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    trust_remote_code: bool = False,
) -> InventoryResult:
    """The inventory of `model_class` for a resolved model. A catalogued model's shipped inventory is used when it
    was built with the installed transformers version, or when nothing can be built here; otherwise the inventory
    is built (through the on-disk cache unless `use_cache` is False). A model that needs its own code fails with
    "needs trust_remote_code" unless `trust_remote_code` is True."""
    if resolved.config is None:
        return InventoryResult(None, None, failure=f"model {resolved.reference!r} was not resolved")
    installed = installed_version("transformers")
    missing = _missing_build_requirements()
    entry = resolved.catalog_entry

    shipped_path = entry.inventory_path(model_class) if entry is not None else None
    shipped = _shipped_inventory(shipped_path) if shipped_path is not None else None
    if shipped is not None:
        if shipped["transformers_version"] == installed:
            return InventoryResult(shipped, "catalog")
        if missing:
            return InventoryResult(shipped, "catalog", notes=[
                f"module names reflect transformers {shipped['transformers_version']}, which built the catalogue: "
                f"{', '.join(missing)} not installed here to rebuild them"
            ])
    catalogue_version = inventories_transformers_version()
    if entry is not None and shipped is None and (missing or installed == catalogue_version):
        # What the catalogue's build found is what building here would find: answer without importing transformers.
        return InventoryResult(None, None, failure=(
            f"transformers {catalogue_version} has no {model_class} for model_type {entry.model_type!r}"
        ))
    if missing:
        return InventoryResult(None, None, failure=(
            f"{resolved.model_id} is not in the catalogue, and building its skeleton needs {', '.join(missing)} "
            "(pip install 'lora-lint[model]')"
        ))

    code_location = str(resolved.config_path.parent) if resolved.source == "local" else resolved.model_id
    build = functools.partial(
        build_inventory, resolved.config, model_class,
        trust_remote_code=trust_remote_code, code_location=code_location, revision=resolved.revision,
    )
    try:
        # The key covers the config, not a repository's own code, so builds that may run such code are not cached.
        if use_cache and not trust_remote_code:
            cached = get_or_build(resolved.config, model_class, installed, _with_status(build, resolved), cache_dir)
            notes = [cached.note] if cached.note else []
            return InventoryResult(cached.inventory, "cache" if cached.hit else "built", notes)
        return InventoryResult(_with_status(build, resolved)(), "built")
    except InventoryBuildError as exc:
        if shipped is not None:  # a catalogued model keeps its checks even when this transformers cannot build it
            return InventoryResult(shipped, "catalog", notes=[
                f"module names reflect transformers {shipped['transformers_version']}, which built the catalogue: "
                f"building with transformers {installed} failed ({exc})"
            ])
        return InventoryResult(None, None, failure=str(exc))


def _with_status(build, resolved: ResolvedModel):
    def build_showing_progress():
        from lora_lint.progress import status

        with status(f"building the skeleton of {resolved.model_id} on the meta device"):
            return build()

    return build_showing_progress


def default_hf_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads, found from the environment the same way huggingface_hub does."""
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    hub_cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    return Path(os.path.expandvars(hub_cache)).expanduser()


def _resolve_local(result: ResolvedModel, path: Path) -> None:
    config_path = path / "config.json" if path.is_dir() else path
    if config_path is path and path.suffix.lower() != ".json":
        # Only a model's config is read: a config under lint must not make lora-lint parse any file it names.
        result.tried.append(f"local: {str(path)!r} is neither a model directory nor a .json config file")
        return
    if not config_path.is_file():
        result.tried.append(f"local: directory {str(path)!r} has no config.json")
        return
    config = _read_config(result, "local", config_path)
    if config is not None:
        result.model_id, result.source, result.config, result.config_path = (
            str(config_path.parent), "local", config, config_path)


class OutsideCache(OSError):
    """A cache path that resolves (through a symlink) outside the cache directory."""


def _resolve_hf_cache(result: ResolvedModel, cache_dir: Path) -> bool:
    model_id = result.reference
    repo_dir = cache_dir / ("models--" + model_id.replace("/", "--"))
    if not repo_dir.is_dir():
        result.tried.append(f"HF cache: no {repo_dir.name} in {cache_dir}")
        return False
    revision = result.revision or "main"
    if _COMMIT_HASH.fullmatch(revision):
        commit = revision
    else:
        ref = repo_dir / "refs" / revision
        try:
            commit = _read_in_cache(ref, cache_dir, MAX_REF_BYTES).decode("ascii", "replace").strip()
        except (FileNotFoundError, NotADirectoryError):
            result.tried.append(f"HF cache: {model_id} is cached, but not at revision {revision!r}")
            return False
        except OSError as exc:
            result.tried.append(f"HF cache: cannot read ref {revision!r} of {model_id}: {exc.strerror or exc}")
            return False
        if not _COMMIT_HASH.fullmatch(commit):  # never echo what the file holds
            result.tried.append(f"HF cache: ref {revision!r} of {model_id} does not hold a commit hash")
            return False
    config_path = repo_dir / "snapshots" / commit / "config.json"
    if not config_path.is_file():
        result.tried.append(f"HF cache: snapshot {commit} of {model_id} has no config.json")
        return False
    if not _inside(config_path, cache_dir):
        result.tried.append(f"HF cache: snapshot {commit} of {model_id}: config.json points outside the cache")
        return False
    config = _read_config(result, "HF cache", config_path)
    if config is None:
        return False
    result.model_id, result.source, result.config, result.config_path = model_id, "cache", config, config_path
    return True


def _resolve_hub(result: ResolvedModel, hf_cache_dir: Path | None) -> None:
    from lora_lint.model.hub import HubError, download_config

    model_id, revision = result.reference, result.revision
    at_revision = f" at revision {revision!r}" if revision else ""
    try:
        downloaded = download_config(model_id, revision, hf_cache_dir or default_hf_cache_dir())
    except HubError as exc:
        result.tried.append({
            "gated": f"hub: {model_id} is gated: accept its terms on the Hub and log in (`hf auth login`)",
            "repo": f"hub: no repository {model_id} (or it is private and no token was given)",
            "revision": f"hub: {model_id} has no revision {revision!r}",
            "entry": f"hub: {model_id} has no config.json{at_revision}",
            "network": f"hub: could not reach the Hub for {model_id}: {exc}",
        }.get(exc.kind, f"hub: could not download config.json of {model_id}{at_revision}: {exc}"))
        return
    config = _read_config(result, "hub", downloaded)
    if config is not None:
        result.model_id, result.source, result.config, result.config_path = model_id, "hub", config, downloaded


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):  # outside, or a symlink loop
        return False
    return True


def _read_in_cache(path: Path, cache_dir: Path, limit: int) -> bytes:
    if not _inside(path, cache_dir):
        raise OutsideCache(f"{path.name} points outside the cache")
    return read_regular_file(path, limit)


def _read_config(result: ResolvedModel, place: str, path: Path) -> dict | None:
    try:
        config = json.loads(read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8"))
    except OSError as exc:
        result.tried.append(f"{place}: cannot read {path}: {exc.strerror or exc}")
        return None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: bad JSON, or a 4,300+ digit int
        result.tried.append(f"{place}: cannot read {path}: {type(exc).__name__}: {str(exc)[:200]}")
        return None
    if not isinstance(config, dict):
        result.tried.append(f"{place}: {path} does not hold a JSON object")
        return None
    return config


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").upper() in ("1", "ON", "YES", "TRUE")


@functools.lru_cache(maxsize=1)
def _missing_build_requirements() -> tuple[str, ...]:
    return tuple(package for package in _BUILD_REQUIREMENTS if importlib.util.find_spec(package) is None)


@functools.lru_cache(maxsize=None)
def _shipped_inventory(path: Path) -> dict:
    """A catalogue inventory, read once per process: a run over many configs of one model reads it once."""
    return load_inventory(path.read_bytes())


