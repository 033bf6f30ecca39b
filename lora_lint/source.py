"""Read a config file into a tree of nodes that know their exact source spans.

Positions come from the YAML node tree (ruamel.yaml's composer), never from re-serialised text. Scalars in YAML
files are typed the way PyYAML types them (YAML 1.1: `yes` is a bool, `1e-4` is a string), because the toolkit and
most training scripts load their configs with `yaml.safe_load`; JSON files are typed as JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from lora_lint.diagnostics import Diagnostic, Position, Span
from lora_lint.limits import DEFAULT_LIMITS, Limits

# PyYAML's implicit resolvers (YAML 1.1), which decide what a plain scalar becomes.
_YAML11_BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
_YAML11_TRUE = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_YAML11_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))$"
)
_YAML11_INT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
)
_YAML11_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


@dataclass(eq=False)
class Node:
    """A YAML/JSON node: a mapping, a sequence or a scalar, with its span."""

    kind: str  # "map" | "seq" | "scalar"
    span: Span
    value: Any = None  # the typed value, for scalars
    text: str = ""  # the scalar as written (without quotes)
    quoted: bool = False
    pairs: list[tuple[Node, Node]] = field(default_factory=list)  # for maps, in source order
    items: list[Node] = field(default_factory=list)  # for sequences

    def get(self, key: str) -> Node | None:
        """The value node of `key` (the last one if the key is duplicated, as YAML loaders keep the last)."""
        found = None
        for key_node, value_node in self.pairs:
            if key_node.kind == "scalar" and str(key_node.value) == key:
                found = value_node
        return found

    def key_node(self, key: str) -> Node | None:
        found = None
        for key_node, _ in self.pairs:
            if key_node.kind == "scalar" and str(key_node.value) == key:
                found = key_node
        return found

    def to_python(self) -> Any:
        """The value as a YAML loader builds it (aliases become copies). Iterative: depth is the file's choice."""
        if self.kind == "scalar":
            return self.value
        result: Any = {} if self.kind == "map" else []
        pending = [(self, result)]
        while pending:
            node, out = pending.pop()
            children = ((_key_text(k), v) for k, v in node.pairs) if node.kind == "map" else enumerate(node.items)
            for slot, child in children:
                value = child.value if child.kind == "scalar" else {} if child.kind == "map" else []
                if node.kind == "map":
                    out[slot] = value
                else:
                    out.append(value)
                if child.kind != "scalar":
                    pending.append((child, value))
        return result

    def walk(self) -> Iterator[Node]:
        """Every node in document order (pre-order), aliased ones at each alias. Iterative, like to_python."""
        pending = [self]
        while pending:
            node = pending.pop()
            yield node
            children = [child for pair in node.pairs for child in pair] + node.items
            pending.extend(reversed(children))


def _key_text(node: Node) -> str:
    return str(node.value) if node.kind == "scalar" else node.text


@dataclass
class ParsedFile:
    path: str
    text: str | None  # None when the bytes could not be read as text
    root: Node | None
    diagnostics: list[Diagnostic]
    is_json: bool = False

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines() if self.text is not None else []


