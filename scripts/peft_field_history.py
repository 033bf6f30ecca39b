"""Record which `LoraConfig` keywords each PEFT release accepts.

Writes `lora_lint/data/peft_lora_fields.json`, which lets the linter say
"key `use_dora` needs PEFT >= 0.9.0" without importing peft at lint time.

For the last patch release of every minor series from 0.3.0 on (plus the
newest release), the wheel is downloaded with pip and read with `ast` only:
the downloaded code is never imported or executed.

Names are resolved the way `from peft import LoraConfig` resolves them, by
following the import statements from `peft/__init__.py`, rather than by
opening fixed file paths. Some wheels (0.5.0, 0.6.2) ship stale copies of
moved modules, e.g. 0.6.2 has both `peft/tuners/lora.py` and the package
`peft/tuners/lora/`; only the import chain tells which one is live.

Usage: python scripts/peft_field_history.py
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

OLDEST_SCANNED = Version("0.2.0")
REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_PATH = REPO_ROOT / "lora_lint" / "data" / "peft_lora_fields.json"
# Kept across runs so that a rerun does not download the wheels again.
WHEEL_CACHE_DIR = Path(tempfile.gettempdir()) / "lora-lint-peft-wheels"

# Base classes that come from outside peft (transformers / huggingface_hub).
# They are not dataclasses, so they add no keywords; any other base that
# cannot be found inside the wheel stops the script instead of being skipped.
EXTERNAL_NON_DATACLASS_BASES = {"PushToHubMixin"}


class ScanError(RuntimeError):
    """The wheel does not look the way this script expects."""


# --------------------------------------------------------------------------
# Which releases to scan
# --------------------------------------------------------------------------


def released_versions() -> list[Version]:
    """All final (non pre-release) versions of peft on the package index."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "peft"],
        check=True,
        capture_output=True,
        text=True,
    )
    prefix = "Available versions:"
    for line in result.stdout.splitlines():
        if line.strip().startswith(prefix):
            listed = line.strip().removeprefix(prefix).split(",")
            versions = [Version(item.strip()) for item in listed]
            return sorted(v for v in versions if not v.is_prerelease)
    raise ScanError(f"no '{prefix}' line in `pip index versions peft` output:\n{result.stdout}")


def versions_to_scan(released: list[Version]) -> list[Version]:
    """Every release from OLDEST_SCANNED on: about 35 small wheels, and the history is exact to the release."""
    return sorted(version for version in released if version >= OLDEST_SCANNED)


def download_wheel(version: Version) -> Path:
    """Path of the peft wheel for `version`, downloading it on first use."""
    WHEEL_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cached = sorted(WHEEL_CACHE_DIR.glob(f"peft-{version}-*.whl"))
    if not cached:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--quiet", f"peft=={version}", "-d", str(WHEEL_CACHE_DIR),
            ],
            check=True,
        )
        cached = sorted(WHEEL_CACHE_DIR.glob(f"peft-{version}-*.whl"))
    if not cached:
        raise ScanError(f"pip download of peft=={version} left no wheel in {WHEEL_CACHE_DIR}")
    return cached[0]


# --------------------------------------------------------------------------
# Finding classes inside a wheel without importing it
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundClass:
    module: str  # dotted module name, e.g. "peft.tuners.lora.config"
    node: ast.ClassDef


