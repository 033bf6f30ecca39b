"""Writing a fixed file back safely, and showing the change as a unified diff."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class ChangedOnDisk(Exception):
    """The file is no longer what was read and fixed: writing would lose someone else's edit."""


def replace_if_unchanged(path: Path, expected: bytes, data: bytes) -> None:
    """Replace the file's bytes `expected` with `data` in one rename, keeping its mode bits. A symlink's target is
    written, and the link kept."""
    import tempfile

    target = Path(os.path.realpath(path))
    mode = stat.S_IMODE(target.stat().st_mode)
    if target.read_bytes() != expected:
        raise ChangedOnDisk(f"{path}: changed on disk since it was read; not overwritten")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".lora-lint")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def unified_diff(path: str, before: str, after: str) -> str:
    """`diff -u` of two texts, line endings kept as they are, with git's marker for a missing final line break."""
    import difflib

    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
