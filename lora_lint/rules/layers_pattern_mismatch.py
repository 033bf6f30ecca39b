import re

from lora_lint.fix.edits import SAFE, UNSAFE, replace_scalar
from lora_lint.rules import Finding, rule
from lora_lint.suggest import closest

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
                          f"for this model write `layers_pattern: {names[0]}`" if names else None,
                          _fix(ctx, setting, pattern, names))
        else:
            yield Finding(setting.value_node,
                          f"`layers_pattern: {pattern}` names no layer container of "
                          f"{ctx.model.name}: {consequence}",
                          f"its layer containers are: {', '.join(names)}" if names else None,
                          _fix(ctx, setting, pattern, names))


def _fix(ctx, setting, pattern, names):
    """Safe when the pattern spells one container's name as a word (`model\\.layers\\.\\d+`); a guess otherwise."""
    if setting.value_node.kind != "scalar":
        return None
    spelt = [name for name in names if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", pattern)]
    if len(spelt) == 1:
        name, applicability = spelt[0], SAFE
    else:
        name, applicability = (names[0] if len(names) == 1 else closest(pattern, names)), UNSAFE
    if name is None or not ctx.model.stacks_indexed_by(name, str(ctx.peft.version)):
        return None
    return replace_scalar(ctx, setting.value_node, name, applicability, f"wrote `layers_pattern: {name}`")
