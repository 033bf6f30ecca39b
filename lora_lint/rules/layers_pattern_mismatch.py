import re

from lora_lint.rules import Finding, rule

_REGEX_SYNTAX = re.compile(r"\\|[.*+?()\[\]|^$]")


@rule("LL304")
def check(ctx):
    setting = ctx.config.settings.get("layers_pattern")
    if setting is None or setting.value is None:
        return
    names = sorted({c["path"].rsplit(".", 1)[-1] for c in ctx.model.top_level_stacks()})
    patterns = setting.value if isinstance(setting.value, list) else [setting.value]
    result = ctx.model.match
    consequence = ("no layer matches, so no module gets LoRA and PEFT raises ValueError"
                   if result is not None and result.error else "no layer matches it")
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        if ctx.model.stacks_indexed_by(pattern, str(ctx.peft.version)):
            continue
        if _REGEX_SYNTAX.search(pattern):
            yield Finding(setting.value_node,
                          f"`layers_pattern: {pattern}` is written as a regex over full module names, but PEFT "
                          f"expects the name of the layer container (the ModuleList holding the layers): "
                          f"{consequence}",
                          f"for this model write `layers_pattern: {names[0]}`" if names else None)
        else:
            yield Finding(setting.value_node,
                          f"`layers_pattern: {pattern}` names no layer container of "
                          f"{ctx.model.name}: {consequence}",
                          f"its layer containers are: {', '.join(names)}" if names else None)
