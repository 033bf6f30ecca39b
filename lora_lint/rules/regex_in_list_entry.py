import re

from lora_lint.rules import Finding, rule

_REGEX_SYNTAX = re.compile(r"\.\*|\.\+|[|\\^$()\[\]{}?*+]")


@rule("LL108")
def check(ctx):
    for key in ("target_modules", "modules_to_save", "exclude_modules"):
        setting = ctx.config.settings.get(key)
        if setting is None or setting.value_node.kind != "seq":
            continue
        for item in setting.value_node.items:
            if isinstance(item.value, str) and _REGEX_SYNTAX.search(item.value):
                help_text = ("use a plain module name such as `q_proj`" if key != "target_modules" else
                             "use plain module names, or make `target_modules` one regex string matching full "
                             f"names, e.g. `'.*\\.(q_proj|v_proj)'`")
                yield Finding(item, f"`{item.value}` in `{key}` looks like a regular expression, but PEFT matches "
                                    "list entries literally (exact name or dotted suffix), so it matches nothing",
                              help_text)
