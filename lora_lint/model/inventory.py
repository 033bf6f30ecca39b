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

from lora_lint.model.loading import AUTO_CLASS_MAPPINGS, InventoryBuildError, NeedsRemoteCode, config_and_class
from lora_lint.model.parts import describe_parts, part_of, stack_of, unlabelled_stack

__all__ = [
    "AUTO_CLASS_MAPPINGS", "FORMAT_VERSION", "InventoryBuildError", "InventoryFormatError", "NeedsRemoteCode",
    "build_inventory", "build_skeleton", "concrete_class_name", "dump_inventory", "load_inventory", "lora_kind",
]

# 2: `parts` (multimodal towers, projectors, language model) and composite configs built as `from_config` does.
FORMAT_VERSION = 2

_TOP_LEVEL_KEYS = (
    "format", "model_type", "class", "is_encoder_decoder", "can_generate", "transformers_version",
    "total_parameters", "output_embedding", "tied_parameters", "layer_containers", "modules",
)


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
    return describe_model(model, model.config)  # the config the model was built on: a composite's text part, maybe


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

    with quiet_transformers():
        hf_config, model_cls = config_and_class(config, model_class, trust_remote_code, code_location, revision)
        try:
            model = _instantiate(model_cls, hf_config, from_auto=model_class in AUTO_CLASS_MAPPINGS)
            # Under init_empty_weights transformers 5 leaves tied weights untied: tie them so that parameter counts
            # and shared storage are those of the real model.
            model.tie_weights()
        except Exception as exc:  # the config is user data: any failure of the model code is reported, not raised
            raise InventoryBuildError(
                f"transformers {transformers.__version__} could not build {model_cls.__name__} from this config: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return model


def _instantiate(model_cls: type, hf_config: Any, from_auto: bool) -> Any:
    """The model on the meta device, buffers included: a causal mask of GPT-Neo's 16,384 positions per layer would
    otherwise be allocated for real (4 GB). Model code that computes with a buffer while it builds (a meta tensor has
    no values) is built again with real buffers."""
    from accelerate import init_empty_weights

    def build() -> Any:
        # An Auto class builds through `_from_config`, as `from_config` does (it applies the config's dtype).
        return model_cls._from_config(hf_config) if from_auto else model_cls(hf_config)

    try:
        with init_empty_weights(include_buffers=True):
            return build()
    except Exception:  # noqa: BLE001 -- retried below; a failure there is the one reported
        with init_empty_weights():
            return build()


def concrete_class_name(config: dict, model_class: str) -> str:
    """The class transformers instantiates for `model_class` (an Auto class resolves through its mapping), for a
    model transformers supports natively. Raises InventoryBuildError otherwise."""
    with quiet_transformers():
        return config_and_class(config, model_class, False, None, None)[1].__name__


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
def quiet_transformers() -> Iterator[None]:
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


def describe_model(model: Any, hf_config: Any) -> dict:
    import torch
    import transformers

    output_embedding = model.get_output_embeddings()
    output_embedding_name = None
    unlabelled = unlabelled_stack(hf_config.model_type, model.can_generate())
    parts = describe_parts(model)
    modules = []
    layer_containers = []
    for name, module in model.named_modules():
        if output_embedding is not None and module is output_embedding:  # named_modules yields a module once
            output_embedding_name = name
        modules.append(_describe_module(name, module))
        if isinstance(module, torch.nn.ModuleList) and len(module) > 0:
            stack = stack_of(name, unlabelled, part_of({"parts": parts}, name))
            layer_containers.append({"path": name, "length": len(module), "stack": stack})

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
        "parts": parts,
        "modules": modules,
    }


def _describe_module(name: str, module: Any) -> dict:
    kind = lora_kind(module)
    parameters = dict(module.named_parameters(recurse=False))
    weight = parameters.get("weight")
    in_features, out_features = (int(size) if size is not None else None for size in _in_out_features(module, kind))
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


def _in_out_features(module: Any, kind: str | None) -> tuple[Any, Any]:
    """In and out features as PEFT's `_get_in_out_features` reads them for the layer types LoRA wraps (some model
    code stores them as 0-d tensors)."""
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
