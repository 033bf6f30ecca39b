"""The Python values `yaml.safe_load` builds from a node tree: the toolkit's own input, keys typed too."""

from __future__ import annotations

import datetime
import re
from typing import Any

from lora_lint.source import Node

# PyYAML's timestamp resolver (YAML 1.1); source.py leaves such scalars as strings.
_TIMESTAMP = re.compile(
    r"^(?:(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"|(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})(?:[Tt]|[ \t]+)(?P<hour>[0-9]{1,2})"
    r":(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]*))?"
    r"(?:[ \t]*(?P<tz>Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$"
)


def entries(node: Node) -> dict[Any, tuple[Node, Node]]:
    """A mapping's entries by typed key, as PyYAML builds a dict: a repeated key keeps its first position and its
    last value."""
    found: dict[Any, tuple[Node, Node]] = {}
    for key_node, value_node in node.pairs:
        found[scalar_value(key_node) if key_node.kind == "scalar" else key_node.text] = (key_node, value_node)
    return found


def python_value(node: Node) -> Any:
    if node.kind == "map":
        return {key: python_value(value) for key, (_, value) in entries(node).items()}
    if node.kind == "seq":
        return [python_value(item) for item in node.items]
    return scalar_value(node)


def scalar_value(node: Node) -> Any:
    value = node.value
    if isinstance(value, str) and not node.quoted and value == node.text:
        match = _TIMESTAMP.match(value)
        if match:
            return _timestamp(match)
    return value


def _timestamp(match: re.Match) -> Any:
    try:
        if match.group("date"):
            return datetime.date.fromisoformat(match.group("date"))
        fraction = int((match.group("fraction") or "0")[:6].ljust(6, "0"))
        tz = None
        if match.group("tz") and match.group("tz") != "Z":
            sign = -1 if match.group("tz")[0] == "-" else 1
            hours, _, minutes = match.group("tz")[1:].partition(":")
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes or 0)))
        elif match.group("tz") == "Z":
            tz = datetime.timezone.utc
        return datetime.datetime(int(match.group("year")), int(match.group("month")), int(match.group("day")),
                                 int(match.group("hour")), int(match.group("minute")), int(match.group("second")),
                                 fraction, tzinfo=tz)
    except ValueError:
        return match.group(0)  # PyYAML itself fails on an impossible date; the schema sees the text
