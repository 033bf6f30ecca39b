from lora_lint.matcher import modules_matched_by_entry
from lora_lint.rules import Finding, rule


@rule("LL302")
def check(ctx):
    target = ctx.config.settings.get("target_modules")
    if target is None or target.value_node.kind != "seq":
        return
    modules = {m["name"]: m for m in ctx.model.inventory["modules"]}
    for item in target.value_node.items:
        if not isinstance(item.value, str):
            continue
        unwrappable = [modules[name] for name in modules_matched_by_entry(ctx.model.inventory, item.value)
                       if modules[name]["lora_kind"] is None]
        if not unwrappable:
            continue
        first = unwrappable[0]
        children = sorted({name.rsplit(".", 1)[-1] for name, m in modules.items()
                           if name.startswith(first["name"] + ".") and m["lora_kind"]})
        yield Finding(item, f"`{item.value}` matches {len(unwrappable)} module(s) of class {first['class']}, "
                            "which LoRA cannot wrap: PEFT raises ValueError (target module not supported)",
                      f"target its layers instead: {', '.join(children)}" if children else
                      "LoRA wraps Linear, Conv1D, Embedding and Conv layers; remove this entry")
