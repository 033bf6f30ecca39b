"""Writing the report to stdout, which may be closed early (`| head`), closed from the start (`>&-`), full
(/dev/full) or strict about its encoding. None of these is an internal error, and none may change the exit code:
that says what was found, whether or not the report could be shown.
"""

from __future__ import annotations

import os
import sys


def write_stdout(text: str) -> bool:
    """Write `text` to stdout. Returns False when it could not be written, which is said on stderr. A reader that
    went away early (a broken pipe: `| head`) is normal: quiet, and True."""
    stream = sys.stdout
    if stream is None:  # Python sets it to None when the process starts with stdout closed
        _warn("stdout is closed")
        return False
    try:
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            # Characters the terminal's encoding lacks are escaped, never an error (text formats have already
            # escaped control characters and surrogates).
            stream.flush()
            buffer.write(text.encode(stream.encoding or "utf-8", errors="backslashreplace"))
            buffer.flush()
        else:
            stream.write(text)
            stream.flush()
        return True
    except BrokenPipeError:
        _silence_stdout()
        return True
    except (OSError, ValueError) as exc:  # ENOSPC on /dev/full, EBADF, or a stream closed under us
        _silence_stdout()
        reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc)
        _warn(f"could not write to stdout: {reason}")
        return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is still buffered cannot fail again
    (it would print a traceback and turn the exit code into 120)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _warn(message: str) -> None:
    try:
        print(f"lora-lint: {message}", file=sys.stderr)
    except (OSError, ValueError, AttributeError):
        pass  # stderr is gone too: the exit code is all that is left

