"""Reading files lora-lint did not write: regular files only, never more than a cap.

A path under lint, a settings file, a cache entry or a model's config.json may be a FIFO (open blocks until a
writer comes), a device such as /dev/zero (a read never ends) or a huge file. Each is opened without blocking,
checked to be a regular file on the open descriptor (no race with a swapped path) and read up to its cap.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_CHUNK = 1 << 20


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a directory."""


class FileTooLarge(OSError):
    """The file holds more bytes than the caller's cap."""


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of `path`, at most `limit` of them. Raises NotRegularFile, FileTooLarge or the OSError of the
    open or read."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, f"not a regular file ({_kind(mode)})", str(path))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileTooLarge(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a plain file"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename, so a reader never sees half a file."""
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
