"""Combinations that the installed PEFT's `LoraConfig(...)` itself rejects in `__post_init__`."""

from lora_lint.rules import Finding, rule


@rule("LL105")
def check(ctx):
    settings = ctx.config.settings
    available = ctx.peft.field_available

    def written(key):
        return settings[key].value if key in settings else None

    target = settings.get("target_modules")
    if target and isinstance(target.value, str):
        for key in ("layers_to_transform", "layers_pattern"):
            if key in settings and written(key) is not None:
                yield Finding(settings[key].key_node,
                              f"`{key}` cannot be used when `target_modules` is a string: LoraConfig raises "
                              "ValueError",
                              "make `target_modules` a list of module names, e.g. `[q_proj, v_proj]`")
    pattern = settings.get("layers_pattern")
    if pattern and pattern.value and written("layers_to_transform") is None:
        yield Finding(pattern.key_node,
                      "`layers_pattern` without `layers_to_transform`: LoraConfig raises ValueError",
                      "add `layers_to_transform: [...]` with the layer indices, or remove `layers_pattern`")
    if available("use_dora") and written("use_dora") is True and written("megatron_config"):
        yield Finding(settings["use_dora"].value_node,
                      "DoRA does not support megatron_core: LoraConfig raises ValueError",
                      "set `use_dora: false` or drop `megatron_config`")
    init = written("init_lora_weights")
    if init == "loftq" and available("loftq_config") and not written("loftq_config"):
        yield Finding(settings["init_lora_weights"].value_node,
                      "`init_lora_weights: loftq` needs `loftq_config`: LoraConfig raises ValueError",
                      "add `loftq_config: {loftq_bits: 4}` (see PEFT's LoftQConfig)")
    if available("lora_bias") and written("lora_bias") is True:
        if "init_lora_weights" in settings and not isinstance(init, bool):
            yield Finding(settings["lora_bias"].value_node,
                          f"`lora_bias: true` only works with `init_lora_weights` true or false, not `{init}`: "
                          "LoraConfig raises ValueError", "drop `lora_bias` or use the default initialisation")
        if written("use_dora") is True:
            yield Finding(settings["lora_bias"].value_node,
                          "`lora_bias: true` is not supported with DoRA: LoraConfig raises ValueError",
                          "set `use_dora: false` or drop `lora_bias`")
    target_parameters = settings.get("target_parameters")
    if available("target_parameters") and target_parameters and isinstance(target_parameters.value, str):
        yield Finding(target_parameters.value_node,
                      "`target_parameters` must be a list of strings: LoraConfig raises TypeError on a string",
                      f"write `target_parameters: [{target_parameters.value}]`")
