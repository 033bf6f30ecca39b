"""Fixes built from node spans: what a rule calls to attach a fix to its finding.

Every helper edits only the text of the nodes it is given and returns None when it cannot do that exactly: a node
with no source text of its own, one reached through an alias or merge key (an edit would change every use), an
anchor or tag in the way, a multi-line or block scalar, or a layout it does not recognise. A missing fix is better
than an edit that touches anything else.
"""

from __future__ import annotations

import json
import re

from lora_lint.diagnostics import Applicability, Edit, Fix
from lora_lint.scalars import YAML11_BOOL, YAML11_FLOAT, YAML11_INT, YAML11_NULL
from lora_lint.source import Node

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE

_PLAIN_SAFE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_BLOCK_ITEM_PREFIX = re.compile(r"[ \t]*-[ \t]+")
_LINE_REST = re.compile(r"[ \t]*(?:#[^\r\n]*)?\r?")
_FLOW_SEPARATOR = re.compile(r"[ \t]*,[ \t\r\n]*")
# From a key's colon to its block value: line ends, blank or comment lines, the value's indentation.
_KEY_TO_BLOCK_VALUE = re.compile(r":[ \t]*(?:#[^\r\n]*)?\r?\n(?:[ \t]*(?:#[^\r\n]*)?\r?\n)*[ \t]*\Z")


def replace_scalar(ctx, node: Node, value: str, applicability: Applicability, message: str) -> Fix | None:
    """Write the string `value` in place of a scalar (a value or a key), in the scalar's own quoting style."""
    written = _scalar_source(ctx, node)
    if written is None:
        return None
    return _fix(Edit(node.start, node.end, _render_string(value, written[:1], ctx.parsed.is_json)),
                applicability, message)


def replace_with_literal(ctx, node: Node, literal: str, applicability: Applicability, message: str) -> Fix | None:
    """Write `literal` (a number as the loader should read it) in place of a scalar."""
    if _scalar_source(ctx, node) is None:
        return None
    return _fix(Edit(node.start, node.end, literal), applicability, message)


def wrap_in_list(ctx, node: Node, applicability: Applicability, message: str) -> Fix | None:
    """`q_proj` -> `[q_proj]`, keeping the scalar as written."""
    written = _scalar_source(ctx, node)
    if written is None:
        return None
    return _fix(Edit(node.start, node.end, f"[{written}]"), applicability, message)


def unwrap_single_item(ctx, seq: Node, applicability: Applicability, message: str) -> Fix | None:
    """`[all-linear]` (flow or block) -> `all-linear`: the one item, as written, becomes the whole value."""
    if seq.kind != "seq" or len(seq.items) != 1 or not _editable(seq):
        return None
    item = seq.items[0]
    written = _scalar_source(ctx, item)
    if written is None:
        return None
    text = ctx.parsed.text
    if text[seq.start] == "[" and text[seq.end - 1] == "]":
        return _fix(Edit(seq.start, seq.end, written), applicability, message)
    if text[seq.start] != "-" or not _BLOCK_ITEM_PREFIX.fullmatch(text[seq.start:item.start]):
        return None
    # Block style: the value moves up onto its key's line, after the colon.
    between = _KEY_TO_BLOCK_VALUE.search(text, max(0, seq.start - 4096), seq.start)
    if between is None:
        return None
    colon = between.start()
    if "#" not in between.group():
        return _fix(Edit(colon + 1, item.end, " " + written), applicability, message)
    line = _item_line(text, item)  # comments in between stay: the item's line goes, the value goes after the colon
    if line is None or "#" in text[item.end:line[1]]:
        return None
    return Fix((Edit(colon + 1, colon + 1, " " + written), Edit(*line, "")), applicability, message)


def remove_item(ctx, seq: Node, index: int, applicability: Applicability, message: str) -> Fix | None:
    """Remove one list item (not the first) with its separator: a block item's whole line, a flow item's `, x`."""
    if seq.kind != "seq" or not 0 < index < len(seq.items) or not _editable(seq):
        return None
    item, previous = seq.items[index], seq.items[index - 1]
    if _scalar_source(ctx, item) is None or not _editable(previous) or previous.end > item.start:
        return None
    text = ctx.parsed.text
    if text[seq.start] == "[":
        if not _FLOW_SEPARATOR.fullmatch(text[previous.end:item.start]):
            return None
        return _fix(Edit(previous.end, item.end, ""), applicability, message)
    line = _item_line(text, item)
    return None if line is None else _fix(Edit(*line, ""), applicability, message)


def _item_line(text: str, item: Node) -> tuple[int, int] | None:
    """The span of a block list item's whole line with its line break (for the last line of a file without a final
    line break, the break before it), when the line holds only `- item` and perhaps a comment."""
    line_start = text.rfind("\n", 0, item.start) + 1
    line_end = text.find("\n", item.end)
    line_end = len(text) if line_end == -1 else line_end
    if not _BLOCK_ITEM_PREFIX.fullmatch(text[line_start:item.start]) or not _LINE_REST.fullmatch(
            text[item.end:line_end]):
        return None
    if line_end < len(text):
        return line_start, line_end + 1
    start = line_start - 1
    if start > 0 and text[start - 1] == "\r":
        start -= 1
    return max(start, 0), line_end


def yaml_reads_as_string(value: str) -> bool:
    """Whether PyYAML (YAML 1.1) reads `value`, written plain, as this very string."""
    return not any(pattern.match(value) for pattern in (YAML11_BOOL, YAML11_INT, YAML11_FLOAT, YAML11_NULL))


def _fix(edit: Edit, applicability: Applicability, message: str) -> Fix:
    return Fix((edit,), applicability, message)


def _editable(node: Node) -> bool:
    return node.start >= 0 and node.end >= node.start and not node.shared


def _scalar_source(ctx, node: Node) -> str | None:
    """The scalar exactly as written on one line, or None when the node's text cannot be edited on its own."""
    if node.kind != "scalar" or not _editable(node) or node.end == node.start:
        return None
    written = ctx.parsed.text[node.start:node.end]
    if "\n" in written or "\r" in written:
        return None
    if node.quoted:
        quote = written[0]
        return written if quote in "'\"" and len(written) >= 2 and written[-1] == quote else None
    return written if written == node.text else None  # an anchor, a tag or a block scalar indicator in the way


def _render_string(value: str, quote: str, is_json: bool) -> str:
    if is_json or quote == '"':
        return json.dumps(value, ensure_ascii=False)
    if quote != "'" and _PLAIN_SAFE.fullmatch(value) and yaml_reads_as_string(value):
        return value
    return "'" + value.replace("'", "''") + "'"
