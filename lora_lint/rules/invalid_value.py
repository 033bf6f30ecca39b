from lora_lint.fix.edits import SAFE, UNSAFE, replace_scalar
from lora_lint.peft_schema import BIAS_VALUES, PEFT_TYPE_LORA
from lora_lint.rules import Finding, rule
from lora_lint.suggest import closest


@rule("LL104")
def check(ctx):
    settings = ctx.config.settings

    def written(key):
        return [settings[key].value_node] if key in settings and isinstance(settings[key].value, str) else []

    allowed_tasks = ctx.peft.task_type_values()
    for node in written("task_type"):
        if node.value not in allowed_tasks:
            match = closest(node.value.upper(), allowed_tasks)
            yield Finding(node, f"`task_type: {node.value}` is not a PEFT task type; PeftConfig raises ValueError "
                                f"(the names are case-sensitive: {', '.join(allowed_tasks)})",
                          f"write `task_type: {match}`" if match else None, _fix(ctx, node, "task_type", match))
    for node in written("bias"):
        if node.value not in BIAS_VALUES:
            match = closest(node.value.lower(), BIAS_VALUES)
            yield Finding(node, f"`bias: {node.value}` is not one of {', '.join(BIAS_VALUES)}; PEFT raises "
                                "NotImplementedError when it builds the model",
                          f"write `bias: {match}`" if match else "`none` trains no biases",
                          _fix(ctx, node, "bias", match))
    for node in written("init_lora_weights"):
        if not ctx.peft.init_lora_weights_allows(node.value):
            allowed = ["true", "false", *ctx.peft.init_lora_weights_values()]
            match = closest(node.value.lower(), allowed)
            yield Finding(node, f"`init_lora_weights: {node.value}` is not an initialisation PEFT "
                                f"{ctx.peft.version} knows ({', '.join(allowed)})",
                          f"write `init_lora_weights: {match}`" if match else None,
                          _fix(ctx, node, "init_lora_weights", match))
    peft_type = settings.get("peft_type")
    if peft_type and isinstance(peft_type.value, str) and peft_type.value != PEFT_TYPE_LORA:
        yield Finding(peft_type.value_node,
                      f"`peft_type: {peft_type.value}`: PeftConfig.from_pretrained looks the type up "
                      f"case-sensitively and knows `{PEFT_TYPE_LORA}`",
                      f"write `peft_type: {PEFT_TYPE_LORA}`",
                      _fix(ctx, peft_type.value_node, "peft_type", PEFT_TYPE_LORA))


def _fix(ctx, node, key, match):
    """Only the letter case differs: the same value spelt as PEFT spells it (safe); another value is a guess."""
    if match is None or match in ("true", "false"):
        return None
    return replace_scalar(ctx, node, match, SAFE if match.lower() == node.value.lower() else UNSAFE,
                          f"wrote `{key}: {match}`")
