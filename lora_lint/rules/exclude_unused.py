from lora_lint.rules import Finding, rule


@rule("LL313")
def check(ctx):
    result = ctx.model.match
    setting = ctx.config.settings.get("exclude_modules")
    if result is None or setting is None:
        return
    for warning in result.warnings:
        if warning.kind == "exclude_modules_unused":
            yield Finding(setting.value_node, f"`exclude_modules` excludes nothing on {ctx.model.name}: "
                                              "none of the modules it names would have been targeted",
                          "check the names with `lora-lint modules MODEL`, or remove exclude_modules")
