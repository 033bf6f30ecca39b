"""Which config object and model class transformers makes of a checkpoint's config.json, read the way a trainer's
`AutoConfig.from_pretrained` + `AutoModelFor*.from_config` (or a concrete class's `from_pretrained`) reads it.

Everything here imports transformers inside the functions; importing the module imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

# Auto class -> the transformers mapping its `from_config` looks the concrete class up in.
AUTO_CLASS_MAPPINGS = {
    "AutoModel": "MODEL_MAPPING",
    "AutoModelForCausalLM": "MODEL_FOR_CAUSAL_LM_MAPPING",
    "AutoModelForSeq2SeqLM": "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING",
    "AutoModelForSequenceClassification": "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING",
    "AutoModelForTokenClassification": "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING",
    "AutoModelForQuestionAnswering": "MODEL_FOR_QUESTION_ANSWERING_MAPPING",
    "AutoModelForImageTextToText": "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING",
}


class InventoryBuildError(Exception):
    """The model cannot be built from this config; the message tells the user why."""


class NeedsRemoteCode(InventoryBuildError):
    """The model exists only as its repository's own code, which is never run unless trust_remote_code is allowed."""


def config_and_class(
    config: dict, model_class: str, trust_remote_code: bool, code_location: str | None, revision: str | None
) -> tuple[Any, type]:
    """The config object the model class is instantiated with (a composite config's text part when the class is
    a text-only model, as `from_config` does) and the class itself."""
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    version = transformers.__version__
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise InventoryBuildError("config.json has no model_type, so transformers cannot tell which model it describes")
    if model_class.startswith("Auto") and model_class not in AUTO_CLASS_MAPPINGS:
        raise InventoryBuildError(
            f"unsupported Auto class {model_class}; lora-lint knows {', '.join(AUTO_CLASS_MAPPINGS)}"
        )
    config = _as_from_pretrained_reads(config)
    model_type = config["model_type"]

    native_config = model_type in CONFIG_MAPPING
    if native_config:
        hf_config = _config_from_dict(CONFIG_MAPPING[model_type], config)
        model_cls = _native_model_class(hf_config, model_class)
        if model_cls is not None:
            return _config_for_class(hf_config, model_cls), model_cls

    reference = _remote_code_reference(config, model_class)
    if reference is None:
        if not native_config:
            raise InventoryBuildError(f"transformers {version} does not know model_type {model_type!r}")
        raise InventoryBuildError(f"transformers {version} has no {model_class} for model_type {model_type!r}")
    if not trust_remote_code:
        raise NeedsRemoteCode(
            f"needs trust_remote_code: {model_class} for model_type {model_type!r} is the model repository's own "
            f"code ({reference}), which lora-lint does not run unless trust_remote_code is allowed"
        )
    return _remote_config_and_class(config, reference, native_config, code_location, revision)


def _as_from_pretrained_reads(config: dict) -> dict:
    """The dict `AutoConfig.from_pretrained` hands the config class: transformers writes non-finite floats as
    `{"__float__": "Infinity"}` (mamba2's `time_step_limit`) and decodes them on reading, and it reads a mistral
    config with `layer_types` as ministral."""
    import transformers

    config_base = getattr(transformers, "PreTrainedConfig", None) or transformers.PretrainedConfig
    decode = getattr(config_base, "_decode_special_floats", None)  # transformers 5; older ones wrote bare floats
    config = decode(config) if decode is not None else dict(config)
    if config.get("model_type") == "mistral" and "layer_types" in config:
        config = {**config, "model_type": "ministral"}
    return config


def _config_from_dict(config_cls: type, config: dict) -> Any:
    try:
        return config_cls.from_dict(config)
    except Exception as exc:  # invalid values in a user's config.json
        raise InventoryBuildError(
            f"{config_cls.__name__} rejects this config.json: {type(exc).__name__}: {exc}"
        ) from exc


def _native_model_class(hf_config: Any, model_class: str) -> type | None:
    import transformers
    from transformers.models.auto import modeling_auto

    mapping_name = AUTO_CLASS_MAPPINGS.get(model_class)
    if mapping_name is None:
        cls = getattr(transformers, model_class, None)
        return cls if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel) else None
    mapping = getattr(modeling_auto, mapping_name)
    if type(hf_config) not in mapping:
        return None
    candidates = mapping[type(hf_config)]
    if not isinstance(candidates, (list, tuple)):
        return candidates
    # A model type with several classes for one Auto class: `from_config` picks the one the config's architectures
    # name, else the first.
    by_name = {cls.__name__: cls for cls in candidates}
    return next((by_name[arch] for arch in (hf_config.architectures or []) if arch in by_name), candidates[0])


def _config_for_class(hf_config: Any, model_cls: type) -> Any:
    """A composite config (text, vision, ... parts) given to a class built on one of its parts is replaced by that
    part: `from_config` does so for the text part, and a concrete class's `from_pretrained` reads its own part out of
    the composite file (Llama 4's or Qwen 3.5's causal LM is built on `text_config`)."""
    wanted = getattr(model_cls, "config_class", None)
    if wanted is None or isinstance(hf_config, wanted):
        return hf_config
    for key, sub_config_cls in getattr(hf_config, "sub_configs", {}).items():
        if sub_config_cls is wanted:
            return hf_config.get_text_config() if key == "text_config" else getattr(hf_config, key)
    return hf_config


def _remote_code_reference(config: dict, model_class: str) -> str | None:
    """The `auto_map` entry ("module.Class") that provides `model_class`, keyed by Auto class or named by class."""
    auto_map = config.get("auto_map")
    if not isinstance(auto_map, dict):
        return None
    reference = auto_map.get(model_class)
    if isinstance(reference, str):
        return reference
    return next(
        (ref for ref in auto_map.values() if isinstance(ref, str) and ref.rsplit(".", 1)[-1] == model_class), None
    )


def _remote_config_and_class(
    config: dict, reference: str, native_config: bool, code_location: str | None, revision: str | None
) -> tuple[Any, type]:
    from transformers.dynamic_module_utils import get_class_from_dynamic_module
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if code_location is None:
        raise InventoryBuildError(
            "the model needs its own code, but there is no directory or repository to load it from"
        )
    config_reference = (config.get("auto_map") or {}).get("AutoConfig")
    if not native_config and not isinstance(config_reference, str):
        raise InventoryBuildError("the model needs its own code, but its auto_map names no AutoConfig")
    try:
        if native_config:
            config_cls = CONFIG_MAPPING[config["model_type"]]
        else:
            config_cls = get_class_from_dynamic_module(config_reference, code_location, revision=revision)
        model_cls = get_class_from_dynamic_module(reference, code_location, revision=revision)
    except Exception as exc:  # missing files, download failure, or an error in the repository's code
        raise InventoryBuildError(
            f"could not load the model's own code from {code_location}: {type(exc).__name__}: {exc}"
        ) from exc
    return _config_from_dict(config_cls, config), model_cls
