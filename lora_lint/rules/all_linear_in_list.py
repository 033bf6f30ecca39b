from lora_lint.fix.edits import SAFE, unwrap_single_item
from lora_lint.rules import Finding, rule


@rule("LL112")
def check(ctx):
    target = ctx.config.settings.get("target_modules")
    if target is None or target.value_node.kind != "seq":
        return
    for item in target.value_node.items:
        if isinstance(item.value, str) and item.value.lower() == "all-linear":
            yield Finding(item, "`all-linear` inside a list is matched as a module name, and no module has it: "
                                "PEFT only expands `all-linear` when it is the whole value",
                          "write `target_modules: all-linear` (a string, not a list)",
                          unwrap_single_item(ctx, target.value_node, SAFE, "wrote `target_modules: all-linear`"))
