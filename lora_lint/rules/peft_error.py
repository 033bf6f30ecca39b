from lora_lint.rules import Finding, rule

# Errors another rule already explains at a more precise place.
EXPLAINED = {"target_modules_not_found", "unsupported_target_module", "model_cannot_generate",
             "layers_pattern_with_regex", "layers_to_transform_with_regex",
             "layers_pattern_without_layers_to_transform", "invalid_task_type", "target_parameters_str",
             "lora_bias_unsupported", "invalid_rank"}


@rule("LL308")
def check(ctx):
    result = ctx.model.match
    if result is None or result.error is None or result.error.kind in EXPLAINED:
        return
    target = ctx.config.settings.get("target_modules")
    at = target.value_node if target is not None else ctx.config.section
    yield Finding(at, f"PEFT would raise {result.error.type} on {ctx.model.resolved.model_id}: "
                      f"{result.error.message}", "see `lora-lint modules MODEL` for the names this model has")
