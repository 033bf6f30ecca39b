from lora_lint.peft_schema import matches_type
from lora_lint.rules import Finding, rule

_POSITIVE = {"r": "the LoRA rank", "lora_alpha": "the LoRA scaling numerator",
             "qalora_group_size": "the QALoRA group size"}


@rule("LL103")
def check(ctx):
    settings = ctx.config.settings
    for key, what in _POSITIVE.items():
        for node in [settings[key].value_node] if key in settings else []:
            if matches_type(node.value, "number") and node.value <= 0:
                yield Finding(node, f"`{key}` is {what} and must be positive, got {node.value}",
                              f"use a positive value, e.g. `{key}: 16`")
    for node in [settings["lora_dropout"].value_node] if "lora_dropout" in settings else []:
        if matches_type(node.value, "number") and not 0 <= node.value < 1:
            yield Finding(node, f"`lora_dropout` is a probability in [0, 1), got {node.value}",
                          "typical values are 0.05 to 0.1; 0 disables dropout")
    for variant in [settings["layers_to_transform"].value_node] if "layers_to_transform" in settings else []:
        for node in variant.items if variant.kind == "seq" else [variant]:
            if matches_type(node.value, "int") and node.value < 0:
                yield Finding(node, f"layer index {node.value} is negative; PEFT compares indices with the "
                                    "number in each module's name, so it matches no layer",
                              "layer indices count from 0")
    for key in ("rank_pattern", "alpha_pattern"):
        setting = settings.get(key)
        if setting and setting.value_node.kind == "map":
            for key_node, value_node in setting.value_node.pairs:
                if matches_type(value_node.value, "number") and value_node.value <= 0:
                    yield Finding(value_node, f"`{key}` entry `{key_node.value}` must be positive, got "
                                              f"{value_node.value}", f"use a positive {key.split('_')[0]}")
