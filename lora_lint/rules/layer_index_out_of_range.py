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
    for node in setting.value_node.items if setting.value_node.kind == "seq" else [setting.value_node]:
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value >= depth:
            yield Finding(node, f"layer {node.value} does not exist: {ctx.model.name} has "
                                f"{depth} layers (0..{depth - 1}; {described}); PEFT silently skips it",
                          f"use indices from 0 to {depth - 1}")
