"""Read a config file into a tree of nodes that know their exact source spans.

Positions come from ruamel.yaml's parser events (lora_lint/compose.py builds the tree from them, within the
limits of lora_lint/limits.py), never from re-serialised text. Scalars in YAML files are typed the way PyYAML types
them (YAML 1.1: `yes` is a bool, `1e-4` is a string), because the toolkit and most training scripts load their
configs with `yaml.safe_load`; JSON files are typed as JSON (lora_lint/scalars.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from lora_lint.diagnostics import Diagnostic, Position, Span
from lora_lint.limits import DEFAULT_LIMITS, Limits
from lora_lint.scalars import unreadable_number


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
        """The value as a YAML loader builds it (aliases become copies). Iterative: depth is the file's choice."""
        if self.kind == "scalar":
            return self.value
        result: Any = {} if self.kind == "map" else []
        pending = [(self, result)]
        while pending:
            node, out = pending.pop()
            children = ((key_text(k), v) for k, v in node.pairs) if node.kind == "map" else enumerate(node.items)
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


def duplicate_key(name: str, first: Node, again: Node) -> Diagnostic:
    return Diagnostic(
        "LL002",
        f"duplicate key `{name}` (first at line {first.span.start.line}); loaders keep only this last value",
        again.span,
        help=f"remove one of the two `{name}` entries",
    )


def key_text(node: Node) -> str:
    """A mapping key as loaders turn it into a dict key."""
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
        except ValueError as exc:  # an integer of more than 4,300 digits, which json.load refuses to convert
            return ParsedFile(path, text, None, [unreadable_number(f"json.load raises ValueError: {exc}",
                                                                   _longest_number(text))], is_json)
        except RecursionError:
            pass  # nested deeper than json's C decoder goes: the composer's depth limit reports it
        else:
            from lora_lint.json_source import OutsideLimits, build_json_tree

            try:  # the same spans as composing it, in a fraction of the time
                root, diagnostics = build_json_tree(text, limits)
                return ParsedFile(path, text, root, diagnostics, is_json)
            except OutsideLimits:
                pass  # the composer reports which limit, at the node where it is crossed
    from lora_lint.compose import Composer, scanner_class

    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = scanner_class()
    composer = Composer(yaml.resolver, is_json, limits)
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


def _longest_number(text: str) -> Span:
    """Where the longest run of digits starts: the number json.load refused."""
    best = max(re.finditer(r"\d+", text), key=lambda match: len(match.group()), default=None)
    if best is None:
        return Span.point(1, 1)
    line = text.count("\n", 0, best.start()) + 1
    column = best.start() - (text.rfind("\n", 0, best.start()) + 1) + 1
    return Span(Position(line, column), Position(line, column + len(best.group())))
