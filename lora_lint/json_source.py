"""Positions for JSON files without the YAML machinery: a node tree with the spans ruamel.yaml's composer gives the
same text, built in a fraction of its time (an adapter_config.json costs ~0.2 ms instead of ~5 ms).

Only called on text `json.loads` accepted, so the scanner need not report errors. Values are typed as `json.loads`
types them, which is how PEFT reads adapter_config.json. Lines and columns count as ruamel.yaml's reader does
(characters; `\\r\\n`, `\\r`, `\\n`, NEL, LS and PS end a line), which tests/test_json_source.py checks node by node
against ruamel.yaml.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right

from lora_lint.diagnostics import Diagnostic, Position, Span
from lora_lint.limits import Limits

_TOKEN = re.compile(r"""[ \t\n\r]*(?:([{}\[\]:,])|("(?:[^"\\]|\\.)*")|([^ \t\n\r{}\[\]:,]+))""", re.S)
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class OutsideLimits(Exception):
    """The document crosses one of the file limits: the composer, which reports limits, must read it instead."""


def build_json_tree(text: str, limits: Limits):
    """(root Node, diagnostics) for valid JSON text; diagnostics are duplicate keys (LL002). Nodes carry their
    offsets in `text` (start, end exclusive), as the YAML composer's do, for fixes. Raises OutsideLimits past a
    limit on nodes, nesting or entries."""
    from lora_lint.source import Node, duplicate_key

    starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    def position(offset: int) -> Position:
        line = bisect_right(starts, offset)
        return Position(line, offset - starts[line - 1] + 1)

    diagnostics: list[Diagnostic] = []
    stack: list[tuple[Node, dict | None]] = []  # open containers, with the keys seen so far for maps
    pending_key: list[Node | None] = []  # per open map: the key waiting for its value
    root = None
    offset = 0
    nodes = 0
    while True:
        match = _TOKEN.match(text, offset)
        if match is None:
            break
        offset = match.end()
        start = match.start(match.lastindex)
        punctuation, string, bare = match.group(1), match.group(2), match.group(3)
        node = None
        if punctuation not in (":", ",", "}", "]"):
            nodes += 1
            if nodes > limits.max_nodes or len(stack) >= limits.max_depth:
                raise OutsideLimits
        if punctuation in ("{", "["):
            container = Node("map" if punctuation == "{" else "seq", Span(position(start), position(start + 1)),
                             start=start)
            stack.append((container, {} if punctuation == "{" else None))
            pending_key.append(None)
            continue
        if punctuation in ("}", "]"):
            node, _ = stack.pop()
            pending_key.pop()
            node.span = Span(node.span.start, position(offset))
            node.end = offset
        elif punctuation is not None:
            continue  # `:` and `,`
        else:
            literal = string if string is not None else bare
            value = json.loads(literal)
            node = Node("scalar", Span(position(start), position(offset)), value=value,
                        text=value if string is not None else literal, quoted=string is not None, start=start,
                        end=offset)
        if not stack:
            root = node
            continue
        parent, seen = stack[-1]
        if len(parent.items) >= limits.max_list_entries or len(parent.pairs) >= limits.max_mapping_keys:
            raise OutsideLimits
        if parent.kind == "seq":
            parent.items.append(node)
        elif pending_key[-1] is None:
            pending_key[-1] = node
        else:
            key = pending_key[-1]
            pending_key[-1] = None
            name = str(key.value)
            if name in seen:
                diagnostics.append(duplicate_key(name, seen[name], key))
            seen[name] = key
            parent.pairs.append((key, node))
    return root, diagnostics
