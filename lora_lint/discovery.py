"""Which files `check` lints: files named on the command line as given, directories walked for config files.

The walk skips what is never a project's own config: hidden directories, virtualenvs (any directory holding a
`pyvenv.cfg`), `site-packages`, `node_modules`, build output; and, inside a git work tree, whatever git ignores
(`.gitignore` files and `.git/info/exclude`), unless `respect_gitignore` is off. As in ruff, files named explicitly
are linted even when excluded, unless `force_exclude` is on (pre-commit names every changed file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


CONFIG_SUFFIXES = (".yml", ".yaml", ".json")
SKIPPED_DIRECTORIES = frozenset({
    "node_modules", "site-packages", "build", "dist", "venv", "__pycache__", "__pypackages__", "_build", "buck-out",
})
STDIN = "-"


@dataclass(frozen=True)
class Candidate:
    path: Path
    explicit: bool  # named on the command line (so a non-config or a missing file is reported)


class _IgnoreRules:
    """git's ignore rules for every work tree the walk enters, looked up once per tree."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._trees: dict[Path, GitIgnore | None] = {}

    def for_path(self, path: Path):
        """The GitIgnore of the work tree holding `path`, or None outside one (or when disabled)."""
        if not self.enabled:
            return None
        from lora_lint.gitignore import GitIgnore, work_tree_root  # only when a directory is walked

        root = work_tree_root(path if path.is_dir() else path.parent)
        if root is None:
            return None
        if root not in self._trees:
            self._trees[root] = GitIgnore(root)
        return self._trees[root]


def skipped_directory(path: Path) -> bool:
    name = path.name
    return name.startswith(".") or name in SKIPPED_DIRECTORIES or (path / "pyvenv.cfg").is_file()


def discover(paths: list[str], settings_for, force_exclude: bool, respect_gitignore: bool = True):
    """Yield a Candidate per file to lint, in command-line order, each once. A path that does not exist is yielded
    as explicit, so that linting it reports LL003 while the other paths are still linted."""
    seen: set[Path] = set()
    ignore_rules = _IgnoreRules(respect_gitignore)
    for raw in paths:
        path = Path(raw)
        if raw == STDIN:
            yield Candidate(path, True)
        elif path.is_dir():
            yield from _walk(path, settings_for, ignore_rules, seen)
        elif path not in seen:
            seen.add(path)
            if path.exists() and force_exclude and _excluded_explicit(path, settings_for, ignore_rules):
                continue
            yield Candidate(path, True)


def _excluded_explicit(path: Path, settings_for, ignore_rules: _IgnoreRules) -> bool:
    if settings_for(path).excluded(path):
        return True
    absolute = path.resolve()
    git = ignore_rules.for_path(absolute)
    return git is not None and git.ignored_with_parents(absolute)


def _walk(top: Path, settings_for, ignore_rules: _IgnoreRules, seen: set[Path]):
    top_absolute = top.resolve()
    for folder, dirnames, filenames in os.walk(top):
        absolute = top_absolute / os.path.relpath(folder, top)
        git = ignore_rules.for_path(absolute)
        dirnames[:] = [name for name in sorted(dirnames) if not skipped_directory(absolute / name)
                       and not (git is not None and git.ignored(absolute / name, True))]
        for filename in sorted(filenames):
            if not filename.lower().endswith(CONFIG_SUFFIXES):
                continue
            candidate = Path(folder) / filename
            if candidate in seen:
                continue
            seen.add(candidate)
            if git is not None and git.ignored(absolute / filename, False):
                continue
            if not settings_for(candidate).excluded(candidate):
                yield Candidate(candidate, False)
