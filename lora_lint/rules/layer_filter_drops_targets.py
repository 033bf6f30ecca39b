from lora_lint.matcher import containers_named_by, layer_index, modules_matched_by_entry
from lora_lint.rules import Finding, rule


@rule("LL310")
def check(ctx):
    layers = ctx.config.settings.get("layers_to_transform")
    target = ctx.config.settings.get("target_modules")
    if layers is None or layers.value is None or target is None or target.value_node.kind != "seq":
        return
    pattern = ctx.config.value("layers_pattern")
    version = str(ctx.peft.version)
    inventory = ctx.model.inventory
    if pattern and not containers_named_by(inventory, pattern):
        return  # a layers_pattern naming no container drops everything; layers-pattern-mismatch says so
    for item in target.value_node.items:
        if not isinstance(item.value, str):
            continue
        matched = modules_matched_by_entry(inventory, item.value)
        if item.value in matched:
            continue  # PEFT takes an exact full name as is, without the layer filter
        dropped = [name for name in matched if layer_index(name, pattern, version) is None]
        if dropped and len(dropped) == len(matched):
            yield Finding(item, f"`{item.value}` ({', '.join(dropped[:2])}) sits outside the numbered layers, so "
                                "the `layers_to_transform` filter drops it and it gets no LoRA, without a warning",
                          "give its full module name to keep it, or train it through modules_to_save")
    stacks = ctx.model.top_level_stacks()
    if len(stacks) > 1:
        described = ", ".join(f"{s['path']} ({s['length']})" for s in stacks)
        yield Finding(layers.value_node, f"one `layers_to_transform` list applies to every stack of this model: "
                                         f"{described}", "add `layers_pattern` to pick one stack by name")
