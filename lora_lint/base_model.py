"""The pipeline's model stage: which base model a config fine-tunes, resolved to its module inventory.

Torch-free for catalogued models; torch and transformers are imported (inside lora_lint.model.inventory) only when
a skeleton must be built. A config never turns on trust_remote_code: only the command-line flag does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from lora_lint.config import Setting
from lora_lint.peft_schema import FIELD_TYPES, matches_type
from lora_lint.diagnostics import FILE_START, Diagnostic

if TYPE_CHECKING:
    from lora_lint.lint import LintContext
    from lora_lint.model.resolve import ResolvedModel


@dataclass
class ModelContext:
    resolved: ResolvedModel
    model_class: str  # the class asked for (an Auto class or a concrete one)
    inventory: dict
    notes: list[str]  # how the inventory was obtained, when the user should know (e.g. a rebuilt cache entry)
    match: Any  # lora_lint.matcher.MatchResult: what PEFT builds from this config; None if the config is malformed
    defaulted: bool = False  # the file names no model; this is the trainer's default

    @property
    def name(self) -> str:
        """The model as messages name it."""
        suffix = " (the trainer's default base model: the file names none)" if self.defaulted else ""
        return f"{self.resolved.model_id}{suffix}"

    def top_level_stacks(self) -> list[dict]:
        """Layer containers not nested inside another one (T5's `encoder.block`, not `encoder.block.0.layer`)."""
        containers = self.inventory["layer_containers"]
        return [c for c in containers
                if not any(c["path"].startswith(other["path"] + ".") for other in containers)]

    def stacks_indexed_by(self, layers_pattern: Any, peft_version: str) -> list[str]:
        """The top-level stacks in which PEFT reads a layer index from module names under this layers_pattern
        (None: PEFT's default, the first numbered segment). Empty when the pattern selects no layer at all."""
        from lora_lint.matcher import layer_index

        stacks = []
        for stack in self.top_level_stacks():
            prefix = stack["path"] + "."
            if any(m["name"].startswith(prefix) and layer_index(m["name"], layers_pattern, peft_version) is not None
                   for m in self.inventory["modules"]):
                stacks.append(stack["path"])
        return stacks

    def summary(self) -> dict:
        return {
            "id": self.resolved.model_id,
            "source": self.resolved.source,
            "class": self.inventory["class"],
            "model_type": self.inventory["model_type"],
            "transformers": self.inventory["transformers_version"],
            "layers": sum(stack["length"] for stack in self.top_level_stacks()),
            "notes": self.notes,
        }


def model_reference(context: LintContext, settings_model: str | None) -> tuple[str | None, Setting | None, bool]:
    """The model to check against, the setting that named it (for positions), and whether it is the dialect's
    default: --model, then the settings' glob mapping, then the config itself, then the dialect's default."""
    if context.options.model:
        return context.options.model, None, False
    if settings_model:
        return settings_model, None, False
    setting = context.config.model_ref
    if setting is not None:
        value = setting.value
        return (value if isinstance(value, str) else None), setting, False
    if context.config.default_model:
        return context.config.default_model, None, True
    return None, None, False


def attach_model(context: LintContext, settings_model: str | None) -> None:
    """Resolve the base model and set context.model; problems become LL2xx diagnostics in context.notes."""
    from lora_lint.model.resolve import choose_model_class, get_inventory, revision_problem

    remote = context.config.extras.get("trust_remote_code")
    if remote is not None and remote.value is True:
        context.notes.append(Diagnostic(
            "LL202", "the config asks for trust_remote_code; lora-lint never runs a config's code on its say-so",
            remote.value_node.span,
            help="if you trust this model's repository, pass --trust-remote-code on the command line",
        ))
    reference, setting, defaulted = model_reference(context, settings_model)
    if reference is None:
        return
    span = setting.value_node.span if setting is not None else FILE_START
    revision = context.config.settings.get("revision")
    revision_value = revision.value if revision and isinstance(revision.value, str) else None
    problem = revision_problem(revision_value) if revision_value is not None else None
    if problem is not None:
        context.notes.append(Diagnostic(
            "LL201", f"cannot resolve base model `{reference}`: {problem}; model-aware checks skipped",
            revision.value_node.span,
            help="a revision is a branch or tag name (`main`, `v1.0`, `refs/pr/3`) or a 40-character commit hash"))
        return
    resolved = _resolve(reference, revision_value, context.options.offline)
    if not resolved.resolved:
        context.notes.append(Diagnostic(
            "LL201", f"cannot resolve base model `{reference}`; model-aware checks skipped",
            span, help="tried: " + "; ".join(resolved.tried)))
        return
    model_class = context.config.model_class or choose_model_class(resolved.config,
                                                                   task_type=context.config.value("task_type"))

    def inventory_of(model_class):
        return get_inventory(resolved, model_class, cache_dir=context.options.cache_dir,
                             use_cache=context.options.use_cache,
                             trust_remote_code=context.options.trust_remote_code)

    result = inventory_of(model_class)
    fallback = choose_model_class(resolved.config)
    if result.inventory is None and fallback != model_class:
        # No such head for this model type (SEQ_2_SEQ_LM on a decoder-only model): check against the model's own
        # class, so the task-type rule can say what is wrong.
        model_class, result = fallback, inventory_of(fallback)
    if result.inventory is None:
        needs_code = "trust_remote_code" in (result.failure or "")
        context.notes.append(Diagnostic(
            "LL202" if needs_code else "LL201",
            f"cannot build the skeleton of `{reference}`: {result.failure}; model-aware checks skipped", span,
            help="pass --trust-remote-code if you trust the model's repository" if needs_code else
            "pass --model with a catalogued or local model of the same architecture"))
        return
    if context.config.from_model is not None:  # kwargs the trainer computes from the loaded model
        context.config.from_model(result.inventory)
    context.model = ModelContext(resolved, model_class, result.inventory, result.notes,
                                 _match(context, result.inventory), defaulted=defaulted)


@lru_cache(maxsize=None)
def _resolve(reference: str, revision: str | None, offline: bool) -> ResolvedModel:
    """Once per model and process: many configs name the same model, and an unreachable Hub costs seconds."""
    from lora_lint.model.resolve import resolve_model

    return resolve_model(reference, revision, offline=offline)


def peft_kwargs(context: LintContext) -> dict[str, Any]:
    """The LoraConfig keyword arguments to replay. Keys this PEFT does not have are left out, as the toolkit drops
    them (unknown-key and peft-version-mismatch report them)."""
    return {key: value for key, value in context.config.kwargs().items() if context.peft.field_available(key)}


# Flags PEFT only tests for truth: None (axolotl passes `fan_in_fan_out=None` when the file leaves it out) is False.
NONE_AS_FALSE = {"fan_in_fan_out"}


def _match(context: LintContext, inventory: dict) -> Any:
    """Replay PEFT on the inventory, unless a value has the wrong type (LL102 reports that; PEFT would crash)."""
    kwargs = peft_kwargs(context)
    for key, value in kwargs.items():
        expected = FIELD_TYPES.get(key)
        if value is None and key in NONE_AS_FALSE:
            continue
        if expected is not None and not any(matches_type(value, t) for t in expected):
            return None
    return _cached_match(inventory, json.dumps(kwargs, sort_keys=True, default=str), str(context.peft.version))


_MATCHES: dict[tuple[int, str, str], Any] = {}


def _cached_match(inventory: dict, kwargs_json: str, peft_version: str) -> Any:
    """One replay per (model, LoRA settings, PEFT version) and process: config repositories repeat LoRA sections
    across many files (sweeps over learning rates, datasets). Inventories are cached per process, so their id is
    stable while they are alive; the result is shared read-only."""
    from lora_lint.matcher import match

    key = (id(inventory), kwargs_json, peft_version)
    if key not in _MATCHES:
        _MATCHES[key] = (inventory, match(inventory, json.loads(kwargs_json), peft_version))
    return _MATCHES[key][1]
