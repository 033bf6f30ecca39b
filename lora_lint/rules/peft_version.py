from lora_lint.rules import Finding, rule


@rule("LL111")
def check(ctx):
    known = ctx.peft
    for key, setting in ctx.config.settings.items():
        history = known.fields.get(key)
        if history is None or history.available_in(known.version):
            continue
        if history.added > known.version:
            yield Finding(setting.key_node,
                          f"`{key}` needs PEFT {history.added} or newer; this PEFT is {known.version_text}",
                          f"upgrade: pip install 'peft>={history.added}'")
        else:
            yield Finding(setting.key_node,
                          f"`{key}` was removed in PEFT {history.removed}; this PEFT is {known.version_text}",
                          "remove it")
