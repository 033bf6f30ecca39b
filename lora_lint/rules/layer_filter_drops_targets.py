from lora_lint.matcher import layer_index, modules_matched_by_entry
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
    if pattern and not ctx.model.stacks_indexed_by(pattern, version):
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