def module_level_statements(body: list[ast.stmt]):
    """Statements run at import time, including those inside if/try blocks
    (peft guards optional backends with `if is_..._available():`)."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from module_level_statements(statement.body)
            yield from module_level_statements(statement.orelse)
        elif isinstance(statement, ast.Try):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from module_level_statements(block)
            for handler in statement.handlers:
                yield from module_level_statements(handler.body)


class WheelModules:
    """The Python modules of one peft wheel, parsed on demand."""

    def __init__(self, wheel_path: Path):
        with zipfile.ZipFile(wheel_path) as wheel:
            self._sources = {
                name: wheel.read(name).decode("utf-8") for name in wheel.namelist() if name.endswith(".py")
            }
        self._parsed: dict[str, ast.Module] = {}

    def _file_of(self, module: str) -> str | None:
        # A package directory wins over a same-named .py file, as in Python's
        # own import system; this is what makes stale module copies dead.
        stem = module.replace(".", "/")
        for candidate in (f"{stem}/__init__.py", f"{stem}.py"):
            if candidate in self._sources:
                return candidate
        return None

    def _tree(self, module: str) -> ast.Module:
        if module not in self._parsed:
            path = self._file_of(module)
            if path is None:
                raise ScanError(f"module {module} is not in the wheel")
            self._parsed[module] = ast.parse(self._sources[path], filename=path)
        return self._parsed[module]

    def _absolute_module(self, importing_module: str, node: ast.ImportFrom) -> str:
        if node.level == 0:
            return node.module or ""
        importing_file = self._file_of(importing_module) or ""
        package_parts = importing_module.split(".")
        if not importing_file.endswith("__init__.py"):
            package_parts = package_parts[:-1]
        base_parts = package_parts[: len(package_parts) - (node.level - 1)]
        return ".".join(base_parts + ([node.module] if node.module else []))

    def find_class(self, module: str, name: str) -> FoundClass | None:
        """The class that `from <module> import <name>` would give, or None
        if the name leads outside peft."""
        if module.split(".")[0] != "peft" or self._file_of(module) is None:
            return None
        statements = list(module_level_statements(self._tree(module).body))
        for statement in statements:
            if isinstance(statement, ast.ClassDef) and statement.name == name:
                return FoundClass(module, statement)
        for statement in statements:
            if isinstance(statement, ast.ImportFrom):
                for alias in statement.names:
                    if (alias.asname or alias.name) == name:
                        source = self._absolute_module(module, statement)
                        return self.find_class(source, alias.name)
        for statement in statements:
            if isinstance(statement, ast.ImportFrom) and any(alias.name == "*" for alias in statement.names):
                found = self.find_class(self._absolute_module(module, statement), name)
                if found is not None:
                    return found
        return None

    def require_class(self, module: str, name: str) -> FoundClass:
        found = self.find_class(module, name)
        if found is None:
            raise ScanError(f"cannot find class {name} starting from {module}")
        return found


# --------------------------------------------------------------------------
# Reading dataclass fields, enum members and Literal values from the AST
# --------------------------------------------------------------------------


def name_of(expression: ast.expr) -> str | None:
    """`x` for `x` and `mod.x`, the way decorators and bases are written."""
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        return expression.attr
    return None


def is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if name_of(target) == "dataclass":
            return True
    return False


def annotation_tree(annotation: ast.expr) -> ast.expr:
    """The annotation as an expression, parsing it if it was written as a string."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return ast.parse(annotation.value, mode="eval").body
    return annotation


def annotation_head(annotation: ast.expr) -> str | None:
    """`ClassVar` for `ClassVar[int]`, `InitVar` for `InitVar`, and so on."""
    tree = annotation_tree(annotation)
    return name_of(tree.value if isinstance(tree, ast.Subscript) else tree)


def declared_with_init_false(value: ast.expr | None) -> bool:
    """True for `field(..., init=False)`: such a field is not an __init__ keyword."""
    if not (isinstance(value, ast.Call) and name_of(value.func) == "field"):
        return False
    return any(
        keyword.arg == "init" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False
        for keyword in value.keywords
    )


def init_keyword_annotations(wheel: WheelModules, found: FoundClass) -> dict[str, ast.expr]:
    """The __init__ keywords of a dataclass, inherited ones included, each
    mapped to the annotation it was last declared with."""
    keywords: dict[str, ast.expr] = {}
    # Base classes first: a redeclaration in a subclass overrides the base's.
    for base in found.node.bases:
        base_name = name_of(base)
        base_class = wheel.find_class(found.module, base_name) if base_name else None
        if base_class is not None:
            keywords.update(init_keyword_annotations(wheel, base_class))
        elif base_name not in EXTERNAL_NON_DATACLASS_BASES:
            raise ScanError(f"unknown base class {ast.unparse(base)} of {found.node.name} in {found.module}")

    if any(isinstance(item, ast.FunctionDef) and item.name == "__init__" for item in found.node.body):
        raise ScanError(f"{found.node.name} in {found.module} defines __init__, so its fields are not its keywords")
    if not is_dataclass(found.node):
        # Annotations in a class that is not itself a dataclass are not fields.
        return keywords

    for item in found.node.body:
        if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
            continue
        # ClassVar and the KW_ONLY marker are not keywords; an InitVar is one.
        if annotation_head(item.annotation) in ("ClassVar", "KW_ONLY"):
            continue
        name = item.target.id
        if declared_with_init_false(item.value):
            keywords.pop(name, None)
        else:
            keywords[name] = item.annotation
    return keywords


