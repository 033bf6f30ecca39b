"""Predict, without torch, what PEFT's ``get_peft_model`` does with a LoRA config on a model.

The input is a model *inventory* (plain data: the module tree of a transformers model, see
``lora_lint.model.inventory``) and the ``LoraConfig`` keyword arguments as the user wrote them. ``match`` replays
PEFT's injection on a small simulated module tree: the same regexes, in the same order, with the same in-place
rewrites of the config, so that quirks (plain-suffix ``modules_to_save``, fan_in_fan_out flips, the v4->v5 MoE
rewrite, the target-list condensation, ...) come out exactly as PEFT has them.

Semantics follow PEFT 0.21; where a behaviour changed between 0.13 and 0.21 the code branches on the version
(``self.version >= (0, x)`` comparisons) and says which release changed it. Options whose effect is not replayed
(DoRA, layer replication, weight-tying adapters, trainable tokens) are reported as ``unmodelled_option`` warnings.
This package must not import torch, transformers or peft: the linter runs where none of them is installed.

Modules: ``replay`` (get_peft_model / inject_adapter and the checks on its result), ``config`` (LoraConfig and its
validation), ``targets`` (which modules target/exclude_modules select), ``layers`` (layers_to_transform indices),
``patterns`` (rank/alpha pattern keys), ``regexes`` (config regexes under a time budget), ``lora_layers`` (LoRA
layers on modules and parameters), ``moe`` (the v5 MoE rewrite), ``modules_to_save``, ``tree`` (the simulated
module tree), ``results``, ``constants`` (PEFT's tables).
"""

from __future__ import annotations

import re
from typing import Optional

from lora_lint.matcher.config import version_tuple
from lora_lint.matcher.constants import TASK_HEAD_MODULES
from lora_lint.matcher.layers import layer_index_match
from lora_lint.matcher.patterns import get_pattern_key
from lora_lint.matcher.regexes import SlowRegex, ensure_budget
from lora_lint.matcher.replay import Replay
from lora_lint.matcher.results import MatchResult, PeftErrorInfo, PeftRaise, PeftWarningInfo

__all__ = [
    "MatchResult",
    "PeftErrorInfo",
    "PeftWarningInfo",
    "match",
    "modules_matched_by_entry",
    "layer_index",
    "pattern_key_for",
    "TASK_HEAD_MODULES",
]


def match(inventory: dict, lora: dict, peft_version: str) -> MatchResult:
    """Replay ``get_peft_model(model, LoraConfig(**lora))`` of PEFT ``peft_version`` on the inventoried model."""
    replay = Replay(inventory, lora, version_tuple(peft_version))
    error = None
    try:
        with ensure_budget():
            replay.run()
    except PeftRaise as raised:
        error = raised.info
    except re.error as raised:
        # An invalid regex in target_modules, exclude_modules, modules_to_save, layers_pattern or a pattern key.
        error = PeftErrorInfo("error", "invalid_regex", f"{raised} (pattern {raised.pattern!r})")
    except SlowRegex as raised:
        # PEFT would still be matching (LL330 reports the pattern); the state is what it had reached.
        error = PeftErrorInfo("hang", "regex_timeout", str(raised))
    root = replay.peft_model or replay.root
    config = replay.config
    return MatchResult(
        targets=sorted(replay.targets),
        target_parameters=sorted(replay.target_parameters),
        modules_to_save=sorted(set(replay.wrapped)),
        rank=replay.rank,
        alpha=replay.alpha,
        error=error,
        warnings=replay.warnings,
        trainable_parameters=sum(p.numel for p in root.unique_params() if p.trainable),
        effective_target_modules=(
            sorted(config.target_modules) if isinstance(config.target_modules, set) else config.target_modules
        )
        if config
        else None,
        effective_target_parameters=sorted(config.target_parameters)
        if config and config.target_parameters is not None
        else None,
        effective_modules_to_save=list(config.modules_to_save) if config and config.modules_to_save is not None else None,
    )


def modules_matched_by_entry(inventory: dict, entry: str) -> list[str]:
    """Module names a single ``target_modules`` list entry selects (exact full name or dotted suffix)."""
    return list(_names_by_suffix(inventory).get(str(entry), ()))


_SUFFIX_INDEXES: dict[int, tuple[dict, dict[str, list[str]]]] = {}


def _names_by_suffix(inventory: dict) -> dict[str, list[str]]:
    """Every module name under each of its dotted suffixes (`q_proj`, `self_attn.q_proj`, ... the full name), in
    inventory order: rules ask once per list entry, and lists can be long. Kept per inventory object (inventories
    are cached per process; the reference keeps the id stable)."""
    cached = _SUFFIX_INDEXES.get(id(inventory))
    if cached is None:
        index: dict[str, list[str]] = {}
        for record in inventory["modules"]:
            name = record["name"]
            if name:
                parts = name.split(".")
                for start in range(len(parts)):
                    index.setdefault(".".join(parts[start:]), []).append(name)
        cached = _SUFFIX_INDEXES[id(inventory)] = (inventory, index)
    return cached[1]


def layer_index(module_name: str, layers_pattern, peft_version: str) -> Optional[int]:
    """The layer index PEFT reads from ``module_name`` for ``layers_to_transform`` (None: the module is never
    selected when layers_to_transform is set)."""
    index = layer_index_match(module_name, layers_pattern, version_tuple(peft_version))
    return int(index) if index is not None else None


def pattern_key_for(pattern_keys, module_name: str, peft_version: str) -> Optional[str]:
    """The ``rank_pattern`` / ``alpha_pattern`` key PEFT applies to ``module_name`` (the first matching one), or
    None when no key matches."""
    key = get_pattern_key(list(pattern_keys), module_name, version_tuple(peft_version))
    return key if key in pattern_keys else None
