from lora_lint.model.parts import part_of
from lora_lint.rules import Finding, rule

# (category, does a module belong to it: (inventory, name) -> bool). Towers and projectors are the parts the
# inventory marks; an inventory that marks none (stored before parts were) is read by name.
CATEGORIES = (
    ("vision tower", lambda inv, name: part_of(inv, name) == "vision_tower" if inv.get("parts")
     else "vision" in name or "visual" in name),
    ("audio tower", lambda inv, name: part_of(inv, name) == "audio_tower"),
    ("multimodal projector", lambda inv, name: part_of(inv, name) == "projector"),
    ("MoE router", lambda inv, name: name.endswith((".gate", ".router"))),
    ("classification head", lambda inv, name: name.split(".", 1)[0] in ("classifier", "score", "qa_outputs",
                                                                         "classification_head")),
)


@rule("LL314")
def check(ctx):
    target = ctx.config.settings.get("target_modules")
    value = ctx.config.value("target_modules")
    result = ctx.model.match
    if not isinstance(value, str) or value.lower() != "all-linear" or result is None:
        return
    for category, belongs in CATEGORIES:
        hits = [name for name in result.targets if belongs(ctx.model.inventory, name)]
        if hits:
            yield Finding(target.value_node if target else ctx.config.anchor,
                          f"`all-linear` puts LoRA on {len(hits)} {category} module(s) of "
                          f"{len(result.targets)} (e.g. {hits[0]})",
                          "list target_modules explicitly, or add them to exclude_modules, if that is not meant")
