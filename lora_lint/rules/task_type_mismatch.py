from lora_lint.rules import Finding, rule


@rule("LL307")
def check(ctx):
    inventory = ctx.model.inventory
    task_type = ctx.config.value("task_type")
    setting = ctx.config.settings.get("task_type")
    at = setting.value_node if setting is not None else ctx.config.anchor
    model_id = ctx.model.name
    if ctx.config.dialect == "llmtune" and inventory["is_encoder_decoder"]:
        yield Finding(ctx.config.model_ref.value_node if ctx.config.model_ref else at,
                      f"{model_id} is an encoder-decoder model, but the toolkit always loads "
                      "AutoModelForCausalLM", "use a decoder-only model with the toolkit")
        return
    if task_type == "SEQ_2_SEQ_LM" and not inventory["is_encoder_decoder"]:
        yield Finding(at, f"`task_type: SEQ_2_SEQ_LM` on {model_id}, a decoder-only model",
                      "use `task_type: CAUSAL_LM`")
    elif task_type in ("CAUSAL_LM", "SEQ_2_SEQ_LM") and not inventory["can_generate"]:
        yield Finding(at, f"`task_type: {task_type}` needs a model that can generate, but {model_id} "
                          f"loads as {inventory['class']}; PEFT raises", "pick the task type of your head, "
                          "e.g. `SEQ_CLS` or `TOKEN_CLS`")
