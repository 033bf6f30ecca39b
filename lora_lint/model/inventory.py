"""A model's module inventory: built on the meta device, kept as plain JSON-serialisable data.

The inventory is what rules and the torch-free matcher know of a model: every module PEFT iterates over, with its
class, shapes and which LoRA layer type can wrap it. Building needs torch, transformers and accelerate, imported only
inside the functions that build; importing this module imports none of them.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
from collections.abc import Iterator
from typing import Any

FORMAT_VERSION = 1

# Auto class -> the transformers mapping its `from_config` looks the concrete class up in.
AUTO_CLASS_MAPPINGS = {
    "AutoModel": "MODEL_MAPPING",
    "AutoModelForCausalLM": "MODEL_FOR_CAUSAL_LM_MAPPING",
    "AutoModelForSeq2SeqLM": "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING",
    "AutoModelForSequenceClassification": "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING",
    "AutoModelForTokenClassification": "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING",
    "AutoModelForQuestionAnswering": "MODEL_FOR_QUESTION_ANSWERING_MAPPING",
}

_TOP_LEVEL_KEYS = (
    "format", "model_type", "class", "is_encoder_decoder", "can_generate", "transformers_version",
    "total_parameters", "output_embedding", "tied_parameters", "layer_containers", "modules",
)


class InventoryBuildError(Exception):
    """The model cannot be built from this config; the message tells the user why."""


class NeedsRemoteCode(InventoryBuildError):
    """The model exists only as its repository's own code, which is never run unless trust_remote_code is allowed."""


class InventoryFormatError(ValueError):
    """Stored bytes are not a readable inventory of the current format."""


def build_inventory(
    config: dict,
    model_class: str,
    *,
    trust_remote_code: bool = False,
    code_location: str | None = None,
    revision: str | None = None,
) -> dict:
    """Build `model_class` (a concrete class name or an Auto class name) from a config.json dict on the meta device
    and describe it. `code_location` (a directory or repo id) and `revision` only matter for a model that needs its
    own code, which is loaded only when `trust_remote_code` is True. Raises InventoryBuildError (NeedsRemoteCode when
    the model's code would have to run)."""
    model = build_skeleton(config, model_class, trust_remote_code=trust_remote_code, code_location=code_location,
                           revision=revision)
    return _describe(model, model.config)


def build_skeleton(
    config: dict,
    model_class: str,
    *,
    trust_remote_code: bool = False,
    code_location: str | None = None,
    revision: str | None = None,
) -> Any:
    """The model itself, on the meta device with its tied weights tied (see build_inventory)."""
    import transformers
    from accelerate import init_empty_weights

    with _quiet_transformers():
        hf_config, model_cls = _config_and_class(config, model_class, trust_remote_code, code_location, revision)
        try:
            with init_empty_weights():
                model = model_cls(hf_config)
            # Under init_empty_weights transformers 5 leaves tied weights untied: tie them so that parameter counts
            # and shared storage are those of the real model.
            model.tie_weights()
        except Exception as exc:  # the config is user data: any failure of the model code is reported, not raised
            raise InventoryBuildError(
                f"transformers {transformers.__version__} could not build {model_cls.__name__} from this config: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return model


def concrete_class_name(config: dict, model_class: str) -> str:
    """The class transformers instantiates for `model_class` (an Auto class resolves through its mapping), for a
    model transformers supports natively. Raises InventoryBuildError otherwise."""
    with _quiet_transformers():
        return _config_and_class(config, model_class, False, None, None)[1].__name__


def lora_kind(module: Any) -> str | None:
    """Which PEFT LoRA layer type can wrap `module`: the isinstance tests of PEFT's `dispatch_default`, in its order
    (first match wins), so a subclass gets the kind of its first matching base."""
    for cls, kind in _lora_kind_classes():
        if isinstance(module, cls):
            return kind
    return None


def dump_inventory(inventory: dict) -> bytes:
    """Compact gzip-compressed JSON; mtime 0 so that rebuilding an unchanged inventory gives identical bytes."""
    text = json.dumps(inventory, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), mtime=0)


