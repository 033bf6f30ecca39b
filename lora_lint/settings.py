"""`[tool.lora-lint]` in pyproject.toml, or `.lora-lint.toml`: the nearest one to a linted file wins."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lora_lint.diagnostics import Severity
from lora_lint.limits import DEFAULT_LIMITS, Limits, LimitsError, limits_from_table
from lora_lint.registry import UnknownRuleError, all_rules, expand_selector

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS_FILES = (".lora-lint.toml", "pyproject.toml")
_KNOWN_KEYS = {"select", "ignore", "exclude", "severity", "per-file-ignores", "models", "dialect", "peft-version",
               "limits"}


class SettingsError(ValueError):
    """A settings file or command-line option that cannot be applied (exit code 2)."""


@dataclass
class Settings:
    select: set[str] = field(default_factory=lambda: set(all_rules()))
    ignore: set[str] = field(default_factory=set)
    exclude: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: list[tuple[str, set[str]]] = field(default_factory=list)
    models: list[tuple[str, str]] = field(default_factory=list)  # (glob, model id or path)
    dialect: str | None = None
    peft_version: str | None = None  # the PEFT release the training machine runs
    limits: Limits = DEFAULT_LIMITS  # bounds on what one file may cost (lora_lint/limits.py)
    source: Path | None = None  # the settings file these came from
    root: Path = field(default_factory=Path.cwd)  # globs are relative to this directory

    def enabled(self, code: str, relative_path: str) -> bool:
        if code not in self.select or code in self.ignore:
            return False
        return not any(code in codes and glob_match(relative_path, pattern)
                       for pattern, codes in self.per_file_ignores)

    def severity_of(self, code: str) -> Severity:
        return self.severity.get(code, all_rules()[code].severity)

    def model_for(self, relative_path: str) -> str | None:
        return next((model for pattern, model in self.models if glob_match(relative_path, pattern)), None)

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def excluded(self, path: Path) -> bool:
        relative = self.relative(path)
        return any(glob_match(relative, pattern) for pattern in self.exclude)

    def describe(self) -> str:
        rules = all_rules()
        lines = [f"settings file: {self.source or '(none; defaults)'}", f"root: {self.root}"]
        lines.append("enabled rules: " + ", ".join(sorted(self.select - self.ignore)))
        if self.ignore:
            lines.append("ignored rules: " + ", ".join(sorted(self.ignore)))
        for code, severity in sorted(self.severity.items()):
            lines.append(f"severity: {code} [{rules[code].name}] = {severity.value}")
        for pattern, codes in self.per_file_ignores:
            lines.append(f"per-file-ignores: {pattern} -> {', '.join(sorted(codes))}")
        for pattern in self.exclude:
            lines.append(f"exclude: {pattern}")
        for pattern, model in self.models:
            lines.append(f"model: {pattern} -> {model}")
        if self.dialect:
            lines.append(f"dialect: {self.dialect}")
        if self.peft_version:
            lines.append(f"peft-version: {self.peft_version}")
        return "\n".join(lines)


def glob_match(relative_path: str, pattern: str) -> bool:
    """`*` stays within a directory, `**` crosses them; a leading `/` anchors the pattern to the settings root,
    otherwise it may match at any depth. A match on a directory covers everything below it."""
    anchored = pattern.startswith("/")
    regex = ""
    i = 1 if anchored else 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.fullmatch(prefix + regex + "(?:/.*)?", relative_path.lstrip("/")) is not None


def _codes(value: object, where: str) -> set[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{where} must be a list of rule codes or names")
    codes: set[str] = set()
    for selector in value:
        try:
            codes |= expand_selector(selector)
        except UnknownRuleError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    return codes


def _string_map(table: object, where: str) -> dict[str, object]:
    if not isinstance(table, dict):
        raise SettingsError(f"{where} must be a table")
    return table


def settings_from_table(table: dict, source: Path | None, root: Path) -> Settings:
    unknown = set(table) - _KNOWN_KEYS
    if unknown:
        raise SettingsError(f"{source}: unknown setting(s) {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(_KNOWN_KEYS))}")
    settings = Settings(source=source, root=root)
    if "select" in table:
        settings.select = _codes(table["select"], f"{source}: select")
    if "ignore" in table:
        settings.ignore = _codes(table["ignore"], f"{source}: ignore")
    if "exclude" in table:
        exclude = table["exclude"]
        if not isinstance(exclude, list) or not all(isinstance(p, str) for p in exclude):
            raise SettingsError(f"{source}: exclude must be a list of globs")
        settings.exclude = list(exclude)
    for selector, level in _string_map(table.get("severity", {}), f"{source}: severity").items():
        try:
            severity = Severity(level)
        except ValueError:
            raise SettingsError(f"{source}: severity of {selector} must be error, warning or info") from None
        for code in _codes(selector, f"{source}: severity"):
            settings.severity[code] = severity
    for pattern, selectors in _string_map(table.get("per-file-ignores", {}), f"{source}: per-file-ignores").items():
        settings.per_file_ignores.append((pattern, _codes(selectors, f"{source}: per-file-ignores.{pattern}")))
    for pattern, model in _string_map(table.get("models", {}), f"{source}: models").items():
        if not isinstance(model, str):
            raise SettingsError(f"{source}: models.{pattern} must be a model id or path")
        settings.models.append((pattern, model))
    if "dialect" in table:
        if table["dialect"] not in ("llmtune", "peft"):
            raise SettingsError(f"{source}: dialect must be llmtune or peft")
        settings.dialect = table["dialect"]
    if "peft-version" in table:
        settings.peft_version = parse_version(table["peft-version"], f"{source}: peft-version")
    if "limits" in table:
        try:
            settings.limits = limits_from_table(table["limits"], f"{source}: limits")
        except LimitsError as exc:
            raise SettingsError(str(exc)) from None
    return settings


def parse_version(value: object, where: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(str(value)))
    except InvalidVersion:
        raise SettingsError(f"{where}: `{value}` is not a version number") from None


def _table_in(path: Path) -> dict | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        return data.get("tool", {}).get("lora-lint")
    return data


def settings_for_directory(directory: Path) -> Settings:
    for folder in (directory, *directory.parents):
        for name in SETTINGS_FILES:
            candidate = folder / name
            if candidate.is_file():
                table = _table_in(candidate)
                if table is not None:
                    return settings_from_table(table, candidate, folder)
    return Settings(root=Path.cwd())
