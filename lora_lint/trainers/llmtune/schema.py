"""The toolkit's pydantic schema, field for field: llm-toolkit 0.2.3, `llmtune/pydantic_models/config_model.py`.

Validated with pydantic itself (lax mode, unknown fields ignored), as the toolkit does, so every coercion and
rejection is pydantic's own. Two differences from the original, neither visible to a YAML file: `data.path` is
`Union[FilePath, str]` there (a YAML string always validates as the `str` member, a non-string fails both), and
`bnb_4bit_compute_dtype` defaults to `torch.bfloat16` there, which this module represents by a marker so that it
needs no torch (the toolkit crashes when it writes that default into its saved config, see `UNSERIALIZABLE`).
The tests check this copy against the installed toolkit on thousands of generated files.
"""


import warnings
from typing import List, Literal, Optional, Union

from pydantic import BaseModel, Field

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the toolkit's pydantic v1-style @validator is deprecated in pydantic v2
    from pydantic import validator


class _TorchBfloat16:
    """The toolkit's `torch.bfloat16` default: not a string, so PyYAML cannot write it into the saved config."""

    def __repr__(self) -> str:
        return "torch.bfloat16"


UNSERIALIZABLE = _TorchBfloat16()

HfModelPath = str


class QaConfig(BaseModel):
    llm_metrics: Optional[List[str]] = Field([])


class DataConfig(BaseModel):
    file_type: Literal["json", "jsonl", "csv", "huggingface"] = Field(None)
    path: HfModelPath = Field(None)
    prompt: str = Field(None)
    prompt_stub: str = Field(None)
    train_size: Optional[Union[float, int]] = Field(0.9)
    test_size: Optional[Union[float, int]] = Field(0.1)
    train_test_split_seed: int = Field(42)


class BitsAndBytesConfig(BaseModel):
    load_in_8bit: Optional[bool] = Field(False)
    llm_int8_threshold: Optional[float] = Field(6.0)
    llm_int8_skip_modules: Optional[List[str]] = Field(None)
    llm_int8_enable_fp32_cpu_offload: Optional[bool] = Field(False)
    llm_int8_has_fp16_weight: Optional[bool] = Field(False)
    load_in_4bit: Optional[bool] = Field(True)
    bnb_4bit_compute_dtype: Optional[str] = Field(UNSERIALIZABLE)
    bnb_4bit_quant_type: Optional[str] = Field("nf4")
    bnb_4bit_use_double_quant: Optional[bool] = Field(True)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")

    class ModelConfig(BaseModel):
        hf_model_ckpt: Optional[str] = Field("NousResearch/Llama-2-7b-hf")
        device_map: Optional[str] = Field("auto")
        torch_dtype: Optional[str] = Field("auto")
        attn_implementation: Optional[str] = Field(None)
        quantize: Optional[bool] = Field(False)
        bitsandbytes: BitsAndBytesConfig = Field(None)

        @validator("quantize")
        def set_bitsandbytes_to_none_if_no_quantization(cls, v, values, **kwargs):
            if v is False:
                values["bitsandbytes"] = None
            return v

        @validator("device_map")
        def set_device_map_to_none(cls, v, values, **kwargs):
            if v.lower() == "none":  # the toolkit's own code: raises AttributeError on `device_map: null`
                return None
            return v


class LoraConfig(BaseModel):
    r: Optional[int] = Field(8)
    task_type: Optional[str] = Field("CAUSAL_LM")
    lora_alpha: Optional[int] = Field(16)
    bias: Optional[str] = Field("none")
    lora_dropout: Optional[float] = Field(0.1)
    target_modules: Optional[Union[List[str], Literal["all-linear"]]] = Field("all-linear")
    fan_in_fan_out: Optional[bool] = Field(False)
    modules_to_save: Optional[List[str]] = Field(None)
    layers_to_transform: Optional[Union[List[int], int]] = Field(None)
    layers_pattern: Optional[str] = Field(None)


class TrainingArgs(BaseModel):
    num_train_epochs: Optional[int] = Field(1)
    per_device_train_batch_size: Optional[int] = Field(1)
    gradient_accumulation_steps: Optional[int] = Field(1)
    gradient_checkpointing: Optional[bool] = Field(True)
    optim: Optional[str] = Field("paged_adamw_32bit")
    logging_steps: Optional[int] = Field(100)
    learning_rate: Optional[float] = Field(2.0e-4)
    bf16: Optional[bool] = Field(False)
    tf32: Optional[bool] = Field(False)
    fp16: Optional[bool] = Field(False)
    max_grad_norm: Optional[float] = Field(0.3)
    warmup_ratio: Optional[float] = Field(0.03)
    lr_scheduler_type: Optional[str] = Field("constant")
    save_steps: Optional[Union[int, float]] = Field(500)


class SftArgs(BaseModel):
    max_seq_length: Optional[int] = Field(None)
    neftune_noise_alpha: Optional[float] = Field(None)


class TrainingConfig(BaseModel):
    training_args: TrainingArgs
    sft_args: SftArgs


class InferenceConfig(BaseModel):
    max_length: Optional[int] = Field(None)
    max_new_tokens: Optional[int] = Field(None)
    min_length: Optional[int] = Field(0)
    min_new_tokens: Optional[int] = Field(None)
    early_stopping: Optional[Union[bool, str]] = Field(False)
    max_time: Optional[float] = Field(None)
    do_sample: Optional[bool] = Field(False)
    num_beams: Optional[int] = Field(1)
    num_beam_groups: Optional[int] = Field(1)
    penalty_alpha: Optional[float] = Field(None)
    use_cache: Optional[bool] = Field(True)
    temperature: Optional[float] = Field(1.0)
    top_k: Optional[int] = Field(50)
    top_p: Optional[float] = Field(1.0)
    typical_p: Optional[float] = Field(1.0)
    epsilon_cutoff: Optional[float] = Field(0.0)
    eta_cutoff: Optional[float] = Field(0.0)
    diversity_penalty: Optional[float] = Field(0.0)
    repetition_penalty: Optional[float] = Field(1.0)
    encoder_repetition_penalty: Optional[float] = Field(1.0)
    length_penalty: Optional[float] = Field(1.0)
    no_repeat_ngram_size: Optional[int] = Field(0)
    bad_words_ids: Optional[List[List[int]]] = Field(None)
    force_words_ids: Optional[List[Union[List[int], List[List[int]]]]] = Field(None)
    renormalize_logits: Optional[bool] = Field(False)


class AblationConfig(BaseModel):
    use_ablate: Optional[bool] = Field(False)
    study_name: Optional[str] = Field("ablation")


class Config(BaseModel):
    save_dir: Optional[str] = Field("./experiments")
    ablation: AblationConfig
    data: DataConfig
    model: ModelConfig
    lora: LoraConfig
    training: TrainingConfig
    inference: InferenceConfig
    qa: QaConfig


def section_model(annotation) -> type[BaseModel] | None:
    """The pydantic model a field holds (unwrapping Optional), or None for a plain value."""
    from typing import get_args, get_origin

    if get_origin(annotation) is Union:
        annotation = get_args(annotation)[0]
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