def parse_file(path: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    """Turn raw bytes into a node tree, or into diagnostics saying exactly why not."""
    if len(data) > limits.max_file_bytes:
        return ParsedFile(path, None, None, [_unreadable(
            f"file is {len(data) / 1024 / 1024:.1f} MiB; lora-lint reads config files up to "
            f"{limits.max_file_bytes / 1024 / 1024:g} MiB",
            "a LoRA config is a few kilobytes: check that this is the file you meant (`max-file-bytes`)",
        )])
    if b"\x00" in data[:8192]:
        return ParsedFile(path, None, None, [_unreadable(
            "binary file (contains NUL bytes), not a YAML or JSON config", "lint the config file itself"
        )])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return ParsedFile(path, None, None, [Diagnostic(
            "LL003", f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", Span.point(line, column),
            help="save the file as UTF-8; YAML and JSON loaders reject other encodings",
        )])
    is_json = path.lower().endswith(".json")
    return parse_text(path, text, is_json=is_json, limits=limits)


def _unreadable(message: str, help_text: str) -> Diagnostic:
    return Diagnostic("LL003", message, help=help_text)


def parse_text(path: str, text: str, *, is_json: bool = False, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if is_json:
        # YAML accepts what JSON loaders reject (trailing commas, comments, single quotes): ask JSON first.
        import json

        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return ParsedFile(path, text, None, [Diagnostic(
                "LL001", f"invalid JSON: {exc.msg}", Span.point(exc.lineno, exc.colno),
                help="json.load rejects this; check for trailing commas, comments and single quotes",
            )], is_json)
        except RecursionError:
            pass  # nested deeper than json's C decoder goes: the composer's depth limit reports it
    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = _scanner_class()
    composer = _Composer(yaml.resolver, is_json, limits)
    try:
        composer.compose(yaml.parse(text))
    except MarkedYAMLError as exc:
        return ParsedFile(path, text, None, [_syntax_error(exc, text)], is_json)
    except YAMLError as exc:
        return ParsedFile(path, text, None, [Diagnostic("LL001", f"invalid YAML: {exc}")], is_json)
    if not composer.documents:
        return ParsedFile(path, text, None, composer.diagnostics, is_json)
    if len(composer.documents) > 1:
        # Report at the `---` that starts the second document, where PyYAML's safe_load stops.
        lines = text.splitlines()
        start = composer.first_document_end.line - 1
        separator = next((i for i in range(start, len(lines)) if lines[i].startswith("---")),
                         composer.documents[1].line - 1)
        composer.diagnostics.append(Diagnostic(
            "LL001", f"file holds {len(composer.documents)} YAML documents; lora-lint and PyYAML's safe_load read one",
            Span.point(separator + 1, 1),
            help="keep one config per file",
        ))
    return ParsedFile(path, text, composer.root, composer.diagnostics, is_json)

def _scanner_class() -> type:
    """ruamel.yaml's scanner, with its two walks over the pending simple keys made O(1) amortised. The keys are kept
    in the order they were found (oldest first), and go stale oldest first, so both walks can stop at the first
    live key; unchanged, they cost O(nesting) per token and `[[[[...` a few KB long takes seconds."""
    from ruamel.yaml.scanner import Scanner, ScannerError

    class BoundedScanner(Scanner):
        def next_possible_simple_key(self) -> Any:
            for key in self.possible_simple_keys.values():
                return key.token_number
            return None

        def stale_possible_simple_keys(self) -> None:
            for level in list(self.possible_simple_keys):
                key = self.possible_simple_keys[level]
                if key.line == self.reader.line and self.reader.index - key.index <= 1024:
                    return
                if key.required:
                    raise ScannerError("while scanning a simple key", key.mark, "could not find expected ':'",
                                       self.reader.get_mark())
                del self.possible_simple_keys[level]

    return BoundedScanner


def _syntax_error(exc: Any, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "syntax error"
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    help_text = None
    if "\\t" in problem or "'\\t'" in problem:
        help_text = "YAML does not allow tabs for indentation: indent with spaces"
    elif "unknown escape character" in problem:
        help_text = (
            "inside double quotes a backslash starts an escape sequence; "
            "use single quotes ('...') to write a backslash literally"
        )
    elif exc.context:
        help_text = f"{exc.context}" + (
            f" (line {exc.context_mark.line + 1})" if exc.context_mark is not None else ""
        )
    return Diagnostic("LL001", f"invalid YAML: {problem}", Span.point(line, column), help=help_text)


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


@dataclass(eq=False)
class _Open:
    """A mapping or sequence being composed."""

    node: Node
    anchor: str | None
    children: list[Node] = field(default_factory=list)  # keys and values alternate in a mapping
    entries: int = 0  # list items or mapping keys seen, kept or not
    expect_value: bool = False  # in a mapping: the next child is a value
    first_dropped: Span | None = None  # past the entries limit: the rest is counted, not kept
    size: int = 1  # nodes this one expands to, aliases included


class _Composer:
    """Turns ruamel.yaml's parser events into Nodes, without recursion and within `Limits`.

    It does what ruamel.yaml's composer does (anchors, aliases as shared nodes, tag resolution), minus its
    recursion, and stops growing the tree where a limit is crossed: a collection nested too deep or an alias that
    would expand past the node limit reads as null, list items and mapping keys past their limits are dropped, and
    past the node limit the rest of the file is not read. Each becomes one `input-limit` diagnostic.
    """

    def __init__(self, resolver: Any, is_json: bool, limits: Limits) -> None:
        self.resolver = resolver
        self.is_json = is_json
        self.limits = limits
        self.diagnostics: list[Diagnostic] = []
        self.root: Node | None = None
        self.documents: list[Position] = []  # where each document's root starts
        self.first_document_end = Position(0, 0)
        self.anchors: dict[str, tuple[Node, int]] = {}  # anchor -> (node, expanded size)
        self.open_anchors: set[str] = set()  # anchors of collections not closed yet
        self.unread_anchors: set[str] = set()  # anchors inside parts the limits left out
        self.reported_anchors: set[str] = set()
        self.merge_keys: set[int] = set()  # ids of `<<` key nodes
        self.stack: list[_Open] = []
        self.skip_depth = 0  # > 0 while inside a collection being left out
        self.nodes = 0  # nodes read, kept or not
        self.expanded = 0  # nodes of the tree, aliases expanded
        self.aliases = 0
        self.stopped = False  # past a limit that ends reading

    def compose(self, events: Any) -> None:
        from ruamel.yaml.events import (
            AliasEvent, CollectionStartEvent, DocumentStartEvent, MappingStartEvent, ScalarEvent,
        )

        for event in events:
            if isinstance(event, (ScalarEvent, AliasEvent, CollectionStartEvent)):
                self.nodes += 1
                if self.nodes > self.limits.max_nodes:
                    self._stop(event, f"the file has more than {self.limits.max_nodes:,} nodes")
                    return
            if self.skip_depth:
                try:
                    self._skip(event)
                except _TooDeep:
                    self._stop(event, f"nesting deeper than {2 * self.limits.max_depth} levels")
                    return
            elif isinstance(event, DocumentStartEvent):
                self.anchors = {}
            elif isinstance(event, ScalarEvent):
                self._add_scalar(event)
            elif isinstance(event, AliasEvent):
                self._add_alias(event)
            elif isinstance(event, CollectionStartEvent):
                self._open(event, "map" if isinstance(event, MappingStartEvent) else "seq")
            elif type(event).__name__ in ("MappingEndEvent", "SequenceEndEvent"):
                self._close(_position(event.end_mark))

    # -- events ----------------------------------------------------------------------------------------------------

    def _skip(self, event: Any) -> None:
        from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, NodeEvent

        if isinstance(event, NodeEvent) and event.anchor is not None and not _is_alias(event):
            self._unread(event.anchor)
        if isinstance(event, CollectionStartEvent):
            self.skip_depth += 1
            if len(self.stack) + self.skip_depth > 2 * self.limits.max_depth:
                # The scanner's work per token grows with the nesting: do not follow it down.
                raise _TooDeep(event)
        elif isinstance(event, CollectionEndEvent):
            self.skip_depth -= 1

    def _add_scalar(self, event: Any) -> None:
        if self._dropped(event):
            return
        tag = event.ctag
        if tag is None or str(tag) == "!":
            from ruamel.yaml.nodes import ScalarNode

            tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)
        tag = str(tag)
        node = Node("scalar", Span(_position(event.start_mark), _position(event.end_mark)),
                    value=self._scalar_value(tag, event.value, event.style), text=event.value,
                    quoted=event.style in ("'", '"'))
        if tag == "tag:yaml.org,2002:merge":
            self.merge_keys.add(id(node))
        self._register(event.anchor, node, 1)
        self.expanded += 1
        self._attach(node, 1)

    def _add_alias(self, event: Any) -> None:
        from ruamel.yaml.composer import ComposerError

        if self._dropped(event):
            return
        name = event.anchor
        at = Span(_position(event.start_mark), _position(event.end_mark))
        if name in self.unread_anchors:
            self._attach_null(at)
            return
        if name not in self.anchors and name not in self.open_anchors:
            raise ComposerError(None, None, f"found undefined alias {name!r}", event.start_mark)
        self.aliases += 1
        if name in self.open_anchors:
            anchor_node = next(frame.node for frame in reversed(self.stack) if frame.anchor == name)
            self._limit_once(name, anchor_node.span, (
                f"recursive alias: `*{name}` (line {at.start.line}) refers to the node `&{name}` that contains it; "
                "PyYAML builds a structure that contains itself, which no trainer can use"
            ), "lora-lint reads that alias as null")
            self._attach_null(at)
            return
        node, size = self.anchors[name]
        if self.aliases > self.limits.max_aliases:
            self._limit_once("\0aliases", at, f"the file uses more than {self.limits.max_aliases:,} aliases",
                             "lora-lint reads the aliases past the limit as null (`max-aliases`)")
            self._attach_null(at)
            return
        if self.expanded + size > self.limits.max_nodes:
            self._limit_once("\0expansion", node.span, (
                f"`&{name}` expands to {size:,} nodes at each alias; at `*{name}` (line {at.start.line}) the file "
                f"would pass {self.limits.max_nodes:,} nodes (an alias bomb?)"
            ), "lora-lint reads that alias and later ones past the limit as null; a YAML loader would build every "
               "copy (`max-nodes`)")
            self._attach_null(at)
            return
        self.expanded += size
        self._attach(node, size)

    def _open(self, event: Any, kind: str) -> None:
        if self._dropped(event):
            self.skip_depth = 1
            return
        start = _position(event.start_mark)
        if len(self.stack) >= self.limits.max_depth:
            self._limit(Span(start, Position(start.line, start.column + 1)),
                        f"nesting deeper than {self.limits.max_depth} levels",
                        "lora-lint reads this value as null and does not look inside it (`max-depth`)")
            if event.anchor is not None:
                self._unread(event.anchor)
            self._attach_null(Span(start, Position(start.line, start.column + 1)))
            self.skip_depth = 1
            return
        self.expanded += 1
        frame = _Open(Node(kind, Span(start, start)), event.anchor)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
            self.anchors.pop(event.anchor, None)
        self.stack.append(frame)

    def _close(self, end: Position) -> None:
        frame = self.stack.pop()
        node = frame.node
        node.span = Span(node.span.start, end)
        if node.kind == "map":
            node.pairs = self._pairs(frame.children)
            limit, what, setting = self.limits.max_mapping_keys, "keys", "max-mapping-keys"
        else:
            node.items = frame.children
            limit, what, setting = self.limits.max_list_entries, "entries", "max-list-entries"
        if frame.first_dropped is not None:
            count = f"at least {frame.entries:,}" if self.stopped else f"{frame.entries:,}"
            self._limit(frame.first_dropped, f"{'mapping' if node.kind == 'map' else 'list'} with {count} "
                                       f"{what}; lora-lint reads the first {limit:,}",
                        f"the {what} from here on are not checked (`{setting}`)")
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
        self._register(frame.anchor, node, frame.size)
        self._attach(node, frame.size)

    def _stop(self, event: Any, why: str) -> None:
        """Past the node limit, or far past the depth limit: close what is open where reading stopped."""
        at = _position(event.start_mark)
        self.stopped = True
        self._limit(Span(at, Position(at.line, at.column + 1)), f"{why}; lora-lint stopped reading here",
                    "a LoRA config has a few dozen values, a few levels deep: check that this is the file you meant "
                    "(`max-nodes`, `max-depth`)")
        while self.stack:
            self._close(at)

    # -- building --------------------------------------------------------------------------------------------------

    def _dropped(self, event: Any) -> bool:
        """Count a child of the open collection; True when it is past that collection's limit (a mapping value goes
        where its key went)."""
        if not self.stack:
            return False
        frame = self.stack[-1]
        if frame.node.kind == "map":
            is_value = frame.expect_value
            frame.expect_value = not is_value
            if is_value:
                dropped = frame.first_dropped is not None
                if dropped and not _is_alias(event) and event.anchor is not None:
                    self._unread(event.anchor)
                return dropped
            limit = self.limits.max_mapping_keys
        else:
            limit = self.limits.max_list_entries
        frame.entries += 1
        if frame.entries <= limit:
            return False
        if frame.first_dropped is None:
            frame.first_dropped = Span(_position(event.start_mark), _position(event.end_mark))
        if not _is_alias(event) and event.anchor is not None:
            self._unread(event.anchor)
        return True

    def _attach_null(self, span: Span) -> None:
        self.expanded += 1
        self._attach(Node("scalar", span, value=None, text="null"), 1)

    def _attach(self, node: Node, size: int) -> None:
        if self.stack:
            frame = self.stack[-1]
            frame.children.append(node)
            frame.size += size
        elif self.root is None and not self.documents:
            self.root = node
            self.documents.append(node.span.start)
            self.first_document_end = node.span.end
        else:
            self.documents.append(node.span.start)

    def _unread(self, anchor: str) -> None:
        self.anchors.pop(anchor, None)
        self.unread_anchors.add(anchor)

    def _register(self, anchor: str | None, node: Node, size: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = (node, size)
            self.unread_anchors.discard(anchor)

    def _limit(self, span: Span, message: str, help_text: str) -> None:
        self.diagnostics.append(Diagnostic("LL006", message, span, help=help_text))

    def _limit_once(self, key: str, span: Span, message: str, help_text: str) -> None:
        if key not in self.reported_anchors:
            self.reported_anchors.add(key)
            self._limit(span, message, help_text)

    def _pairs(self, children: list[Node]) -> list[tuple[Node, Node]]:
        pairs: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        seen: dict[str, Node] = {}
        for key_node, value_node in zip(children[::2], children[1::2]):
            if id(key_node) in self.merge_keys:
                merged.extend(_merge_source(value_node))
                continue
            if value_node.kind == "scalar" and value_node.text == "" and not value_node.quoted:
                # `key:` with nothing after it: the parser places the empty value at the next token, which may
                # be lines further down; point at the key's colon instead.
                end = key_node.span.end
                value_node.span = Span(end, Position(end.line, end.column + 1))
            name = _key_text(key_node)
            if name in seen:
                first = seen[name].span.start
                self.diagnostics.append(Diagnostic(
                    "LL002",
                    f"duplicate key `{name}` (first at line {first.line}); loaders keep only this last value",
                    key_node.span,
                    help=f"remove one of the two `{name}` entries",
                ))
            seen[name] = key_node
            pairs.append((key_node, value_node))
        # Merge keys (`<<: *base`) add the keys the mapping does not set itself.
        pairs.extend((k, v) for k, v in merged if _key_text(k) not in seen)
        return pairs

    def _scalar_value(self, tag: str, text: str, style: Any) -> Any:
        if style in ("'", '"', "|", ">"):
            return text
        if self.is_json:
            return _construct_by_tag(tag, text)
        if tag not in _IMPLICIT_TAGS:
            return text  # explicit tags such as !!binary: keep what was written
        if _YAML11_NULL.match(text):
            return None
        if _YAML11_BOOL.match(text):
            return text in _YAML11_TRUE
        if _YAML11_INT.match(text):
            return _yaml11_int(text)
        if _YAML11_FLOAT.match(text):
            return _yaml11_float(text)
        return text


class _TooDeep(Exception):
    pass


def _is_alias(event: Any) -> bool:
    return type(event).__name__ == "AliasEvent"


def _merge_source(value: Node) -> list[tuple[Node, Node]]:
    sources = value.items if value.kind == "seq" else [value]
    return [pair for source in sources if source.kind == "map" for pair in source.pairs]

_IMPLICIT_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
}


def _construct_by_tag(tag: str, text: str) -> Any:
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            return text
    if tag == "tag:yaml.org,2002:float":
        return _yaml11_float(text)
    return text


def _yaml11_int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    if ":" in digits:
        value = 0
        for part in digits.split(":"):
            value = value * 60 + int(part)
        return sign * value
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if digits != "0" and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _yaml11_float(text: str) -> float:
    digits = text.replace("_", "").lower()
    if digits.endswith(".inf"):
        return float("-inf") if digits.startswith("-") else float("inf")
    if digits.endswith(".nan"):
        return float("nan")
    if ":" in digits:
        sign = -1 if digits.startswith("-") else 1
        value = 0.0
        for part in digits.lstrip("+-").split(":"):
            value = value * 60 + float(part)
        return sign * value
    return float(digits)
