import re

from lora_lint.fix.edits import SAFE, wrap_in_list
from lora_lint.rules import Finding, rule

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.]+$")


@rule("LL107")
def check(ctx):
    target = ctx.config.settings.get("target_modules")
    if target is None or not isinstance(target.value, str):
        return
    value = target.value
    if value.lower() == "all-linear" or not _PLAIN_NAME.match(value):
        return
    leaf = value.rsplit(".", 1)[-1]
    yield Finding(target.value_node,
                  f"`target_modules: {value}` is a string, which PEFT reads as a regular expression that must "
                  f"match a module's full name (like `model.layers.0.self_attn.{leaf}`); it matches no nested module",
                  f"write a list: `target_modules: [{value}]`",
                  wrap_in_list(ctx, target.value_node, SAFE, "wrote `target_modules` as a list"))
