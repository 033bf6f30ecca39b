"""Build the node tree from ruamel.yaml's parser events, without recursion and within `Limits`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lora_lint.diagnostics import Diagnostic, Position, Span
from lora_lint.limits import Limits
from lora_lint.scalars import scalar_value, unreadable_number
from lora_lint.source import Node, duplicate_key, key_text


def scanner_class() -> type:
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


class Composer:
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
                self._close(_position(event.end_mark), event.end_mark.index)

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
        span = Span(_position(event.start_mark), _position(event.end_mark))
        try:
            value = scalar_value(tag, event.value, event.style, self.is_json)
        except ValueError as exc:  # a number PyYAML's safe_load raises on: the trainer cannot load the file
            self.diagnostics.append(unreadable_number(str(exc), span))
            value = event.value
        node = Node("scalar", span, value=value, text=event.value, quoted=event.style in ("'", '"'),
                    start=event.start_mark.index, end=event.end_mark.index)
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
        _mark_shared(node)
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
        frame = _Open(Node(kind, Span(start, start), start=event.start_mark.index), event.anchor)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
            self.anchors.pop(event.anchor, None)
        self.stack.append(frame)

    def _close(self, end: Position, offset: int = -1) -> None:
        """`offset`: where the collection ends in the text; -1 where reading stopped inside it."""
        frame = self.stack.pop()
        node = frame.node
        node.span = Span(node.span.start, end)
        node.end = offset
        if offset < 0:
            node.start = -1  # cut short: no edit may touch it
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
                value_node.start = value_node.end = -1  # no text of its own to edit
            name = key_text(key_node)
            if name in seen:
                self.diagnostics.append(duplicate_key(name, seen[name], key_node))
            seen[name] = key_node
            pairs.append((key_node, value_node))
        # Merge keys (`<<: *base`) add the keys the mapping does not set itself.
        pairs.extend((k, v) for k, v in merged if key_text(k) not in seen)
        return pairs


class _TooDeep(Exception):
    pass


def _is_alias(event: Any) -> bool:
    return type(event).__name__ == "AliasEvent"


def _merge_source(value: Node) -> list[tuple[Node, Node]]:
    sources = value.items if value.kind == "seq" else [value]
    return [pair for source in sources if source.kind == "map" for pair in source.pairs]


def _mark_shared(node: Node) -> None:
    """An aliased node is reached from several places: an edit there would change every use. Each node is marked
    once, so aliases of aliases (a "billion laughs" file) cost linear time."""
    pending = [node]
    while pending:
        current = pending.pop()
        if not current.shared:
            current.shared = True
            pending.extend(child for pair in current.pairs for child in pair)
            pending.extend(current.items)
