"""Typing of plain scalars: PyYAML's implicit resolvers (YAML 1.1) for YAML files, JSON's rules for JSON files."""

from __future__ import annotations

import re
from typing import Any

from lora_lint.diagnostics import Diagnostic, Span

# Python refuses to convert integers of more than 4,300 decimal digits to or from text; PyYAML and json.load
# raise on them, and a based literal (0x...) beyond that size could never be printed in a message. Every integer
# of at most this many bits prints in at most 4,300 digits.
MAX_INT_BITS = 14_284

YAML11_BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
YAML11_TRUE = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
YAML11_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))$"
)
YAML11_INT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
)
YAML11_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


def scalar_value(tag: str, text: str, style: Any, is_json: bool) -> Any:
    """A plain scalar as PyYAML's safe_load types it (YAML 1.1); JSON's as json.load does; quoted ones are strings."""
    if style in ("'", '"', "|", ">"):
        return text
    if is_json:
        return _construct_by_tag(tag, text)
    if tag not in _IMPLICIT_TAGS:
        return text  # explicit tags such as !!binary: keep what was written
    if YAML11_NULL.match(text):
        return None
    if YAML11_BOOL.match(text):
        return text in YAML11_TRUE
    if YAML11_INT.match(text):
        return _yaml11_int(text)
    if YAML11_FLOAT.match(text):
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


def unreadable_number(reason: str, span: Span) -> Diagnostic:
    return Diagnostic("LL001", f"unreadable number: {reason[:200]}", span,
                      help="YAML and JSON loaders raise on numbers like this, or Python cannot print them: "
                           "write a number of ordinary size")


def _yaml11_int(text: str) -> int:
    """Raises ValueError for a number PyYAML's safe_load raises on (`0b_`) or one too large to be a value."""
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
