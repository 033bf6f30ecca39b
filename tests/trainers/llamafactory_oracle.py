"""LLaMA-Factory 0.9.5's own config code, run on a config text: the ground truth for lora-lint's llamafactory trainer.

Installed with `pip install --no-deps llamafactory==0.9.5` (omegaconf, which the dev extras install, is the only
other package it needs here). Real code, loaded from the installed wheel file by file:
- OmegaConf.load + to_container, as hparams/parser.py `read_args` does;
- hparams/{model,data,training,finetuning,generating}_args.py, each module loaded alone from its file, and
  transformers' `HfArgumentParser(_TRAIN_ARGS).parse_dict(..., allow_extra_keys=False)`, as `_parse_train_args`;
- model/model_utils/misc.py `find_all_linear_modules` and visual.py `patch_target_modules`, loaded alone (the
  `llamafactory.model` packages are registered empty so their `__init__`s, which import the trainer loop, do not run).

Transcribed, because their modules cannot be imported without `datasets` (hparams/parser.py imports
evaluation_args.py, which imports it; model/adapter.py imports model_utils/quantization.py, which imports it):
- parser.py `_verify_model_args` (`verify_model_args` below), line for line;
- the LoraConfig kwargs of adapter.py `_setup_lora_tuning` (`lora_kwargs` below), line for line.
The transformers used is the installed one (5.24), not LLaMA-Factory's top pin (5.6), so generated configs use
no TrainingArguments keys whose presence differs between the two.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import types
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("DISABLE_VERSION_CHECK", "1")

_DIST = importlib.metadata.distribution("llamafactory")
VERSION = _DIST.version


def _load(relative: str):
    name = "llamafactory." + relative[:-3].replace("/", ".")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _DIST.locate_file("llamafactory/" + relative))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _empty_package(name: str, relative: str) -> None:
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(_DIST.locate_file("llamafactory/" + relative))]
        sys.modules[name] = package


_ARGS = [_load(f"hparams/{name}.py") for name in ("model_args", "data_args", "training_args", "finetuning_args",
                                                   "generating_args")]
_empty_package("llamafactory.model", "model")
_empty_package("llamafactory.model.model_utils", "model/model_utils")
misc = _load("model/model_utils/misc.py")
visual = _load("model/model_utils/visual.py")

from omegaconf import OmegaConf  # noqa: E402
from transformers import HfArgumentParser  # noqa: E402

PARSER = HfArgumentParser([_ARGS[0].ModelArguments, _ARGS[1].DataArguments, _ARGS[2].TrainingArguments,
                           _ARGS[3].FinetuningArguments, _ARGS[4].GeneratingArguments])
FIELDS = {cls.__name__: {f.name for f in cls.__dataclass_fields__.values() if f.init}
          for cls in PARSER.dataclass_types}


@dataclass
class Outcome:
    accepted: bool
    raises: str | None = None  # `ValueError: ...`
    kwargs: dict | None = None  # what reaches LoraConfig (target_modules ["<all>"] when the model decides)
    finetuning: Any = None  # the FinetuningArguments
    resumes: bool = False


def run(text: str) -> Outcome:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    try:
        data = OmegaConf.to_container(OmegaConf.load(handle.name))
        model_args, data_args, training_args, finetuning_args, _ = PARSER.parse_dict(data, allow_extra_keys=False)
        verify_model_args(model_args, finetuning_args)
        kwargs, resumes = lora_kwargs(model_args, finetuning_args)
    except Exception as exc:  # noqa: BLE001 - any exception stops the trainer
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    finally:
        os.unlink(handle.name)
    return Outcome(True, kwargs=kwargs, finetuning=finetuning_args, resumes=resumes)


def verify_model_args(model_args, finetuning_args) -> None:
    """parser.py `_verify_model_args` (LLaMA-Factory 0.9.5), transcribed."""
    if model_args.adapter_name_or_path is not None and finetuning_args.finetuning_type != "lora":
        raise ValueError("Adapter is only valid for the LoRA method.")
    if model_args.quantization_bit is not None:
        if finetuning_args.finetuning_type not in ["lora", "oft"]:
            raise ValueError("Quantization is only compatible with the LoRA or OFT method.")
        if finetuning_args.pissa_init:
            raise ValueError("Please use scripts/pissa_init.py to initialize PiSSA for a quantized model.")
        if model_args.resize_vocab:
            raise ValueError("Cannot resize embedding layers of a quantized model.")
        if model_args.adapter_name_or_path is not None and finetuning_args.create_new_adapter:
            raise ValueError("Cannot create new adapter upon a quantized model.")
        if model_args.adapter_name_or_path is not None and len(model_args.adapter_name_or_path) != 1:
            raise ValueError("Quantized model only accepts a single adapter. Merge them first.")


def lora_kwargs(model_args, finetuning_args) -> tuple[dict | None, bool]:
    """adapter.py `_setup_lora_tuning` for training (is_trainable) with a LoRA finetuning type, transcribed up to
    the LoraConfig call; the model-dependent steps are left to `model_targets`. (None, True) when it resumes a
    saved adapter instead."""
    if finetuning_args.finetuning_type != "lora":
        return None, False
    if model_args.adapter_name_or_path is not None and not finetuning_args.create_new_adapter:
        return None, True
    if len(finetuning_args.lora_target) == 1 and finetuning_args.lora_target[0] == "all":
        target_modules = ["<all>"]
    else:
        target_modules = finetuning_args.lora_target
    peft_kwargs = {
        "r": finetuning_args.lora_rank,
        "target_modules": target_modules,
        "lora_alpha": finetuning_args.lora_alpha,
        "lora_dropout": finetuning_args.lora_dropout,
        "use_rslora": finetuning_args.use_rslora,
        "use_dora": finetuning_args.use_dora,
        "modules_to_save": finetuning_args.additional_target,
    }
    if finetuning_args.pissa_init:
        if finetuning_args.pissa_iter == -1:
            peft_kwargs["init_lora_weights"] = "pissa"
        else:
            peft_kwargs["init_lora_weights"] = f"pissa_niter_{finetuning_args.pissa_iter}"
    return {"task_type": "CAUSAL_LM", "inference_mode": False, **peft_kwargs}, False


def model_targets(model, finetuning_args) -> list:
    """`target_modules` as adapter.py computes it on a built model, with the real scan and patch."""
    target = finetuning_args.lora_target
    if len(target) == 1 and target[0] == "all":
        target = misc.find_all_linear_modules(model, finetuning_args.freeze_vision_tower)
    return visual.patch_target_modules(model, finetuning_args, target)
