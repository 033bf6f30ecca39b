"""The normalized view of a config: what a trainer hands to PEFT, run by run, and what it did to the file on the way.

A trainer module (lora_lint/trainers/) reads the parsed tree the way its trainer does and returns a TrainerReading:
the trainer's own verdict (TrainerIssue, each at the node that causes it), and one LoraConfigView per run, holding
the exact `LoraConfig` kwargs after the trainer's coercions, defaults and drops. Rules reason about the views, so
they never deal with a trainer's layout or quirks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from lora_lint.diagnostics import Span
from lora_lint.peft_schema import FIELD_TYPES, matches_type
from lora_lint.source import Node


# peft.LoraConfig's own defaults for the keys rules reason about: what a key nobody passes ends up as.
PEFT_DEFAULTS = {
    "r": 8,
    "lora_alpha": 8,
    "lora_dropout": 0.0,
    "target_modules": None,
    "fan_in_fan_out": False,
    "bias": "none",
    "modules_to_save": None,
    "layers_to_transform": None,
    "layers_pattern": None,
    "task_type": None,
}


@dataclass
class Setting:
    """One LoraConfig kwarg as the trainer passes it, with the nodes that locate it in the source. For a trainer
    that coerces values, `value_node` carries the coerced value at the written node's span."""

    key: str
    key_node: Node
    value_node: Node

    @property
    def value(self) -> Any:
        return self.value_node.to_python()


@dataclass
class TrainerIssue:
    """Something the trainer itself does to the file: rejects it, crashes on it, coerces, drops or ignores a key."""

    kind: str  # what the trainer does; each kind has its rule (lora_lint.trainers.TRAINER_RULES)
    at: Node | Span
    message: str
    help: str | None = None
    runs: tuple[int, ...] | None = None  # the 1-based runs it concerns; None: the file as a whole
    path: tuple = ()  # where in the trainer's schema (`("lora", "r")`), as its validation error names it
    raises: str | None = None  # the exception the trainer stops with (`ValidationError`, `KeyError`), if it stops
    meant: str | None = None  # for an ignored key: the field it was probably meant to be, not set beside it

    @property
    def blocking(self) -> bool:
        """The trainer stops here: nothing of this run reaches PEFT."""
        return self.kind in BLOCKING_KINDS


# The kinds after which the trainer stops.
BLOCKING_KINDS = {"rejects", "missing-section", "sweep-error"}


