from lora_lint.fix.edits import SAFE, remove_item
from lora_lint.rules import Finding, rule


@rule("LL109")
def check(ctx):
    for key in ("target_modules", "modules_to_save", "exclude_modules", "layers_to_transform"):
        setting = ctx.config.settings.get(key)
        if setting is None or setting.value_node.kind != "seq":
            continue
        first_line = {}
        for index, item in enumerate(setting.value_node.items):
            value = item.to_python()
            if not isinstance(value, (str, int)):
                continue
            if value in first_line:
                yield Finding(item, f"`{value}` appears twice in `{key}` (first on line {first_line[value]})",
                              "remove the repeated entry",
                              remove_item(ctx, setting.value_node, index, SAFE, f"removed the repeated `{value}`"))
            else:
                first_line[value] = item.span.start.line
