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
    for variant in setting.variants():
        nodes = variant.items if variant.kind == "seq" else [variant]
        for node in nodes:
            if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value >= depth:
                yield Finding(node, f"layer {node.value} does not exist: {ctx.model.name} has "
                                    f"{depth} layers (0..{depth - 1}; {described}); PEFT silently skips it",
                              f"use indices from 0 to {depth - 1}")
