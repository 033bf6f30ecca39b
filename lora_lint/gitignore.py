"""Git's ignore rules: `.gitignore` files from the work tree's root down, and `.git/info/exclude`.

Semantics are git's (gitignore(5)): the last matching pattern wins, a deeper `.gitignore` overrides a higher one,
`.git/info/exclude` ranks below every `.gitignore`; `!` re-includes, a trailing `/` matches directories only, a
pattern with a `/` before its end is anchored to its file's directory, `**` crosses directories. A file inside an
ignored directory is ignored (git cannot re-include it), which the walk gets by not entering that directory.
tests/test_discovery.py checks this against `git ls-files` itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern
    negated: bool
    directory_only: bool
    anchored: bool  # matched against the path below its base directory, not against the last component


def _translate(glob: str) -> str:
    """A gitignore glob (without `!`, leading or trailing `/`) as a regex over `/`-separated paths."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i) and (i == 0 or glob[i - 1] == "/"):
            out += "(?:.*/)?"
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out += "/.*"
            i += 3
        elif glob[i] == "*":
            while i < len(glob) and glob[i] == "*":
                i += 1
            out += "[^/]*"
        elif glob[i] == "?":
            out += "[^/]"
            i += 1
        elif glob[i] == "[":
            end = glob.find("]", i + 2 if glob.startswith(("[!", "[^"), i) else i + 1)
            if end == -1:
                out += re.escape("[")
                i += 1
                continue
            body = glob[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out += "[" + ("^/" if negate else "") + body.replace("\\", "\\\\") + "]"
            i = end + 1
        elif glob[i] == "\\" and i + 1 < len(glob):
            out += re.escape(glob[i + 1])
            i += 2
        else:
            out += re.escape(glob[i])
            i += 1
    return out


def parse(text: str) -> list[_Pattern]:
    patterns = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        # Trailing spaces are dropped unless escaped with a backslash.
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        line = stripped
        negated = line.startswith("!")
        if negated or line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        directory_only = line.endswith("/") and not line.endswith("\\/")
        line = line.rstrip("/") if directory_only else line
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        try:
            regex = re.compile(_translate(line) + r"\Z", re.S)
        except re.error:
            continue  # git ignores a pattern it cannot read, too
        patterns.append(_Pattern(regex, negated, directory_only, anchored))
    return patterns


def _read(path: Path) -> list[_Pattern]:
    try:
        return parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def work_tree_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds `.git` (a directory, or a file for worktrees)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


class GitIgnore:
    """Ignore decisions for paths inside one git work tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_directory: dict[Path, list[_Pattern]] = {}
        info = root / ".git" / "info" / "exclude"
        self._exclude = _read(info) if info.is_file() else []

    def _patterns_in(self, directory: Path) -> list[_Pattern]:
        if directory not in self._by_directory:
            self._by_directory[directory] = _read(directory / ".gitignore")
        return self._by_directory[directory]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether git ignores `path` itself (an absolute path below the root), not looking at its parents."""
        relative = path.relative_to(self.root).as_posix()
        decision = _decide(self._exclude, relative, is_dir, None)
        parts = relative.split("/")
        for depth in range(len(parts)):
            base = self.root.joinpath(*parts[:depth])
            below = "/".join(parts[depth:])
            decision = _decide(self._patterns_in(base), below, is_dir, decision)
        return bool(decision)

    def ignored_with_parents(self, path: Path) -> bool:
        """Whether `path` or any directory between it and the root is ignored (a file named explicitly)."""
        relative = path.relative_to(self.root)
        for depth in range(1, len(relative.parts)):
            if self.ignored(self.root.joinpath(*relative.parts[:depth]), True):
                return True
        return self.ignored(path, path.is_dir())


def _decide(patterns: list[_Pattern], relative: str, is_dir: bool, decision: bool | None) -> bool | None:
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if pattern.directory_only and not is_dir:
            continue
        if pattern.regex.match(relative if pattern.anchored else name):
            decision = not pattern.negated
    return decision
