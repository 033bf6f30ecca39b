from lora_lint.matcher import modules_matched_by_entry
from lora_lint.rules import Finding, rule

# Errors another rule already explains at a more precise place.
EXPLAINED = {"target_modules_not_found", "unsupported_target_module", "model_cannot_generate",
             "layers_pattern_with_regex", "layers_to_transform_with_regex",
             "layers_pattern_without_layers_to_transform", "invalid_task_type", "target_parameters_str",
             "lora_bias_unsupported", "invalid_rank", "invalid_regex", "regex_timeout"}


# What to do about the errors this rule reports, by the matcher's error kind.
HELP = {
    "param_wrapper_option": "target_parameters (and MoE expert targets, which PEFT rewrites into them) need "
                            "`lora_dropout: 0`",
    "no_default_target_modules": "PEFT has no default target_modules for this model type: list them",
    "all_modules_excluded": "exclude_modules removes every target: shorten it",
    "modules_to_save_inside_lora_layer": "a modules_to_save entry also names a LoRA target's layer: use a name "
                                         "only the module to save ends with",
    "modules_to_save_invalid_type": "modules_to_save must name whole layers or heads, not containers or LoRA "
                                    "targets; with TOKEN_CLS or QUESTION_ANS, list target_modules instead of "
                                    "all-linear so the head is left to modules_to_save",
    "moe_partial_fused_target": "the fused expert projection needs both of its halves: list both (w1 and w3, or "
                                "gate_proj and up_proj)",
}
DEFAULT_HELP = "see `lora-lint modules MODEL` for the names this model has"

# "Nothing was targeted" is explained by target-not-found, regex-target-mismatch, string-target-modules,
# layer-index-out-of-range or layers-pattern-mismatch when one of their conditions holds.
NOTHING_TARGETED = {"target_modules_not_found", "no_modules_targeted"}


@rule("LL308")
def check(ctx):
    result = ctx.model.match
    if result is None or result.error is None or result.error.kind in EXPLAINED:
        return
    if result.error.kind in NOTHING_TARGETED and _nothing_targeted_is_explained(ctx):
        return
    target = ctx.config.settings.get("target_modules")
    at = target.value_node if target is not None else ctx.config.anchor
    yield Finding(at, f"PEFT would raise {result.error.type} on {ctx.model.name}: "
                      f"{result.error.message}", HELP.get(result.error.kind, DEFAULT_HELP))


def _nothing_targeted_is_explained(ctx) -> bool:
    inventory = ctx.model.inventory
    targets = ctx.config.value("target_modules")
    if isinstance(targets, list) and not any(modules_matched_by_entry(inventory, t) for t in targets
                                             if isinstance(t, str)):
        return True
    if isinstance(targets, str) and targets.lower() != "all-linear":
        return True  # a regex or bare string that matches nothing
    pattern = ctx.config.value("layers_pattern")
    if pattern and not ctx.model.stacks_indexed_by(pattern, str(ctx.peft.version)):
        return True
    layers = ctx.config.value("layers_to_transform")
    depth = max((stack["length"] for stack in ctx.model.top_level_stacks()), default=0)
    indices = layers if isinstance(layers, list) else [layers] if isinstance(layers, int) else []
    return bool(indices) and all(not isinstance(i, int) or i < 0 or i >= depth for i in indices)
