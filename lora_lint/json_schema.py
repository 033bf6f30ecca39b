"""JSON Schema (draft-07, what yaml-language-server and editors read) for a dialect's LoRA config.

Generated from the tables the rules check against: the field types of `peft_schema.FIELD_TYPES` (LL102), the fields
and values the target PEFT release knows (LL101, LL104, LL111), the positive settings of LL103. The dialect module
places the LoRA section in its file layout (`json_schema(section)` in trainers/).
"""

from __future__ import annotations

from lora_lint.peft_schema import BIAS_VALUES, FIELD_TYPES, PEFT_TYPE_LORA, PeftKnowledge

_TYPES = {
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "str": {"type": "string"},
    "null": {"type": "null"},
    "list[str]": {"type": "array", "items": {"type": "string"}},
    "list[int]": {"type": "array", "items": {"type": "integer"}},
    "list[list[int]]": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
    "dict": {"type": "object"},
    "dict[str,int]": {"type": "object", "additionalProperties": {"type": "integer", "exclusiveMinimum": 0}},
    "dict[str,number]": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
    "dict[str,list[int]]": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}},
}


def lora_section_schema(peft: PeftKnowledge) -> dict:
    """The LoraConfig keys the given PEFT release accepts, with their types and allowed values."""
    from lora_lint.rules.out_of_range import _POSITIVE

    properties = {}
    for name, history in sorted(peft.fields.items()):
        if not history.available_in(peft.version):
            continue
        alternatives = [dict(_TYPES[t]) for t in FIELD_TYPES.get(name, ())]
        for alternative in alternatives:
            if name in _POSITIVE and alternative["type"] in ("integer", "number"):
                alternative["exclusiveMinimum"] = 0
            if name == "lora_dropout":
                alternative.update(minimum=0, exclusiveMaximum=1)
            if name == "layers_to_transform" and alternative["type"] == "array":
                alternative["items"] = {"type": "integer", "minimum": 0}
            if alternative["type"] == "string":
                enum = _string_values(name, peft)
                if enum is not None:
                    alternative["enum"] = enum
        schema: dict = {"description": f"peft.LoraConfig.{name} (PEFT {history.added} and newer)"}
        if len(alternatives) == 1:
            schema.update(alternatives[0])
        elif alternatives:
            schema["anyOf"] = alternatives
        if name == "init_lora_weights":
            schema["anyOf"] = [{"type": "boolean"}, {"type": "string", "enum": _init_values(peft)},
                               {"type": "string", "pattern": "^pissa_niter_[0-9]+$"}]
        properties[name] = schema
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _string_values(name: str, peft: PeftKnowledge) -> list[str] | None:
    if name == "bias":
        return list(BIAS_VALUES)
    if name == "task_type":
        return peft.task_type_values()
    if name == "peft_type":
        return [PEFT_TYPE_LORA]
    return None


def _init_values(peft: PeftKnowledge) -> list[str]:
    return [value for value in peft.init_lora_weights_values() if not value.startswith("pissa_niter_[")]


def dialect_schema(dialect: str, peft: PeftKnowledge) -> dict:
    from lora_lint.trainers import TRAINERS

    schema = TRAINERS[dialect].json_schema(lora_section_schema(peft))
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"https://github.com/lora-lint/lora-lint/schema/{dialect}.json",
        "title": f"LoRA config ({dialect} dialect), peft.LoraConfig of PEFT {peft.version}",
        **schema,
    }
