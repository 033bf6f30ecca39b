from lora_lint.rules import Finding, rule


@rule("LL316")
def check(ctx):
    layers = ctx.config.settings.get("layers_to_transform")
    if layers is None or layers.value is None:
        return
    pattern = ctx.config.value("layers_pattern")
    spanned = ctx.model.stacks_indexed_by(pattern, str(ctx.peft.version))
    if len(spanned) > 1:
        lengths = {s["path"]: s["length"] for s in ctx.model.top_level_stacks()}
        described = ", ".join(f"{path} ({lengths[path]} layers)" for path in spanned)
        which = "this `layers_pattern`" if pattern else "PEFT's default layer detection"
        yield Finding(layers.value_node, f"with {which}, one `layers_to_transform` list applies to several stacks: "
                                         f"{described}",
                      f"name one stack in `layers_pattern`, e.g. `layers_pattern: {spanned[-1]}`")