@dataclass
class LoraConfigView:
    """One run of a config: the LoraConfig kwargs its trainer passes to PEFT, and where each came from."""

    dialect: str
    section: Node  # the mapping that holds the LoRA keys
    settings: dict[str, Setting]  # the kwargs written in the file (after the trainer's coercions)
    defaults: dict[str, Any]  # what the trainer passes to LoraConfig for keys the file leaves out (None too)
    model_ref: Setting | None = None  # the base model the config fine-tunes
    # Settings outside the LoRA section that some rules check (torch dtypes, trust_remote_code, ...).
    extras: dict[str, Setting] = field(default_factory=dict)
    section_key: Node | None = None  # the key that opens the section (`lora:`), None for top-level keys
    default_model: str | None = None  # what the trainer fine-tunes when the file names no base model
    model_class: str | None = None  # the class the trainer loads the base model with; None: PEFT's task_type decides
    run: int = 1  # 1-based index of this run among the trainer's runs of the file
    axes: dict[str, Any] = field(default_factory=dict)  # the swept values of this run (`lora.r` -> 64)
    issues: list[TrainerIssue] = field(default_factory=list)  # what the trainer does to the file, for this run
    # The LoRA kwargs are known even if the trainer stops elsewhere (a missing `qa:` section, say): what PEFT
    # will receive once the file runs. False: the LoRA section itself is rejected, so PEFT-level rules skip the run.
    kwargs_known: bool = True
    # The trainer's own key for each LoraConfig kwarg it passes (`target_modules` -> `lora_target_modules`), so
    # that messages about this run speak the trainer's language.
    vocabulary: dict[str, str] = field(default_factory=dict)
    # Kwargs the trainer computes from the loaded model (axolotl's all-linear scan, LLaMA-Factory's `lora_target:
    # all`): called with the inventory when the model is attached.
    from_model: Callable[[dict], None] | None = None

    def in_trainer_words(self, diagnostic):
        """The diagnostic with each backticked LoraConfig name this trainer spells otherwise in its own name."""
        if not self.vocabulary or "PEFT would raise" in diagnostic.message:  # PEFT's own words stay PEFT's
            return diagnostic
        pattern = re.compile(r"`(" + "|".join(map(re.escape, self.vocabulary)) + r")(?=[`:= \]])")

        def words(text):
            return text and pattern.sub(lambda m: "`" + self.vocabulary[m.group(1)], text)

        return replace(diagnostic, message=words(diagnostic.message), help=words(diagnostic.help))

    @property
    def anchor(self) -> Node:
        """Where to report about a setting the file leaves out: the section's key, else its first key."""
        if self.section_key is not None:
            return self.section_key
        return self.section.pairs[0][0] if self.section.pairs else self.section

    @property
    def rejected(self) -> bool:
        """The trainer stops before this run reaches PEFT."""
        return any(issue.blocking for issue in self.issues)

    def has(self, key: str) -> bool:
        return key in self.settings

    def issues_of(self, kind: str) -> list[TrainerIssue]:
        return [issue for issue in self.issues if issue.kind == kind]

    def value(self, key: str) -> Any:
        """The value LoraConfig ends up with: as passed (by the file or the trainer's defaults), else PEFT's own
        default, else None. A value of the wrong type reads as None here: invalid-type reports it, and other rules
        reason only about well-typed values."""
        if key in self.settings:
            value = self.settings[key].value
        else:
            value = self.defaults[key] if key in self.defaults else PEFT_DEFAULTS.get(key)
        expected = FIELD_TYPES.get(key)
        if expected is not None and not any(matches_type(value, t) for t in expected):
            return None
        return value

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments the trainer passes to peft.LoraConfig: its defaults, then what the file sets."""
        kwargs = dict(self.defaults)
        kwargs.update((key, setting.value) for key, setting in self.settings.items())
        return kwargs

    def provenance(self) -> dict[str, str]:
        """Where each kwarg comes from: `line:column` of the value in the file, or `default` (the trainer's)."""
        where = {key: "default" for key in self.kwargs()}
        for key, setting in self.settings.items():
            start = setting.value_node.span.start
            where[key] = f"{start.line}:{start.column}"
        return where


@dataclass
class TrainerReading:
    """A trainer's reading of one file: its runs (at least one view, even when it rejects the file), the verdict,
    what it loads and which versions it pins."""

    trainer: str
    runs: list[LoraConfigView]
    run_count: int  # how many runs the trainer starts; 0 when it fails before expanding a sweep
    pins: dict[str, str] = field(default_factory=dict)  # package -> version specifier the trainer installs
    whole_file: bool = True  # False: a fragment (only a LoRA section), checked as that section alone
    failure: TrainerIssue | None = None  # the first thing the trainer stops on, in its own order

    @property
    def verdict(self) -> str:
        return "rejects" if self.failure is not None else "accepts"

    def summary(self) -> dict:
        """For the JSON report: the verdict, pins, model class, and each run's kwargs with their provenance."""
        first = self.runs[0]
        return {
            "name": self.trainer,
            "verdict": self.verdict,
            "whole_file": self.whole_file,
            "model_class": first.model_class,
            "pins": self.pins,
            "run_count": self.run_count,
            "runs": [] if self.failure is not None and self.run_count == 0 else [
                {"run": view.run, "axes": view.axes, "rejected": view.rejected,
                 "kwargs": view.kwargs() if view.kwargs_known else None,
                 "provenance": view.provenance() if view.kwargs_known else None}
                for view in self.runs
            ],
        }


def mapping_settings(section: Node) -> dict[str, Setting]:
    settings: dict[str, Setting] = {}
    for key_node, value_node in section.pairs:
        key = str(key_node.value) if key_node.kind == "scalar" else key_node.text
        settings[key] = Setting(key, key_node, value_node)
    return settings


def single_run(view: LoraConfigView, trainer: str) -> TrainerReading:
    """A reading for a file read as written (no trainer in between): one run, accepted."""
    return TrainerReading(trainer, [view], 1)


def coerced_node(node: Node, value: Any) -> Node:
    """A node at `node`'s span that holds `value`, the value the trainer made of what is written there."""
    if isinstance(value, list) and node.kind == "seq" and len(node.items) == len(value):
        return Node("seq", node.span, text=node.text, items=[coerced_node(n, v) for n, v in zip(node.items, value)],
                    start=node.start, end=node.end, shared=node.shared)
    if isinstance(value, (list, dict)):
        return node
    return Node("scalar", node.span, value=value, text=node.text, quoted=node.quoted, start=node.start, end=node.end,
                shared=node.shared)
