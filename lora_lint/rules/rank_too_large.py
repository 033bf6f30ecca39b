from lora_lint.rules import Finding, rule


@rule("LL312")
def check(ctx):
    result = ctx.model.match
    if result is None or result.error:
        return
    modules = {m["name"]: m for m in ctx.model.inventory["modules"]}
    too_large: dict[int, list[tuple[str, int]]] = {}
    for name in result.targets:
        module = modules[name]
        rank = result.rank.get(name)
        if rank is None or module["in_features"] is None or module["out_features"] is None:
            continue
        limit = min(module["in_features"], module["out_features"])
        if rank > limit:
            too_large.setdefault(rank, []).append((name, limit))
    setting = ctx.config.settings.get("r")
    for rank, hits in sorted(too_large.items()):
        name, limit = hits[0]
        yield Finding(setting.value_node if setting else ctx.config.anchor,
                      f"rank {rank} exceeds min(in, out) = {limit} of {len(hits)} targeted module(s) (e.g. {name}): "
                      "the update cannot have rank above that, so the extra parameters are wasted",
                      f"use r <= {limit}, or a rank_pattern entry for these modules")
