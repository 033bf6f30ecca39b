from lora_lint.fix.edits import UNSAFE, replace_scalar
from lora_lint.matcher import modules_matched_by_entry
from lora_lint.rules import Finding, rule
from lora_lint.suggest import closest

# What other architectures call the attention projections people copy from Llama configs.
CROSS_ARCHITECTURE = {
    "q_proj": {"gpt2": "c_attn", "bloom": "query_key_value", "falcon": "query_key_value",
               "gpt_neox": "query_key_value", "t5": "q", "bert": "query", "roberta": "query",
               "distilbert": "q_lin", "deberta-v2": "query_proj"},
    "v_proj": {"gpt2": "c_attn", "bloom": "query_key_value", "falcon": "query_key_value",
               "gpt_neox": "query_key_value", "t5": "v", "bert": "value", "roberta": "value",
               "distilbert": "v_lin", "deberta-v2": "value_proj"},
    "k_proj": {"gpt2": "c_attn", "bloom": "query_key_value", "t5": "k", "bert": "key", "roberta": "key",
               "distilbert": "k_lin", "deberta-v2": "key_proj"},
    "o_proj": {"gpt2": "c_proj", "bloom": "dense", "t5": "o", "bert": "dense", "roberta": "dense",
               "distilbert": "out_lin", "opt": "out_proj", "gptj": "out_proj", "gpt_neo": "out_proj",
               "phi": "dense", "bart": "out_proj"},
    "gate_proj": {"gpt2": "c_fc", "bloom": "dense_h_to_4h", "phi": "fc1", "opt": "fc1", "gptj": "fc_in",
                  "gpt_neo": "c_fc", "bart": "fc1"},
    "up_proj": {"gpt2": "c_fc", "bloom": "dense_h_to_4h", "opt": "fc1", "phi": "fc1", "gptj": "fc_in",
                "gpt_neo": "c_fc", "bart": "fc1", "distilbert": "lin1"},
    "down_proj": {"gpt2": "c_proj", "bloom": "dense_4h_to_h", "opt": "fc2", "phi": "fc2", "gptj": "fc_out",
                  "gpt_neo": "c_proj", "bart": "fc2", "distilbert": "lin2"},
}


@rule("LL301")
def check(ctx):
    target = ctx.config.settings.get("target_modules")
    inventory = ctx.model.inventory
    if target is None or target.value_node.kind != "seq":
        return
    wrappable_leaves = sorted({m["name"].rsplit(".", 1)[-1] for m in inventory["modules"]
                               if m["lora_kind"] and m["name"]})
    result = ctx.model.match
    error = result.error if result else None
    # PEFT rewrites transformers-4 MoE expert targets (w1, gate_proj, ...) into target_parameters of the fused experts.
    rewritten = set()
    if result is not None and result.effective_target_parameters and isinstance(result.effective_target_modules,
                                                                                  list):
        rewritten = {entry for entry in target.value if entry not in result.effective_target_modules}
    nothing = error is not None and error.kind in ("target_modules_not_found", "no_modules_targeted")
    entries = [item.value for item in target.value_node.items if isinstance(item.value, str)]
    if not nothing:
        consequence = ""
    elif rewritten or any(modules_matched_by_entry(inventory, entry) for entry in entries):
        # The other entries do match modules, but the layer filter leaves none of them: say so, not "nothing".
        consequence = (f"; the entries that match name modules outside the layers `layers_to_transform` keeps, so "
                       f"no module is left and PEFT raises {error.type}")
    else:
        consequence = f"; no entry matches anything, so PEFT raises {error.type} (target modules not found)"
    model_type = inventory["model_type"]
    for item in target.value_node.items:
        if not isinstance(item.value, str) or item.value.lower() == "all-linear":
            continue
        if item.value in rewritten or modules_matched_by_entry(inventory, item.value):
            continue
        hint = CROSS_ARCHITECTURE.get(item.value, {}).get(model_type)
        if hint is None:
            hint = closest(item.value.rsplit(".", 1)[-1], wrappable_leaves)
        yield Finding(item, f"`{item.value}` matches no module of {ctx.model.name} "
                            f"({inventory['class']}){consequence}",
                      f"this model calls it `{hint}`" if hint else
                      f"its LoRA-able modules are named {', '.join(wrappable_leaves[:12])}",
                      replace_scalar(ctx, item, hint, UNSAFE, f"replaced `{item.value}` with `{hint}`")
                      if hint in wrappable_leaves else None)
