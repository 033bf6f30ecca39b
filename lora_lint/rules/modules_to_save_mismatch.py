from lora_lint.matcher import TASK_HEAD_MODULES
from lora_lint.rules import Finding, rule
from lora_lint.suggest import closest

LARGE = 10_000_000


@rule("LL306")
def check(ctx):
    setting = ctx.config.settings.get("modules_to_save")
    if setting is None or setting.value_node.kind != "seq":
        return
    modules = {m["name"]: m for m in ctx.model.inventory["modules"]}
    targets = ctx.config.value("target_modules")
    listed_targets = set(targets) if isinstance(targets, list) else set()
    # Names PEFT adds to modules_to_save by itself for the task type; saved adapter configs list them all.
    automatic = TASK_HEAD_MODULES.get(ctx.config.value("task_type"), ())
    for item in setting.value_node.items:
        if not isinstance(item.value, str):
            continue
        wrapped = [name for name in modules if name and name.endswith(item.value)]
        if not wrapped and item.value not in automatic:
            leaves = sorted({name.rsplit(".", 1)[-1] for name in modules if name})
            hint = closest(item.value, leaves)
            yield Finding(item, f"`{item.value}` in `modules_to_save` matches no module; PEFT ignores it silently, "
                                "so nothing extra is trained or saved",
                          f"did you mean `{hint}`?" if hint else None)
            continue
        if not wrapped:
            continue
        exact = [name for name in wrapped if name == item.value or name.endswith("." + item.value)]
        extra = sorted(set(wrapped) - set(exact))
        if extra:
            yield Finding(item, f"`{item.value}` also wraps {', '.join(extra[:3])}: PEFT matches modules_to_save "
                                "by plain suffix, so every name ending in it is trained and saved",
                          "use a longer dotted name that only the intended module ends with")
        if item.value in listed_targets:
            yield Finding(item, f"`{item.value}` is in both `target_modules` and `modules_to_save`",
                          "keep it in one of the two: saved modules are trained in full")
        size = sum(modules[name]["parameters"] for name in wrapped)
        if size >= LARGE:
            yield Finding(item, f"`{item.value}` adds {size:,} fully trainable parameters "
                                f"({len(wrapped)} module(s))",
                          "expected when training embeddings or the head; check GPU memory and checkpoint size")
