"""What axolotl 0.21.0's `validate_config` rejects in the LoRA part of a file, each at the node that causes it.

The type checks are pydantic's (schema.py); the cross-field checks are axolotl's own model validators, transcribed:
`LoraConfig.validate_adapter`, `validate_qlora`, `validate_lora_dropout`, `validate_lora_target_parameters_dropout`
and `_init` (utils/schemas/peft.py), `AxolotlInputConfig.check_lora_target_modules_regex` (utils/schemas/config.py) and
`check_peft_layers_pattern` (utils/schemas/validation.py). Checks of the rest of the file (datasets, FSDP, hardware) are axolotl's business and
out of scope: a file can still fail axolotl's validation for reasons lora-lint does not model.
"""

from __future__ import annotations

import re
from typing import Any

from lora_lint.config import TrainerIssue
from lora_lint.peft_schema import peft_knowledge
from lora_lint.source import Node
from lora_lint.suggest import describe_value, did_you_mean
from lora_lint.trainers.axolotl.schema import all_fields, validate

STOPS = "axolotl's `validate_config` raises a ValidationError and the run stops before loading the model"
BUILTIN_ADAPTERS = ("lora", "qlora", "llama-adapter", "mixlora")  # mixlora: a plugin axolotl always registers
VALUE_INDEPENDENT_LORA_INIT = (None, True, False, "gaussian")

_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "a whole number",
    "bool_type": "true or false", "bool_parsing": "true or false", "float_type": "a number",
    "float_parsing": "a number", "string_type": "a string", "list_type": "a list", "dict_type": "a mapping",
    "greater_than": "a positive integer", "literal_error": "one of the listed values", "tuple_type": "a pair",
    "model_type": "a mapping",
}

# PEFT's own names, written in an axolotl file: axolotl ignores them; its key for each.
AXOLOTL_NAMES = {
    "r": "lora_r", "lora_rank": "lora_r", "target_modules": "lora_target_modules",
    "modules_to_save": "lora_modules_to_save", "fan_in_fan_out": "lora_fan_in_fan_out",
    "layers_to_transform": "peft_layers_to_transform", "layers_pattern": "peft_layers_pattern",
    "use_dora": "peft_use_dora", "use_rslora": "peft_use_rslora", "init_lora_weights": "peft_init_lora_weights",
    "rank_pattern": "lora_rank_pattern", "alpha_pattern": "lora_alpha_pattern",
    "target_parameters": "lora_target_parameters", "layer_replication": "peft_layer_replication",
    "lora_target": "lora_target_modules", "target_linear": "lora_target_linear",
}


def reject(at: Node, message: str, path: tuple, help_text: str = STOPS) -> TrainerIssue:
    return TrainerIssue("rejects", at, message, help_text, path=path, raises="ValidationError")


def type_errors(errors: list[dict], root: Node) -> list[TrainerIssue]:
    """pydantic's errors, one per written key, at the deepest node the error names."""
    by_key: dict[str, list[dict]] = {}
    for error in errors:
        key = "model_type" if error["loc"][0] == "type_of_model" else str(error["loc"][0])
        by_key.setdefault(key, []).append(error)
    issues = []
    for key, found in by_key.items():
        if found[0]["type"] == "missing":
            first = root.pairs[0][0] if root.pairs else root
            issues.append(reject(first, f"axolotl requires `{key}`: its schema has no default for it", (key,),
                                 f"{STOPS}; add `{key}: <model id or path>`"))
            continue
        node = _deepest(root.get(key), found[0]["loc"][1:])
        expected = " or ".join(dict.fromkeys(_EXPECTED.get(e["type"], "another value") for e in found))
        got = describe_value(found[0].get("input"))
        issues.append(reject(node, f"axolotl's schema takes {expected} for `{key}`, got {got}", (key,)))
    return issues


def _deepest(node: Node, loc: tuple) -> Node:
    for part in loc:
        if node.kind == "seq" and isinstance(part, int) and part < len(node.items):
            node = node.items[part]
        elif node.kind == "map" and node.get(str(part)) is not None:
            node = node.get(str(part))
        else:
            break
    return node


