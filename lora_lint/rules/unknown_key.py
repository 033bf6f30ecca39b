from lora_lint.fix.edits import UNSAFE, replace_scalar
from lora_lint.peft_schema import FIELD_TYPES, matches_type
from lora_lint.rules import Finding, rule
from lora_lint.suggest import closest, did_you_mean

# Names people write for LoraConfig fields in other tools' configs.
ALIASES = {
    "alpha": "lora_alpha",
    "dropout": "lora_dropout",
    "rank": "r",
    "lora_r": "r",
    "lora_rank": "r",
    "lora_target_modules": "target_modules",
    "lora_target": "target_modules",
    "target_layers": "target_modules",
}


@rule("LL101")
def check(ctx):
    known = ctx.peft
    fields = [name for name in known.fields if known.field_available(name)]
    for key, setting in ctx.config.settings.items():
        if known.field_known(key):
            continue
        suggestion = f"did you mean `{ALIASES[key]}`?" if key in ALIASES else did_you_mean(key, fields)
        yield Finding(setting.key_node,
                      f"unknown key `{key}`: not a LoraConfig field, `LoraConfig(**config)` raises TypeError on it",
                      suggestion or "remove it; `lora-lint explain LL101` lists where LoraConfig's fields are",
                      _rename(ctx, setting, ALIASES.get(key) or closest(key, fields)))


def _rename(ctx, setting, meant):
    """Unsafe: the trainer then receives a setting it never saw, and the guess may be wrong. Never into a key
    already set, or one whose type the value does not have (`alpha_factor: 2` is no `alpha_pattern`)."""
    types = FIELD_TYPES.get(meant or "")
    if meant is None or meant in ctx.config.settings or (
            types and not any(matches_type(setting.value, t) for t in types)):
        return None
    return replace_scalar(ctx, setting.key_node, meant, UNSAFE, f"renamed `{setting.key}` to `{meant}`")
