import re

from lora_lint.fix.edits import SAFE, replace_with_literal, yaml_reads_as_string
from lora_lint.peft_schema import FIELD_TYPES, TYPE_WORDS, matches_type
from lora_lint.rules import Finding, rule
from lora_lint.source import Node
from lora_lint.suggest import describe_value

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@rule("LL102")
def check(ctx):
    for key, setting in ctx.config.settings.items():
        expected = FIELD_TYPES.get(key)
        if expected is None or any(matches_type(setting.value, t) for t in expected):
            continue
        node = _offending_node(setting.value_node, expected)
        words = " or ".join(TYPE_WORDS[t] for t in expected)
        yield Finding(node, f"`{key}` must be {words}, got {describe_value(node.to_python())}",
                      _fix(key, node, expected), _number_fix(ctx, node, expected))


def _offending_node(node: Node, expected: tuple[str, ...]) -> Node:
    """Point at the bad list item when the value is a list of the wrong element type."""
    if node.kind == "seq":
        element = {"list[str]": "str", "list[int]": "int"}
        for type_name in expected:
            if type_name in element:
                bad = [item for item in node.items if not matches_type(item.to_python(), element[type_name])]
                if bad:
                    return bad[0]
    return node


def _fix(key, node, expected):
    value = node.to_python()
    if isinstance(value, str) and _NUMBER.match(value):
        if node.quoted:
            return "remove the quotes so YAML reads a number"
        # Unquoted yet a string: YAML 1.1 floats need a dot, and a sign on the exponent.
        return (f"PyYAML reads `{value}` as a string (a YAML 1.1 float needs a dot and a signed exponent): "
                f"write `{_yaml11_float(value)}`")
    if isinstance(value, float) and value.is_integer() and "int" in expected:
        return f"write `{int(value)}`"
    if isinstance(value, str) and value.lower() in {"true", "false", "yes", "no"} and "bool" in expected:
        return f"write `{'true' if value.lower() in {'true', 'yes'} else 'false'}` without quotes"
    if isinstance(value, (str, int)) and "list[str]" in expected and key != "target_modules":
        return f"write a list: `{key}: [{value}]`"
    return f"see `lora-lint explain LL102` for the types of `{key}`"


_DECIMAL_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_JSON_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$")


def _number_fix(ctx, node, expected):
    """The number the value spells, written so the loader reads it with a type the field takes."""
    value = node.to_python()
    if isinstance(value, float) and value.is_integer():
        literal = str(int(value))
    elif isinstance(value, str) and _NUMBER.match(value) and (_DECIMAL_INT.match(value) or "." in value
                                                             or "e" in value.lower()):
        literal = value
        if not ctx.parsed.is_json and yaml_reads_as_string(value):
            literal = _yaml11_float(value)
    else:
        return None
    if not _JSON_NUMBER.match(literal) if ctx.parsed.is_json else yaml_reads_as_string(literal):
        return None
    try:
        number = int(literal) if _DECIMAL_INT.match(literal) else float(literal)
    except ValueError:  # more digits than Python converts: no number a LoraConfig field takes
        return None
    element = {"list[str]": "str", "list[int]": "int"}
    takes = {*expected, *(element[t] for t in expected if t in element)}
    if not any(matches_type(number, t) for t in takes):
        return None
    return replace_with_literal(ctx, node, literal, SAFE, f"wrote the number `{literal}`")


def _yaml11_float(value):
    """`1e-4` -> `1.0e-4`, `-.5` -> `-0.5`: the spelling PyYAML's float resolver accepts (a dot, a signed exponent)."""
    mantissa, has_exponent, exponent = value.lower().partition("e")
    sign = mantissa[:1] if mantissa[:1] in ("+", "-") else ""
    digits = mantissa[len(sign):]
    digits = ("0" + digits if digits.startswith(".") else digits) + ("" if "." in digits else ".0")
    exponent = exponent if exponent[:1] in ("+", "-") else "+" + exponent
    return sign + digits + (f"e{exponent}" if has_exponent else "")