def cross_field(data: dict[str, Any], cfg: dict[str, Any], root: Node) -> list[TrainerIssue]:
    """axolotl's model validators on the LoRA fields: `data` is the file as loaded, `cfg` the validated fields."""
    issues = []

    def at(key: str) -> Node:
        return root.key_node(key) or root

    adapter = data.get("adapter")
    if not adapter and not data.get("inference") and (data.get("load_in_8bit") or data.get("load_in_4bit")):
        key = "load_in_8bit" if data.get("load_in_8bit") else "load_in_4bit"
        issues.append(reject(at(key), f"`{key}` without `adapter`: axolotl does not quantize a full fine-tune",
                             ("adapter",), f"{STOPS}; add `adapter: qlora` (4-bit) or `adapter: lora`"))
    if adapter and adapter not in BUILTIN_ADAPTERS and not data.get("plugins"):
        issues.append(reject(root.get("adapter"), f"`adapter: {adapter}` is not built into axolotl and no plugin "
                             "registers it", ("adapter",), f"{STOPS}; write `adapter: lora` or `adapter: qlora`"))
    node = root.get("lora_target_modules")
    if isinstance(data.get("lora_target_modules"), list) and node is not None and node.kind == "seq":
        for item, value in zip(node.items, data["lora_target_modules"]):
            if isinstance(value, str) and _bad_regex(value):
                issues.append(reject(item, f"`{value}` in `lora_target_modules` is not a valid regular expression: "
                                     "axolotl compiles every entry", ("lora_target_modules",)))
    if data.get("peft_layers_pattern") and not data.get("peft_layers_to_transform"):
        issues.append(reject(root.get("peft_layers_pattern"), "`peft_layers_pattern` without "
                             "`peft_layers_to_transform`: axolotl's `check_peft_layers_pattern` rejects it",
                             ("peft_layers_pattern",), f"{STOPS}; add `peft_layers_to_transform: [...]`, or remove "
                             "`peft_layers_pattern`"))
    if cfg.get("adapter") == "qlora":
        issues += _qlora(cfg, at)
    if cfg.get("lora_target_parameters") and cfg.get("lora_dropout"):
        issues.append(reject(root.get("lora_dropout"), "`lora_dropout` must be 0 with `lora_target_parameters`: "
                             "PEFT's ParamWrapper has no dropout", ("lora_dropout",)))
    peft = cfg.get("peft") or {}
    if cfg.get("lora_target_parameters") and (
            cfg.get("peft_init_lora_weights") not in VALUE_INDEPENDENT_LORA_INIT or peft.get("loftq_config")):
        key = "peft_init_lora_weights" if "peft_init_lora_weights" in data else "peft"
        issues.append(reject(at(key), "with `lora_target_parameters`, `peft_init_lora_weights` must be the default or "
                             "`gaussian`: other inits read weights that fused expert parameters do not have", (key,)))
    return issues


def _bad_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return True
    return False


def _qlora(cfg: dict, at) -> list[TrainerIssue]:
    if cfg.get("merge_lora"):
        for key, what in (("load_in_8bit", "loaded in 8bit"), ("gptq", "gptq"), ("load_in_4bit", "loaded in 4bit")):
            if cfg.get(key):
                return [reject(at(key), f"axolotl cannot merge a qlora adapter {what}", (key,))]
        return []
    if cfg.get("load_in_8bit"):
        return [reject(at("load_in_8bit"), "axolotl cannot load qlora in 8bit", ("load_in_8bit",),
                       f"{STOPS}; write `load_in_4bit: true` instead")]
    if cfg.get("gptq"):
        return [reject(at("gptq"), "axolotl cannot load qlora with gptq", ("gptq",))]
    if not cfg.get("load_in_4bit"):
        return [reject(at("adapter"), "`adapter: qlora` requires `load_in_4bit: true`", ("load_in_4bit",),
                       f"{STOPS}; add `load_in_4bit: true`, or write `adapter: lora`")]
    return []


def check(data: dict[str, Any], root: Node) -> tuple[dict[str, Any] | None, list[TrainerIssue]]:
    """The validated LoRA fields (None when axolotl rejects them) and what axolotl does to the file."""
    if data.get("adapter") is not None and data.get("lora_dropout", 0.0) is None:
        data = {**data, "lora_dropout": 0.0}  # validate_lora_dropout fills in a null dropout
    cfg, errors = validate(data)
    issues = type_errors(errors, root) if errors else []
    issues += cross_field(data, cfg or {}, root) if cfg is not None else []
    if issues:
        return None, issues
    return cfg, coercions(data, cfg, root)


def coercions(data: dict, cfg: dict, root: Node) -> list[TrainerIssue]:
    found = []
    for key, value in cfg.items():
        written = data.get(key)
        node = root.get(key)
        if node is None or node.kind != "scalar" or written is None or type(written) is type(value):
            continue
        if type(written) is int and type(value) is float:
            continue
        shown = f'"{node.text}"' if node.quoted else f"`{node.text}`"
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        found.append(TrainerIssue("coerces", node, f"axolotl reads {shown} as `{literal}` for `{key}` "
                                  "(pydantic's lax mode)", f"write `{literal}` to say what axolotl uses", path=(key,)))
    return found


def unknown_keys(root: Node) -> list[TrainerIssue]:
    """Top-level keys axolotl's schema has no field for: pydantic drops them without a word (but for the removed
    `fsdp` list, which a validator of its own rejects)."""
    known = all_fields()
    found = []
    for key_node, value_node in root.pairs:
        key = str(key_node.value) if key_node.kind == "scalar" else key_node.text
        if key in known:
            continue
        if key == "fsdp" and value_node.to_python():
            found.append(reject(key_node, "axolotl no longer supports the top-level `fsdp` list (FSDP1 sharding "
                                "strategies): `check_fsdp_version` rejects it", (key,),
                                f"{STOPS}; write the settings under `fsdp_config:` instead"))
            continue
        if key == "lora_exclude_modules":
            found.append(TrainerIssue(
                "drops-peft-field", key_node,
                "axolotl's loader passes `lora_exclude_modules` to PEFT as `exclude_modules`, but its schema has no "
                "such field and drops it first: nothing is excluded",
                "axolotl 0.21.0 cannot exclude modules; narrow `lora_target_modules` instead", path=(key,)))
            continue
        hint = f"did you mean `{AXOLOTL_NAMES[key]}`?" if key in AXOLOTL_NAMES else did_you_mean(key, known)
        where = " (a PEFT LoraConfig name, not axolotl's)" if peft_knowledge().field_known(key) else ""
        found.append(TrainerIssue(
            "ignores-key", key_node, f"unknown key `{key}`{where}: axolotl's schema has no such field and drops it "
            "without a word", hint or "see axolotl's config reference for the key's name", path=(key,)))
    return found
