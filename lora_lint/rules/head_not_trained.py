from lora_lint.matcher import TASK_HEAD_MODULES
from lora_lint.rules import Finding, rule


@rule("LL311")
def check(ctx):
    task_type = ctx.config.value("task_type")
    result = ctx.model.match
    if task_type not in TASK_HEAD_MODULES or result is None or result.error:
        return
    inventory = ctx.model.inventory
    backbones = {stack["path"].split(".", 1)[0] for stack in inventory["layer_containers"]}
    trained = set(result.targets) | set(result.modules_to_save)
    heads = [m for m in inventory["modules"]
             if m["name"] and "." not in m["name"] and m["name"] not in backbones
             and m["name"] != inventory["output_embedding"] and _has_parameters(inventory, m["name"])]
    for head in heads:
        covered = any(name == head["name"] or name.startswith(head["name"] + ".") for name in trained)
        if not covered:
            setting = ctx.config.settings.get("modules_to_save") or ctx.config.settings.get("task_type")
            yield Finding(setting.value_node if setting else ctx.config.anchor,
                          f"the `{head['name']}` head of {inventory['class']} is new and randomly initialised, but "
                          "it is neither a LoRA target nor in modules_to_save: it stays frozen at random values and "
                          "is not saved with the adapter",
                          f"add `modules_to_save: [{head['name']}]`")


def _has_parameters(inventory, name):
    return any(m["parameters"] for m in inventory["modules"] if m["name"] == name or m["name"].startswith(name + "."))
