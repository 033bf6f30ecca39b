"""Text from a linted file (values, keys, snippets) and file names reach the terminal and CI logs: a newline there
forges an extra report line, ESC and C1 characters drive the terminal, bidi controls reorder what is shown, and a
lone surrogate cannot be encoded at all. Text formats print every such character as a visible escape instead.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates, surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 file name, as Python's surrogateescape carries it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control, bidi and surrogate character written as a backslash escape."""
    return _UNPRINTABLE.sub(_visible, text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(value):
    """`value` (a JSON document) with lone surrogates replaced by U+FFFD: JSON text may escape them, but strict
    parsers (SARIF consumers among them) reject a lone surrogate escape."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {valid_unicode(key): valid_unicode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [valid_unicode(item) for item in value]
    return value
