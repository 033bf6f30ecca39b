"""The transformers v5 MoE rewrite of expert targets into ``target_parameters``
(peft/utils/transformers_weight_conversion.py, PEFT 0.19+)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lora_lint.matcher.constants import (
    INCLUDE_LINEAR_LAYERS_SHORTHAND,
    MOE_CONVERSION_BASE,
    MOE_FUSED_TARGETS,
    MOE_TARGET_MODULE_MAPPING,
)
from lora_lint.matcher.results import PeftRaise
from lora_lint.matcher.targets import check_target_module_exists
from lora_lint.matcher.tree import param_names

if TYPE_CHECKING:
    from lora_lint.matcher.replay import Replay


def convert_moe_config(replay: Replay) -> None:
    config = replay.config
    base = MOE_CONVERSION_BASE.get(replay.inventory.get("model_type"))
    if base is None:
        return
    mapping = MOE_TARGET_MODULE_MAPPING[base]
    fused = MOE_FUSED_TARGETS[base]
    if isinstance(config.target_modules, str):
        if replay.version >= (0, 21):
            resolved = resolve_string_target_modules(replay, mapping)
            if not resolved:
                return
            config.target_modules = resolved
        else:
            # 0.19/0.20 called set() on the string: a set of its characters.
            config.target_modules = set(config.target_modules)
    config.target_parameters = set(config.target_parameters or [])
    config.target_modules = set(config.target_modules or [])
    new_target_parameters = set(config.target_parameters)
    remaining = set()
    matched: dict[str, set[str]] = {new_name: set() for new_name in fused}
    for target in config.target_modules:
        mapped = next(
            ((old, new) for old, new in mapping.items() if target == old or target.endswith(f".{old}")), None
        )
        if mapped is None:
            remaining.add(target)
            continue
        old_name, new_name = mapped
        new_target_parameters.add(new_name)
        if new_name in fused:
            matched.setdefault(new_name, set()).add(old_name)
    for new_name, required in fused.items():
        present = matched.get(new_name, set())
        if 0 < len(present) < len(required):
            raise PeftRaise(
                "ValueError",
                "moe_partial_fused_target",
                f"Cannot convert PEFT target(s) {', '.join(sorted(present))} without also targeting "
                f"{', '.join(sorted(set(required) - present))} because they are fused into {new_name}.",
            )
        if len(present) == len(required) and len(required) > 1:
            config.rank_pattern[rf".*\.{re.escape(new_name)}"] = config.r * len(required)
            config.alpha_pattern[rf".*\.{re.escape(new_name)}"] = config.lora_alpha * len(required)
    config.target_parameters = new_target_parameters
    config.target_modules = remaining

def resolve_string_target_modules(replay: Replay, mapping: dict[str, str]) -> set[str]:
    config = replay.config
    if config.target_modules.lower() == INCLUDE_LINEAR_LAYERS_SHORTHAND:
        return {name.rsplit(".", 1)[-1] for name in replay.all_linear_names(config.task_type)} | mapping.keys()
    module_keys = [record["name"] for record in replay.inventory["modules"]]
    param_keys = param_names(replay.root)
    matched = {key.rsplit(".", 1)[-1] for key in module_keys + param_keys if check_target_module_exists(config, key)}
    containers: dict[str, set[str]] = {}
    for name in param_keys:
        container, _, leaf = name.rpartition(".")
        containers.setdefault(leaf, set()).add(container)
    for old_name, new_name in mapping.items():
        if old_name in matched:
            continue
        for container in containers.get(new_name, ()):
            if check_target_module_exists(config, f"{container}.{old_name}"):
                matched.add(old_name)
                break
    return matched