def load_inventory(data: bytes) -> dict:
    """Parse what `dump_inventory` wrote. Raises InventoryFormatError for anything else."""
    try:
        inventory = json.loads(gzip.decompress(data).decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:  # bad gzip, truncation, bad JSON
        raise InventoryFormatError(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(inventory, dict):
        raise InventoryFormatError("not a JSON object")
    missing = [key for key in _TOP_LEVEL_KEYS if key not in inventory]
    if missing:
        raise InventoryFormatError(f"missing {', '.join(missing)}")
    if inventory["format"] != FORMAT_VERSION:
        raise InventoryFormatError(f"format {inventory['format']!r}, expected {FORMAT_VERSION}")
    if not isinstance(inventory["modules"], list):
        raise InventoryFormatError("modules is not a list")
    return inventory


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' notices about the config (legacy values it rewrites, ...): they are not lint output."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)


@functools.cache
def _lora_kind_classes() -> tuple[tuple[type, str], ...]:
    from torch import nn
    from transformers.pytorch_utils import Conv1D

    return (
        (nn.Embedding, "embedding"),
        (nn.Conv2d, "conv2d"),
        (nn.Conv3d, "conv3d"),
        (nn.Conv1d, "conv1d"),
        (nn.MultiheadAttention, "mha"),
        (nn.Linear, "linear"),
        (Conv1D, "conv1d_gpt"),
    )


def _config_and_class(
    config: dict, model_class: str, trust_remote_code: bool, code_location: str | None, revision: str | None
) -> tuple[Any, type]:
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

    native_config = model_type in CONFIG_MAPPING
    if native_config:
        hf_config = _config_from_dict(CONFIG_MAPPING[model_type], config)
        model_cls = _native_model_class(hf_config, model_class)
        if model_cls is not None:
            return hf_config, model_cls

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


def _describe(model: Any, hf_config: Any) -> dict:
    import torch
    import transformers

    output_embedding = model.get_output_embeddings()
    output_embedding_name = None
    unlabelled_stack = _unlabelled_stack(hf_config.model_type, model.can_generate())
    modules = []
    layer_containers = []
    for name, module in model.named_modules():
        if output_embedding is not None and module is output_embedding:  # named_modules yields a module once
            output_embedding_name = name
        modules.append(_describe_module(name, module))
        if isinstance(module, torch.nn.ModuleList) and len(module) > 0:
            layer_containers.append({"path": name, "length": len(module), "stack": _stack_of(name, unlabelled_stack)})

    names_by_parameter: dict[int, list[str]] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        names_by_parameter.setdefault(id(parameter), []).append(name)
    tied = sorted(sorted(names) for names in names_by_parameter.values() if len(names) > 1)

    return {
        "format": FORMAT_VERSION,
        "model_type": hf_config.model_type,
        "class": type(model).__name__,
        "is_encoder_decoder": bool(getattr(hf_config, "is_encoder_decoder", False)),
        "can_generate": bool(model.can_generate()),
        "transformers_version": transformers.__version__,
        "total_parameters": sum(parameter.numel() for parameter in model.parameters()),
        "output_embedding": output_embedding_name,
        "tied_parameters": tied,
        "layer_containers": layer_containers,
        "modules": modules,
    }


def _describe_module(name: str, module: Any) -> dict:
    kind = lora_kind(module)
    parameters = dict(module.named_parameters(recurse=False))
    weight = parameters.get("weight")
    in_features, out_features = _in_out_features(module, kind)
    entry = {
        "name": name,
        "class": type(module).__name__,
        "lora_kind": kind,
        "weight_shape": list(weight.shape) if weight is not None else None,
        "in_features": in_features,
        "out_features": out_features,
        "parameters": sum(parameter.numel() for parameter in parameters.values()),
    }
    extra = {key: list(parameter.shape) for key, parameter in parameters.items() if key not in ("weight", "bias")}
    if extra:
        entry["extra_parameters"] = extra
    return entry


def _in_out_features(module: Any, kind: str | None) -> tuple[int | None, int | None]:
    """In and out features as PEFT's `_get_in_out_features` reads them for the layer types LoRA wraps."""
    if kind == "linear":
        return module.in_features, module.out_features
    if kind in ("conv1d", "conv2d", "conv3d"):
        return module.in_channels, module.out_channels
    if kind == "embedding":
        return module.num_embeddings, module.embedding_dim
    if kind == "conv1d_gpt":  # transformers' Conv1D stores its weight as (in, out)
        return module.weight.shape[0], module.weight.shape[1]
    if kind == "mha" and module.kdim == module.embed_dim and module.vdim == module.embed_dim:
        return module.embed_dim, 3 * module.embed_dim  # PEFT wraps the fused q/k/v input projection
    return None, None


def _unlabelled_stack(model_type: str, can_generate: bool) -> str:
    """The stack a layer list belongs to when its path names none (`model.layers`, `transformer.h`, ...)."""
    from transformers.models.auto import modeling_auto

    if model_type in modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "encoder"
    if model_type in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or can_generate:
        return "decoder"
    return "other"


def _stack_of(path: str, unlabelled: str) -> str:
    segments = path.split(".")
    if any(marker in segment for segment in segments for marker in ("vision", "visual", "image")):
        return "vision"
    if any(segment.startswith("text") or "language_model" in segment for segment in segments):
        return "text"
    for segment in reversed(segments):  # the innermost named stack wins: T5's encoder.block.0.layer is the encoder's
        if "encoder" in segment:
            return "encoder"
        if "decoder" in segment:
            return "decoder"
    return unlabelled
