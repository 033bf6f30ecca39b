"""PEFT 0.21's tables: default targets per model type, MoE rewrites, field history, task heads."""

ADAPTER_NAME = "default"

# peft/utils/constants.py TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as of 0.21; the second element is the
# first release that knew the model type (older ones raise "Please specify `target_modules`").
DEFAULT_TARGET_MODULES: dict[str, tuple[list[str] | str, tuple[int, ...]]] = {
    "t5": (["q", "v"], (0, 13)),
    "mt5": (["q", "v"], (0, 13)),
    "bart": (["q_proj", "v_proj"], (0, 13)),
    "gpt2": (["c_attn"], (0, 13)),
    "bloom": (["query_key_value"], (0, 13)),
    "blip-2": (["q", "v", "q_proj", "v_proj"], (0, 13)),
    "opt": (["q_proj", "v_proj"], (0, 13)),
    "gptj": (["q_proj", "v_proj"], (0, 13)),
    "gpt_neox": (["query_key_value"], (0, 13)),
    "gpt_neo": (["q_proj", "v_proj"], (0, 13)),
    "bert": (["query", "value"], (0, 13)),
    "roberta": (["query", "value"], (0, 13)),
    "xlm-roberta": (["query", "value"], (0, 13)),
    "electra": (["query", "value"], (0, 13)),
    "deberta-v2": (["query_proj", "value_proj"], (0, 13)),
    "deberta": (["in_proj"], (0, 13)),
    "layoutlm": (["query", "value"], (0, 13)),
    "llama": (["q_proj", "v_proj"], (0, 13)),
    "llama4": (["q_proj", "v_proj"], (0, 16)),
    "chatglm": (["query_key_value"], (0, 13)),
    "gpt_bigcode": (["c_attn"], (0, 13)),
    "mpt": (["Wqkv"], (0, 13)),
    "RefinedWebModel": (["query_key_value"], (0, 13)),
    "RefinedWeb": (["query_key_value"], (0, 13)),
    "falcon": (["query_key_value"], (0, 13)),
    "btlm": (["c_proj", "c_attn"], (0, 13)),
    "codegen": (["qkv_proj"], (0, 13)),
    "mistral": (["q_proj", "v_proj"], (0, 13)),
    "mixtral": (["q_proj", "v_proj"], (0, 13)),
    "stablelm": (["q_proj", "v_proj"], (0, 13)),
    "phi": (["q_proj", "v_proj", "fc1", "fc2"], (0, 13)),
    "gemma": (["q_proj", "v_proj"], (0, 13)),
    "gemma2": (["q_proj", "v_proj"], (0, 13)),
    "gemma3_text": (["q_proj", "v_proj"], (0, 16)),
    "gemma4": (r".*language_model\..*\.(q_proj|v_proj)", (0, 19)),
    "qwen2": (["q_proj", "v_proj"], (0, 13)),
    "qwen3": (["q_proj", "v_proj"], (0, 16)),
    "nemotron_h": (["q_proj", "k_proj", "v_proj", "o_proj"], (0, 20)),
    "rwkv": (["key", "value", "receptance", "output"], (0, 18)),
    "rwkv7": (["r_proj", "k_proj", "v_proj", "o_proj", "key", "value"], (0, 18)),
}

EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")
SEQ_CLS_HEAD_NAMES = ("score", "classifier")
INCLUDE_LINEAR_LAYERS_SHORTHAND = "all-linear"
MIN_TARGET_MODULES_FOR_OPTIMIZATION = 20
TASK_TYPES = ("SEQ_CLS", "SEQ_2_SEQ_LM", "CAUSAL_LM", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION")
# PeftModelFor{SequenceClassification,TokenClassification,QuestionAnswering} append these to modules_to_save:
# SEQ_CLS before building the tuner (so LoRA keeps off the head), the other two only after it (so all-linear or a
# regex can put LoRA on the head, and wrapping it then fails).
HEADS_ADDED_BEFORE_TUNER = ("SEQ_CLS",)
TASK_HEAD_MODULES = {
    "SEQ_CLS": ["classifier", "score"],
    "TOKEN_CLS": ["classifier", "score"],
    "QUESTION_ANS": ["qa_outputs"],
}
# PeftModelForCausalLM / PeftModelForSeq2SeqLM read `prepare_inputs_for_generation` off the base model.
GENERATION_TASKS = ("CAUSAL_LM", "SEQ_2_SEQ_LM")
MAMBA_MODEL_TYPES = ("falcon_h1", "mamba", "mamba2", "falcon_mamba", "nemotron_h")
MAMBA_INCOMPATIBLE_TARGETS = ("out_proj", "conv1d")

# transformers >= 5 fused the MoE experts of these model types into 3-d parameters; PEFT >= 0.19 rewrites v4-style
# expert targets into `target_parameters` (peft/utils/transformers_weight_conversion.py). Model types: those of
# transformers 5.24 whose conversion pattern (`_MODEL_TO_CONVERSION_PATTERN`, plus PEFT's own "mixtral" entry) is one
# of the two bases below and that have a checkpoint conversion mapping.
MOE_CONVERSION_BASE = {
    **dict.fromkeys(["mixtral", "minimax", "minimax_m2"], "mixtral"),
    **dict.fromkeys(
        [
            "Dots3NoteTextModel", "UnlimitedOcrTextModel", "afmoe", "beam", "cohere2_moe", "deepseek_v2",
            "deepseek_v3", "deepseek_v32", "dots1", "ernie4_5_moe", "exaone_moe", "flex_olmo", "glm4_moe",
            "glm4_moe_lite", "glm4v_moe", "glm_moe_dsa", "hunyuan_v1_moe", "longcat_flash", "mellum", "olmoe",
            "qwen3_moe", "qwen3_next", "qwen3_omni_moe", "qwen3_omni_moe_text", "qwen3_omni_moe_thinker",
            "sarvam_mla", "solar_open",
        ],
        "qwen2_moe",
    ),
}  # fmt: skip
MOE_TARGET_MODULE_MAPPING = {
    "mixtral": {"gate": "gate.weight", "w1": "gate_up_proj", "w3": "gate_up_proj", "w2": "down_proj"},
    "qwen2_moe": {
        "gate": "gate.weight",
        "gate_proj": "gate_up_proj",
        "up_proj": "gate_up_proj",
        "down_proj": "down_proj",
    },
}
MOE_FUSED_TARGETS = {
    "mixtral": {"gate_up_proj": ["w1", "w3"]},
    "qwen2_moe": {"gate_up_proj": ["gate_proj", "up_proj"]},
}

# LoraConfig fields and the release that introduced them: older releases reject them as unexpected keywords.
FIELD_SINCE = {
    "exclude_modules": (0, 14),
    "lora_bias": (0, 14),
    "trainable_token_indices": (0, 15),
    "target_parameters": (0, 17),
    "ensure_weight_tying": (0, 18),
}
# Options that change targets, shapes or trainable parameters in ways the replay does not model.
UNMODELLED_OPTIONS = ("use_dora", "layer_replication", "ensure_weight_tying", "trainable_token_indices")

# torch container classes that ModulesToSaveWrapper.check_module refuses.
CONTAINER_CLASSES = ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict")
LINEAR_KINDS = ("linear", "conv1d_gpt")