def literal_strings(annotation: ast.expr) -> list[str]:
    """The string values inside every `Literal[...]` of an annotation."""
    values: list[str] = []
    for node in ast.walk(annotation_tree(annotation)):
        if isinstance(node, ast.Subscript) and name_of(node.value) == "Literal":
            options = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            values.extend(
                option.value
                for option in options
                if isinstance(option, ast.Constant) and isinstance(option.value, str)
            )
    return values


def enum_members(node: ast.ClassDef) -> list[str]:
    """Names assigned in an Enum's body, i.e. its members."""
    members = []
    for item in node.body:
        if isinstance(item, ast.Assign):
            members.extend(
                target.id
                for target in item.targets
                if isinstance(target, ast.Name) and not target.id.startswith("_")
            )
    return members


@dataclass
class ReleaseSnapshot:
    version: Version
    keywords: list[str]
    task_types: list[str]
    init_lora_weights_values: list[str]
    bias_values: list[str]


def scan_release(version: Version) -> ReleaseSnapshot:
    wheel = WheelModules(download_wheel(version))
    lora_config = wheel.require_class("peft", "LoraConfig")
    task_type = wheel.require_class("peft", "TaskType")
    keywords = init_keyword_annotations(wheel, lora_config)

    def literal_values_of(keyword: str) -> list[str]:
        return literal_strings(keywords[keyword]) if keyword in keywords else []

    return ReleaseSnapshot(
        version=version,
        keywords=sorted(keywords),
        task_types=enum_members(task_type.node),
        init_lora_weights_values=literal_values_of("init_lora_weights"),
        bias_values=literal_values_of("bias"),
    )


# --------------------------------------------------------------------------
# Turning per-release snapshots into added/removed history
# --------------------------------------------------------------------------


def presence_history(present_per_release: list[tuple[Version, set[str]]]) -> dict[str, dict[str, str | None]]:
    """For each name: the first scanned release that has it ("added") and the
    first later scanned release that lacks it ("removed", None if still there).

    A name that disappears and comes back cannot be described by one
    added/removed pair, so that case stops the script rather than being
    written down wrongly.
    """
    history: dict[str, dict[str, str | None]] = {}
    for version, present in present_per_release:
        for name in present:
            entry = history.setdefault(name, {"added": str(version), "removed": None})
            if entry["removed"] is not None:
                raise ScanError(f"{name} was removed in {entry['removed']} and is back in {version}")
        for name, entry in history.items():
            if name not in present and entry["removed"] is None:
                entry["removed"] = str(version)
    return history


def main() -> None:
    scanned = versions_to_scan(released_versions())
    snapshots = []
    for version in scanned:
        print(f"scanning peft {version}", file=sys.stderr)
        snapshots.append(scan_release(version))

    newest = snapshots[-1]
    result = {
        "generated_by": "scripts/peft_field_history.py",
        "scan_policy": (
            "every release from 0.2.0 on; 'added'/'removed' name the first release with/without the name"
        ),
        "versions": [str(snapshot.version) for snapshot in snapshots],
        "fields": presence_history([(s.version, set(s.keywords)) for s in snapshots]),
        "task_types": presence_history([(s.version, set(s.task_types)) for s in snapshots]),
        "init_lora_weights": presence_history([(s.version, set(s.init_lora_weights_values)) for s in snapshots]),
        "bias": newest.bias_values,
    }
    OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT_PATH.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT_PATH.relative_to(REPO_ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
