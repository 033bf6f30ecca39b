"""One real LoRA optimisation step, and the facts it establishes: which parameters got gradients, which weights
moved, what the adapter saves and whether it loads back to the same outputs.

The adapter is built by the installed PEFT from the trainer's exact LoraConfig kwargs, after the trainer's own
preparation calls. Nothing here decides what is wrong: `checks` turns these facts into findings at config lines.
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lora_lint.train_step.batches import fit_for_task, loss_of

# The optimizer trainers default to (transformers' TrainingArguments: AdamW, weight decay 0).
DEFAULT_LEARNING_RATE = 5e-5
RELOAD_ATOL = 1e-5
RELOAD_RTOL = 1e-4


@dataclass
class StepPlan:
    """Everything the step needs, decided before any tensor exists."""

    lora_kwargs: dict
    preparation: tuple[str, ...]  # the trainer's calls before get_peft_model, in its order
    task: str  # batches.task_of
    learning_rate: float
    adapter_dir: Path  # where the adapter is saved (a temporary directory unless --save-adapter)


@dataclass
class StepFacts:
    loss: float | None = None
    loss_without_adapter: float | None = None  # the base model's own loss, measured only when the loss is not finite
    trainable_parameters: int = 0
    lora_modules: list[str] = field(default_factory=list)  # modules PEFT put LoRA on
    parameter_wrappers: list[str] = field(default_factory=list)  # LoRA on parameters (target_parameters, MoE experts)
    saved_copies: list[str] = field(default_factory=list)  # modules_to_save wrappers
    copy_parameters: dict[str, list[str]] = field(default_factory=dict)  # wrapper -> its trainable copy's parameters
    no_gradient: list[str] = field(default_factory=list)  # trainable parameters whose gradient is None or all zero
    gradient_none: list[str] = field(default_factory=list)  # of those, the ones the backward pass never reached
    lora_b_zero_before: list[str] = field(default_factory=list)  # modules whose LoRA B started at zero
    frozen_with_gradient: list[str] = field(default_factory=list)
    frozen_changed: list[str] = field(default_factory=list)  # frozen parameters whose bits changed in the step
    lora_b_unchanged: list[str] = field(default_factory=list)  # modules whose LoRA B is where it started
    heads: dict[str, bool] = field(default_factory=dict)  # task head -> does the step train anything in it
    reload_max_difference: float | None = None  # largest logit difference, trained adapter vs reloaded
    reload_equal: bool | None = None  # torch.allclose of those logits
    reloaded_lora_modules: list[str] = field(default_factory=list)
    reloaded_parameter_wrappers: list[str] = field(default_factory=list)
    missing_keys: list[str] = field(default_factory=list)  # adapter keys PEFT looked for and the file lacks
    unexpected_keys: list[str] = field(default_factory=list)  # keys in the file that PEFT loads into nothing
    peft_warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_gpu_bytes: int | None = None


def run_step(model: Any, batch: dict, plan: StepPlan, reload_base: Callable[[], Any]) -> StepFacts:
    """Prepare, wrap, step, check reload. `reload_base` gives a fresh copy of the unprepared base model."""
    import peft
    import torch

    facts = StepFacts()
    start = time.perf_counter()
    fit_for_task(model, plan.task)
    device = next(model.parameters()).device
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    batch = {key: value.to(device) for key, value in batch.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _prepare(model, plan.preparation)
        peft_model = peft.get_peft_model(model, peft.LoraConfig(**copy.deepcopy(plan.lora_kwargs)))
    facts.peft_warnings = _peft_messages(caught)
    facts.lora_modules, facts.parameter_wrappers, facts.saved_copies = _adapter_modules(peft_model)
    trainable = {name: p for name, p in peft_model.named_parameters() if p.requires_grad}
    frozen = {name: p for name, p in peft_model.named_parameters() if not p.requires_grad}
    facts.trainable_parameters = sum(p.numel() for p in trainable.values())
    if not trainable:
        raise ValueError("PEFT built an adapter without a single trainable parameter")
    for name in trainable:
        if ".modules_to_save." in name:
            wrapper = _short(name).split(".modules_to_save.", 1)[0]
            facts.copy_parameters.setdefault(wrapper, []).append(_short(name))
    frozen_before = {name: _digest(p) for name, p in frozen.items()}
    b_before = {name: p.detach().clone() for name, p in trainable.items() if _is_lora_b(name)}

    peft_model.train()
    loss = loss_of(peft_model(**batch), plan.task)
    facts.loss = float(loss.detach())
    if not math.isfinite(facts.loss):
        with torch.no_grad(), peft_model.disable_adapter():
            facts.loss_without_adapter = float(loss_of(peft_model(**batch), plan.task))
        facts.seconds = time.perf_counter() - start
        return facts
    optimizer = torch.optim.AdamW(trainable.values(), lr=plan.learning_rate, weight_decay=0.0)
    loss.backward()
    for name, parameter in trainable.items():
        if parameter.grad is None:
            facts.gradient_none.append(_short(name))
        if parameter.grad is None or not bool(parameter.grad.detach().abs().sum() > 0):
            facts.no_gradient.append(_short(name))
    facts.lora_b_zero_before = sorted({_short(n).rsplit(".lora_", 1)[0] for n, before in b_before.items()
                                       if not bool(before.abs().sum() > 0)})
    facts.frozen_with_gradient = [_short(n) for n, p in frozen.items() if p.grad is not None]
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    facts.frozen_changed = [_short(n) for n, p in frozen.items() if _digest(p) != frozen_before[n]]
    facts.lora_b_unchanged = sorted({_short(n).rsplit(".lora_", 1)[0] for n, before in b_before.items()
                                     if torch.equal(trainable[n].detach(), before)})
    facts.heads = _head_training(peft_model, trainable, facts.no_gradient)
    if device.type == "cuda":
        facts.peak_gpu_bytes = torch.cuda.max_memory_allocated(device)
    _check_reload(peft_model, batch, plan, reload_base, facts)
    facts.seconds = time.perf_counter() - start
    return facts


def _prepare(model: Any, preparation: tuple[str, ...]) -> None:
    import peft

    for call in preparation:
        if call == "gradient_checkpointing_enable":
            model.gradient_checkpointing_enable()
        elif call == "prepare_model_for_kbit_training":
            peft.prepare_model_for_kbit_training(model)
        elif call == "use_cache_off":
            model.config.use_cache = False
        else:
            raise ValueError(f"unknown preparation call {call!r}")


def _adapter_modules(peft_model: Any) -> tuple[list[str], list[str], list[str]]:
    """(LoRA-wrapped modules, LoRA-wrapped parameters' modules, modules_to_save copies)."""
    from peft.tuners.lora import LoraLayer, ParamWrapper
    from peft.utils import ModulesToSaveWrapper

    modules, parameters, copies = [], [], []
    for name, module in peft_model.named_modules():
        if isinstance(module, ParamWrapper):
            parameters.append(_short(name))
        elif isinstance(module, LoraLayer):
            modules.append(_short(name))
        elif isinstance(module, ModulesToSaveWrapper):
            copies.append(_short(name))
    return sorted(modules), sorted(parameters), sorted(copies)


def _head_training(peft_model: Any, trainable: dict, no_gradient: list[str]) -> dict[str, bool]:
    """For a task head (what a classification class adds beside its backbone): whether any of its parameters is
    trainable and got a gradient."""
    base = peft_model.get_base_model()
    if not type(base).__name__.endswith(("ForSequenceClassification", "ForTokenClassification",
                                         "ForQuestionAnswering")):
        return {}
    backbone = getattr(base, base.base_model_prefix, None)
    trained_names = {_short(n) for n in trainable} - set(no_gradient)
    heads = {}
    for child_name, child in base.named_children():
        if child is backbone or not any(True for _ in child.parameters()):
            continue
        heads[child_name] = any(n == child_name or n.startswith(child_name + ".") for n in trained_names)
    return heads


def _check_reload(peft_model: Any, batch: dict, plan: StepPlan, reload_base: Callable[[], Any],
                  facts: StepFacts) -> None:
    import peft
    import torch
    from peft.utils import load_peft_weights, set_peft_model_state_dict

    peft_model.eval()
    with torch.no_grad():
        expected = _logits(peft_model(**batch))
    peft_model.save_pretrained(plan.adapter_dir)
    base = fit_for_task(reload_base(), plan.task)
    _prepare(base, tuple(call for call in plan.preparation if call != "gradient_checkpointing_enable"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = peft.PeftModel.from_pretrained(base, plan.adapter_dir)
    facts.peft_warnings += [m for m in _peft_messages(caught) if m not in facts.peft_warnings]
    facts.reloaded_lora_modules, facts.reloaded_parameter_wrappers, _ = _adapter_modules(loaded)
    result = set_peft_model_state_dict(loaded, load_peft_weights(str(plan.adapter_dir), device="cpu"))
    facts.missing_keys = sorted(k for k in result.missing_keys if ".lora_" in k or "modules_to_save" in k)
    facts.unexpected_keys = sorted(result.unexpected_keys)
    loaded.eval()
    with torch.no_grad():
        got = _logits(loaded(**batch))
    facts.reload_max_difference = float((got.float() - expected.float()).abs().max())
    facts.reload_equal = bool(torch.allclose(got.float(), expected.float(), atol=RELOAD_ATOL, rtol=RELOAD_RTOL))


def _logits(outputs: Any) -> Any:
    for key in ("logits", "start_logits", "last_hidden_state"):
        value = getattr(outputs, key, None)
        if value is not None:
            return value
    return outputs[0]


def _digest(parameter: Any) -> bytes:
    data = parameter.detach().contiguous().cpu().view(-1)
    import torch

    return hashlib.blake2b(data.view(torch.uint8).numpy().tobytes(), digest_size=16).digest()


def _is_lora_b(name: str) -> bool:
    return ".lora_B." in name or ".lora_embedding_B." in name


def _short(name: str) -> str:
    return name.removeprefix("base_model.model.")


def _peft_messages(caught: list) -> list[str]:
    return list(dict.fromkeys(str(w.message) for w in caught if "/peft/" in w.filename.replace("\\", "/")))
