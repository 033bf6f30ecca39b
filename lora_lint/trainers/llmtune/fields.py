"""The toolkit's schema as plain data, for what needs no pydantic: which keys exist (unknown keys, the sweep code's
annotation lookups) and a fast path that recognises a run the schema certainly accepts unchanged.

Importing pydantic and building the schema costs more than the rest of a lint; a well-typed file (the common case
in a pre-commit hook) does not need it. Anything the fast path does not recognise goes to pydantic (schema.py), so
the fast path only has to be right about what it accepts; tests check this table against schema.py field for
field and both paths against the installed toolkit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spec:
    kind: str  # a section name (see SECTIONS), or a value kind checked by `_exact`
    default: Any = None
    optional: bool = True  # Optional[...] in the schema: null is accepted
    required: bool = False  # no default: the field must be written
    list_first: bool = False  # the annotation's first alternative is a List (the sweep code's `list` fields)


def _opt(kind: str, default: Any = None, list_first: bool = False) -> Spec:
    return Spec(kind, default, True, False, list_first)


SECTIONS: dict[str, dict[str, Spec]] = {
    "Config": {
        "save_dir": _opt("str", "./experiments"),
        "ablation": Spec("AblationConfig", optional=False, required=True),
        "data": Spec("DataConfig", optional=False, required=True),
        "model": Spec("ModelConfig", optional=False, required=True),
        "lora": Spec("LoraConfig", optional=False, required=True),
        "training": Spec("TrainingConfig", optional=False, required=True),
        "inference": Spec("InferenceConfig", optional=False, required=True),
        "qa": Spec("QaConfig", optional=False, required=True),
    },
    "QaConfig": {"llm_metrics": _opt("list[str]", [], list_first=True)},
    "DataConfig": {
        "file_type": Spec("literal:json,jsonl,csv,huggingface", None, optional=False),
        "path": Spec("str", None, optional=False),
        "prompt": Spec("str", None, optional=False),
        "prompt_stub": Spec("str", None, optional=False),
        "train_size": _opt("float|int", 0.9),
        "test_size": _opt("float|int", 0.1),
        "train_test_split_seed": Spec("int", 42, optional=False),
    },
    "BitsAndBytesConfig": {
        "load_in_8bit": _opt("bool", False),
        "llm_int8_threshold": _opt("float", 6.0),
        "llm_int8_skip_modules": _opt("list[str]", None, list_first=True),
        "llm_int8_enable_fp32_cpu_offload": _opt("bool", False),
        "llm_int8_has_fp16_weight": _opt("bool", False),
        "load_in_4bit": _opt("bool", True),
        "bnb_4bit_compute_dtype": _opt("str", "torch.bfloat16"),  # not a string in the toolkit: see schema.py
        "bnb_4bit_quant_type": _opt("str", "nf4"),
        "bnb_4bit_use_double_quant": _opt("bool", True),
    },
    "ModelConfig": {
        "hf_model_ckpt": _opt("str", "NousResearch/Llama-2-7b-hf"),
        "device_map": _opt("device_map", "auto"),
        "torch_dtype": _opt("str", "auto"),
        "attn_implementation": _opt("str", None),
        "quantize": _opt("bool", False),
        "bitsandbytes": Spec("BitsAndBytesConfig", None, optional=False),
    },
    "LoraConfig": {
        "r": _opt("int", 8),
        "task_type": _opt("str", "CAUSAL_LM"),
        "lora_alpha": _opt("int", 16),
        "bias": _opt("str", "none"),
        "lora_dropout": _opt("float", 0.1),
        "target_modules": _opt("list[str]|all-linear", "all-linear", list_first=True),
        "fan_in_fan_out": _opt("bool", False),
        "modules_to_save": _opt("list[str]", None, list_first=True),
        "layers_to_transform": _opt("list[int]|int", None, list_first=True),
        "layers_pattern": _opt("str", None),
    },
    "TrainingArgs": {
        "num_train_epochs": _opt("int", 1),
        "per_device_train_batch_size": _opt("int", 1),
        "gradient_accumulation_steps": _opt("int", 1),
        "gradient_checkpointing": _opt("bool", True),
        "optim": _opt("str", "paged_adamw_32bit"),
        "logging_steps": _opt("int", 100),
        "learning_rate": _opt("float", 2.0e-4),
        "bf16": _opt("bool", False),
        "tf32": _opt("bool", False),
        "fp16": _opt("bool", False),
        "max_grad_norm": _opt("float", 0.3),
        "warmup_ratio": _opt("float", 0.03),
        "lr_scheduler_type": _opt("str", "constant"),
        "save_steps": _opt("int|float", 500),
    },
    "SftArgs": {"max_seq_length": _opt("int"), "neftune_noise_alpha": _opt("float")},
    "TrainingConfig": {
        "training_args": Spec("TrainingArgs", optional=False, required=True),
        "sft_args": Spec("SftArgs", optional=False, required=True),
    },
    "InferenceConfig": {
        "max_length": _opt("int"), "max_new_tokens": _opt("int"), "min_length": _opt("int", 0),
        "min_new_tokens": _opt("int"), "early_stopping": _opt("bool|str", False), "max_time": _opt("float"),
        "do_sample": _opt("bool", False), "num_beams": _opt("int", 1), "num_beam_groups": _opt("int", 1),
        "penalty_alpha": _opt("float"), "use_cache": _opt("bool", True), "temperature": _opt("float", 1.0),
        "top_k": _opt("int", 50), "top_p": _opt("float", 1.0), "typical_p": _opt("float", 1.0),
        "epsilon_cutoff": _opt("float", 0.0), "eta_cutoff": _opt("float", 0.0),
        "diversity_penalty": _opt("float", 0.0), "repetition_penalty": _opt("float", 1.0),
        "encoder_repetition_penalty": _opt("float", 1.0), "length_penalty": _opt("float", 1.0),
        "no_repeat_ngram_size": _opt("int", 0), "bad_words_ids": _opt("other", None, list_first=True),
        "force_words_ids": _opt("other", None, list_first=True), "renormalize_logits": _opt("bool", False),
    },
    "AblationConfig": {"use_ablate": _opt("bool", False), "study_name": _opt("str", "ablation")},
}

# Left out, these are null in the config `llmtune run` saves and re-reads, which its own schema then rejects.
REQUIRED_AFTER_RELOAD = {("data", "file_type"), ("data", "path"), ("data", "prompt"), ("data", "prompt_stub"),
                         ("model", "bitsandbytes"), ("model", "bitsandbytes", "bnb_4bit_compute_dtype")}


def leaf_or_section(path) -> str | Spec:
    """`get_annotation` of the toolkit's sweep code, on the table: a section's name, or a leaf field's Spec.
    Raises as the original does: AttributeError below a leaf (a plain annotation has no `__annotations__`),
    KeyError on a key the section lacks."""
    current: str | Spec = "Config"
    for part in path.split("."):
        if not isinstance(current, str):
            raise AttributeError(f"{part}: not a section")
        spec = SECTIONS[current][part]
        current = spec.kind if spec.kind in SECTIONS else spec
    return current


class _NotCertain(Exception):
    pass


def accept_exactly(section: str, data: Any, path: tuple = ()) -> dict | None:
    """The validated section (every field, defaults filled in) when the toolkit certainly accepts `data` as
    written, on both validations of `llmtune run`; None when pydantic must decide."""
    try:
        return _section(section, data, path)
    except _NotCertain:
        return None


def _section(section: str, data: Any, path: tuple) -> dict:
    if not isinstance(data, dict) or any(not isinstance(key, str) for key in data):
        raise _NotCertain
    result = {}
    for name, spec in SECTIONS[section].items():
        here = path + (name,)
        if name not in data:
            if spec.required or here in REQUIRED_AFTER_RELOAD:
                raise _NotCertain
            result[name] = spec.default
            continue
        value = data[name]
        if spec.kind in SECTIONS:
            result[name] = _section(spec.kind, value, here)
        elif value is None and spec.optional and spec.kind != "device_map":
            result[name] = None
        else:
            result[name] = _exact(spec.kind, value)
    return result


def _exact(kind: str, value: Any) -> Any:
    """The value pydantic makes of `value` when it is already of the kind (an int for a float field becomes a
    float); anything else is not certain."""
    def is_int(v):
        return type(v) is int

    if kind == "int" and is_int(value):
        return value
    if kind == "float" and (type(value) is float or is_int(value)):
        return float(value)
    if kind in ("float|int", "int|float") and (type(value) is float or is_int(value)):
        return value
    if kind == "str" and type(value) is str:
        return value
    if kind == "bool" and type(value) is bool:
        return value
    if kind == "bool|str" and type(value) in (bool, str):
        return value
    if kind.startswith("literal:") and type(value) is str and value in kind[8:].split(","):
        return value
    if kind == "device_map" and type(value) is str and value.lower() != "none":
        return value
    if kind in ("list[str]", "list[str]|all-linear") and type(value) is list and all(type(v) is str for v in value):
        return list(value)
    if kind == "list[str]|all-linear" and value == "all-linear":
        return value
    if kind == "list[int]|int" and (is_int(value) or (type(value) is list and all(is_int(v) for v in value))):
        return list(value) if type(value) is list else value
    raise _NotCertain
