from lora_lint.rules import Finding, rule


@rule("LL106")
def check(ctx):
    config = ctx.config
    if config.dialect != "llmtune" or config.has("target_modules"):
        return
    for key in ("layers_to_transform", "layers_pattern"):
        if config.has(key) and config.value(key) is not None:
            yield Finding(config.settings[key].key_node,
                          f"`{key}` without `target_modules`: the toolkit then passes its default "
                          "`target_modules: all-linear`, a string, and LoraConfig raises ValueError",
                          "list the modules explicitly, e.g. `target_modules: [q_proj, k_proj, v_proj, o_proj]`")
            return
