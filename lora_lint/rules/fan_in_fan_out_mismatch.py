from lora_lint.rules import Finding, rule


@rule("LL305")
def check(ctx):
    result = ctx.model.match
    if result is None or result.error:
        return
    kinds = {m["name"]: m["lora_kind"] for m in ctx.model.inventory["modules"]}
    targeted = {kinds.get(name) for name in result.targets} & {"linear", "conv1d_gpt"}
    setting = ctx.config.settings.get("fan_in_fan_out")
    at = setting.value_node if setting is not None else ctx.config.anchor
    flag = bool(ctx.config.value("fan_in_fan_out"))
    if targeted == {"linear", "conv1d_gpt"}:
        yield Finding(at, "the targets mix nn.Linear and transformers Conv1D layers, which need opposite "
                          "`fan_in_fan_out` values; PEFT flips the flag per layer with a warning",
                      "target only one kind of layer, or accept PEFT's per-layer override")
    elif targeted == {"conv1d_gpt"} and not flag:
        yield Finding(at, "the targeted layers are transformers Conv1D (weights stored fan_in × fan_out), which "
                          "need `fan_in_fan_out: true`; PEFT overrides it with a warning",
                      "set `fan_in_fan_out: true`")
    elif targeted == {"linear"} and flag:
        yield Finding(at, "`fan_in_fan_out: true` is for Conv1D layers, but the targeted layers are nn.Linear; "
                          "PEFT overrides it to false with a warning", "set `fan_in_fan_out: false`")
