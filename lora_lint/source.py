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

MAX_FILE_BYTES = 10 * 1024 * 1024

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
    # Where the node is in the decoded text (offsets, end exclusive; -1 for nodes no source text backs), for fixes.
    start: int = -1
    end: int = -1
    shared: bool = False  # reached through an alias or merge key too: an edit here would change every use

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
        if self.kind == "map":
            return {_key_text(k): v.to_python() for k, v in self.pairs}
        if self.kind == "seq":
            return [item.to_python() for item in self.items]
        return self.value

    def walk(self) -> Iterator[Node]:
        yield self
        for key_node, value_node in self.pairs:
            yield from key_node.walk()
            yield from value_node.walk()
        for item in self.items:
            yield from item.walk()


def duplicate_key(name: str, first: Node, again: Node) -> Diagnostic:
    return Diagnostic(
        "LL002",
        f"duplicate key `{name}` (first at line {first.span.start.line}); loaders keep only this last value",
        again.span,
        help=f"remove one of the two `{name}` entries",
    )


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


def parse_file(path: str, data: bytes) -> ParsedFile:
    """Turn raw bytes into a node tree, or into diagnostics saying exactly why not."""
    if len(data) > MAX_FILE_BYTES:
        return ParsedFile(path, None, None, [_unreadable(
            f"file is {len(data) / 1024 / 1024:.1f} MiB; lora-lint reads config files up to "
            f"{MAX_FILE_BYTES // 1024 // 1024} MiB",
            "a LoRA config is a few kilobytes: check that this is the file you meant",
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
    return parse_text(path, text, is_json=is_json)


def _unreadable(message: str, help_text: str) -> Diagnostic:
    return Diagnostic("LL003", message, help=help_text)


def parse_text(path: str, text: str, *, is_json: bool = False) -> ParsedFile:
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
        except ValueError as exc:  # an integer of more than 4,300 digits, which json.load refuses to convert
            return ParsedFile(path, text, None, [_unreadable_number(f"json.load raises ValueError: {exc}",
                                                                    _longest_number(text))], is_json)
        from lora_lint.json_source import build_json_tree  # the same spans as composing it, without ruamel

        root, diagnostics = build_json_tree(text)
        return ParsedFile(path, text, root, diagnostics, is_json)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="safe", pure=True)
    try:
        documents = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        return ParsedFile(path, text, None, [_syntax_error(exc, text)], is_json)
    except YAMLError as exc:
        return ParsedFile(path, text, None, [Diagnostic("LL001", f"invalid YAML: {exc}")], is_json)
    documents = [doc for doc in documents if doc is not None]
    if not documents:
        return ParsedFile(path, text, None, [], is_json)
    builder = _TreeBuilder(is_json)
    root = builder.build(documents[0])
    if len(documents) > 1:
        # Report at the `---` that starts the second document, where PyYAML's safe_load stops.
        lines = text.splitlines()
        start = documents[0].end_mark.line
        separator = next((i for i in range(start, len(lines)) if lines[i].startswith("---")),
                         documents[1].start_mark.line)
        builder.diagnostics.append(Diagnostic(
            "LL001", f"file holds {len(documents)} YAML documents; lora-lint and PyYAML's safe_load read one",
            Span.point(separator + 1, 1),
            help="keep one config per file",
        ))
    return ParsedFile(path, text, root, builder.diagnostics, is_json)


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


def _mark_shared(node: Node) -> None:
    # Each node is marked once, so aliases of aliases (a "billion laughs" file) cost linear time.
    pending = [node]
    while pending:
        current = pending.pop()
        if not current.shared:
            current.shared = True
            pending.extend(child for pair in current.pairs for child in pair)
            pending.extend(current.items)


class _TreeBuilder:
    def __init__(self, is_json: bool) -> None:
        self.is_json = is_json
        self.diagnostics: list[Diagnostic] = []
        self._built: dict[int, Node] = {}

    def build(self, node: Any) -> Node:
        # Aliases compose to the same node object; build it once.
        cached = self._built.get(id(node))
        if cached is not None:
            _mark_shared(cached)
            return cached
        span = Span(
            Position(node.start_mark.line + 1, node.start_mark.column + 1),
            Position(node.end_mark.line + 1, node.end_mark.column + 1),
        )
        if node.id == "mapping":
            result = Node("map", span)
            self._built[id(node)] = result
            result.pairs = self._mapping_pairs(node)
        elif node.id == "sequence":
            result = Node("seq", span)
            self._built[id(node)] = result
            result.items = [self.build(item) for item in node.value]
        else:
            try:
                value = self._scalar_value(node)
            except ValueError as exc:  # a number PyYAML's safe_load raises on: the trainer cannot load the file
                self.diagnostics.append(_unreadable_number(str(exc), span))
                value = node.value
            result = Node("scalar", span, value=value, text=node.value, quoted=node.style in ("'", '"'))
            self._built[id(node)] = result
        result.start, result.end = node.start_mark.index, node.end_mark.index
        return result

    def _mapping_pairs(self, node: Any) -> list[tuple[Node, Node]]:
        pairs: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        seen: dict[str, Node] = {}
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                merged.extend(self._merge_source(value))
                continue
            key_node, value_node = self.build(key), self.build(value)
            if value_node.kind == "scalar" and value_node.text == "" and not value_node.quoted:
                # `key:` with nothing after it: the composer places the empty value at the next token, which may
                # be lines further down; point at the key's colon instead.
                end = key_node.span.end
                value_node.span = Span(end, Position(end.line, end.column + 1))
                value_node.start = value_node.end = -1  # no text of its own to edit
            name = _key_text(key_node)
            if name in seen:
                self.diagnostics.append(duplicate_key(name, seen[name], key_node))
            seen[name] = key_node
            pairs.append((key_node, value_node))
        # Merge keys (`<<: *base`) add the keys the mapping does not set itself.
        pairs.extend((k, v) for k, v in merged if _key_text(k) not in seen)
        return pairs

    def _merge_source(self, value: Any) -> list[tuple[Node, Node]]:
        sources = value.value if value.id == "sequence" else [value]
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if source.id == "mapping":
                pairs.extend(self.build(source).pairs)
        return pairs

    def _scalar_value(self, node: Any) -> Any:
        text = node.value
        if node.style in ("'", '"', "|", ">"):
            return text
        if self.is_json:
            return _construct_by_tag(node.tag, text)
        if node.tag not in _IMPLICIT_TAGS:
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


# Python refuses to convert integers of more than 4,300 decimal digits to or from text; PyYAML and json.load
# raise on them, and a based literal (0x...) beyond that size could never be printed in a message. Every integer
# of at most this many bits prints in at most 4,300 digits.
MAX_INT_BITS = 14_284


def _unreadable_number(reason: str, span: Span) -> Diagnostic:
    return Diagnostic("LL001", f"unreadable number: {reason[:200]}", span,
                      help="YAML and JSON loaders raise on numbers like this, or Python cannot print them: "
                           "write a number of ordinary size")


def _longest_number(text: str) -> Span:
    """Where the longest run of digits starts: the number json.load refused."""
    best = max(re.finditer(r"\d+", text), key=lambda match: len(match.group()), default=None)
    if best is None:
        return Span.point(1, 1)
    line = text.count("\n", 0, best.start()) + 1
    column = best.start() - (text.rfind("\n", 0, best.start()) + 1) + 1
    return Span(Position(line, column), Position(line, column + len(best.group())))


def _yaml11_int(text: str) -> int:
    value = _yaml11_int_value(text)
    if value.bit_length() > MAX_INT_BITS:
        raise ValueError(f"an integer of {value.bit_length():,} bits is too large to be a config value")
    return value


def _yaml11_int_value(text: str) -> int:
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
