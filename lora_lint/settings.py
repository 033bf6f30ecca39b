"""`[tool.lora-lint]` in pyproject.toml, or `.lora-lint.toml`: the nearest one to a linted file wins."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lora_lint.diagnostics import Severity
from lora_lint.files import read_regular_file
from lora_lint.limits import DEFAULT_LIMITS, Limits, LimitsError, limits_from_table
from lora_lint.registry import UnknownRuleError, all_rules, expand_selector


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


# Glob tokens. A pattern is matched by running all its states over the path at once (an NFA), never by
# backtracking: `**/**/**/*a` over a long path costs path length x pattern length, not exponential time.
_ANY_RUN, _SEGMENT_RUN, _ONE = "**", "*", "?"
_DIRS, _DIRS_INSIDE = "**/", "**/..."  # `**/`: nothing, or anything that ends with a `/` (two states)


def glob_match(relative_path: str, pattern: str) -> bool:
    """`*` stays within a directory, `**` crosses them; a leading `/` anchors the pattern to the settings root,
    otherwise it may match at any depth. A match on a directory covers everything below it."""
    return _glob_matcher(pattern)(relative_path.lstrip("/"))


@functools.lru_cache(maxsize=1024)
def _glob_matcher(pattern: str):
    anchored = pattern.startswith("/")
    tokens: list[str] = [] if anchored else [_DIRS, _DIRS_INSIDE]  # unanchored: may start after any directory
    i = 1 if anchored else 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            token, i = _DIRS, i + 3
        elif pattern.startswith("**", i):
            token, i = _ANY_RUN, i + 2
        elif pattern[i] in "*?":
            token, i = pattern[i], i + 1
        else:
            token, i = "=" + pattern[i], i + 1
        if token in (_DIRS, _ANY_RUN) and tokens and tokens[-1] in (token, _DIRS_INSIDE if token == _DIRS else None):
            continue  # a repeated wildcard matches what one does
        tokens.extend([_DIRS, _DIRS_INSIDE] if token == _DIRS else [token])
    end, below = len(tokens), len(tokens) + 1  # below: past a matched directory, anything goes

    def closure(states: set[int]) -> set[int]:
        pending = list(states)
        while pending:
            state = pending.pop()
            token = tokens[state] if state < end else None
            following = ((state + 1, state + 2) if token == _DIRS else
                         (state + 1,) if token in (_ANY_RUN, _SEGMENT_RUN) else ())  # these may match nothing
            for successor in following:
                if successor not in states:
                    states.add(successor)
                    pending.append(successor)
        return states

    def step(state: int, char: str) -> tuple[int, ...]:
        if state == below:
            return (below,)
        if state == end:
            return (below,) if char == "/" else ()
        token = tokens[state]
        if token == _DIRS:
            return ()  # only through its inside state
        if token == _DIRS_INSIDE:
            return (state, state + 1) if char == "/" else (state,)
        if token == _ANY_RUN:
            return (state,)
        if token == _SEGMENT_RUN:
            return (state,) if char != "/" else ()
        if token == _ONE:
            return (state + 1,) if char != "/" else ()
        return (state + 1,) if char == token[1] else ()

    def matches(path: str) -> bool:
        states = closure({0})
        for char in path:
            states = closure({following for state in states for following in step(state, char)})
            if not states:
                return False
        return end in states or below in states

    return matches


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
        from lora_lint.trainers import TRAINERS

        if table["dialect"] not in TRAINERS:
            raise SettingsError(f"{source}: dialect must be one of {', '.join(TRAINERS)}")
        settings.dialect = table["dialect"]
    if "peft-version" in table:
        version = table["peft-version"]
        if not isinstance(version, str):
            # TOML reads `0.10` as the float 0.1: the version meant is lost before it can be checked.
            raise SettingsError(
                f"{source}: peft-version must be a quoted string: TOML reads the bare number as the "
                f"{type(version).__name__} {version!r}, which drops what it cannot hold (0.10 becomes 0.1); "
                f"write it as you mean it, e.g. peft-version = \"0.10.0\"")
        settings.peft_version = parse_version(version, f"{source}: peft-version")
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


MAX_SETTINGS_BYTES = 4 * 1024 * 1024


def _table_in(path: Path) -> dict | None:
    # tomllib only when a settings file exists: most lints have none, and the hook path stays lighter.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        data = tomllib.loads(read_regular_file(path, MAX_SETTINGS_BYTES).decode("utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: invalid TOML: {exc}") from None
    except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits; arrays nested too deep
        raise SettingsError(f"{path}: invalid TOML: {type(exc).__name__}: {str(exc)[:200]}") from None
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise SettingsError(f"{path}: `tool` must be a table ([tool.lora-lint]), not {type(tool).__name__}")
    table = tool.get("lora-lint")
    if table is not None and not isinstance(table, dict):
        raise SettingsError(f"{path}: `tool.lora-lint` must be a table, not {type(table).__name__}")
    return table


def settings_for_directory(directory: Path) -> Settings:
    for folder in (directory, *directory.parents):
        for name in SETTINGS_FILES:
            candidate = folder / name
            if candidate.is_file():
                table = _table_in(candidate)
                if table is not None:
                    return settings_from_table(table, candidate, folder)
    return Settings(root=Path.cwd())
