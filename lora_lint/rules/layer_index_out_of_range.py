from lora_lint.rules import Finding, rule


@rule("LL303")
def check(ctx):
    setting = ctx.config.settings.get("layers_to_transform")
    if setting is None:
        return
    stacks = ctx.model.top_level_stacks()
    if not stacks:
        return
    depth = max(stack["length"] for stack in stacks)
    described = ", ".join(f"{s['path']} has {s['length']}" for s in stacks)
    error = ctx.model.match.error if ctx.model.match is not None else None
    if error is not None and error.kind in ("target_modules_not_found", "no_modules_targeted"):
        # No listed layer is left to adapt: PEFT does not skip quietly here, it raises.
        consequence = f"no module is left to adapt, so PEFT raises {error.type}"
    else:
        consequence = "PEFT silently skips it"
    for node in setting.value_node.items if setting.value_node.kind == "seq" else [setting.value_node]:
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value >= depth:
            yield Finding(node, f"layer {node.value} does not exist: {ctx.model.name} has "
                                f"{depth} layers (0..{depth - 1}; {described}); {consequence}",
                          f"use indices from 0 to {depth - 1}")
