"""The model types a default test run sweeps: the families people fine-tune most, one model type each (a family
whose releases changed model type, like Gemma 3 or Qwen 3.5, counts each type)."""

DEFAULT_FAMILIES = (
    # decoder-only language models
    "llama", "llama4", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "qwen3_5", "gemma",
    "gemma2", "gemma3", "gemma3_text", "phi", "phi3", "phimoe", "gpt2", "gpt_neo", "gpt_neox", "gptj",
    "gpt_bigcode", "falcon", "bloom", "opt", "mpt", "starcoder2", "stablelm", "olmo", "olmo2", "olmoe", "cohere",
    "cohere2", "deepseek_v2", "deepseek_v3", "gpt_oss", "granite", "smollm3",
    # state-space and hybrid models
    "mamba", "mamba2", "jamba", "falcon_h1", "granitemoehybrid",
    # encoder-decoder models
    "t5", "bart", "whisper",
    # vision-language models
    "llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "idefics3", "paligemma", "mllama", "mistral3",
    # encoders
    "bert", "roberta", "xlm-roberta", "deberta-v2", "distilbert", "modernbert",
)  # fmt: skip
