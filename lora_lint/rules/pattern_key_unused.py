from lora_lint.matcher import pattern_key_for
from lora_lint.rules import Finding, rule


@rule("LL315")
def check(ctx):
    result = ctx.model.match
    if result is None or result.error:
        return
    version = str(ctx.peft.version)
    for attribute in ("rank_pattern", "alpha_pattern"):
        setting = ctx.config.settings.get(attribute)
        if setting is None or setting.value_node.kind != "map":
            continue
        keys = [str(key_node.value) for key_node, _ in setting.value_node.pairs]
        winners = {pattern_key_for(keys, target, version) for target in result.targets}
        for key_node, _ in setting.value_node.pairs:
            key = str(key_node.value)
            if key in winners:
                continue
            matched = [t for t in result.targets if pattern_key_for([key], t, version) == key]
            if not matched:
                yield Finding(key_node, f"`{attribute}` key `{key}` matches no module that gets LoRA; PEFT ignores it",
                              "keys are regexes matched against the end of module names, e.g. `q_proj` or "
                              "`layers\\.0\\.self_attn\\.q_proj`")
            else:
                earlier = pattern_key_for(keys, matched[0], version)
                yield Finding(key_node, f"`{attribute}` key `{key}` never applies: the earlier key `{earlier}` also "
                                        f"matches every module it matches ({len(matched)}, e.g. {matched[0]}), and "
                                        "PEFT takes the first matching key", "put the more specific key first")
