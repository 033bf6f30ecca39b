"""The step's checks: each turns facts of the step into pass/fail, and a failure into a finding on the config line
that causes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lora_lint.config import LoraConfigView
from lora_lint.rules import Finding
from lora_lint.source import Node
from lora_lint.train_step.step import StepFacts

# Options whose trainable parameters lora-lint's static count leaves out (the matcher reports them as unmodelled).
_UNCOUNTED_OPTIONS = ("use_dora", "layer_replication", "trainable_token_indices", "ensure_weight_tying")


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str
    findings: list[tuple[str, Finding]]  # (rule code, finding)


@dataclass
class Prediction:
    """What `check` predicts for the stepped model (the miniature's own replay in miniature mode)."""

    targets: list[str]
    modules_to_save: list[str]
    trainable_parameters: int


def run_checks(facts: StepFacts, prediction: Prediction, config: LoraConfigView, learning_rate: Node | None,
               model_ref: Node | None) -> list[CheckResult]:
    where = _Locator(config)
    results = [_loss(facts, where, model_ref)]
    if facts.loss is None or facts.reload_equal is None:
        return results  # the loss was not finite: nothing was stepped
    results += [
        _gradients(facts, where),
        _heads(facts, where),
        _frozen(facts, where),
        _lora_b(facts, where, learning_rate),
        _trainable_count(facts, prediction, where),
        _reload(facts, prediction, where),
    ]
    return [r for r in results if r is not None]


def _loss(facts: StepFacts, where: _Locator, model_ref: Node | None) -> CheckResult:
    import math

    if facts.loss is not None and math.isfinite(facts.loss):
        return CheckResult("loss-finite", True, f"loss {facts.loss:.4f}", [])
    if facts.loss_without_adapter is not None and math.isfinite(facts.loss_without_adapter):
        node = where.first("lora_alpha", "init_lora_weights", "r", "use_rslora")
        message = (f"the loss is {facts.loss} with the adapter and {facts.loss_without_adapter:.4f} without it: "
                   "the adapter's initial output overflows")
        help_text = ("a LoRA update starts at zero with `init_lora_weights: true`; otherwise keep "
                     "lora_alpha / r near 1-2")
    else:
        node = model_ref or where.anchor
        message = f"the loss is {facts.loss} before the adapter changes anything: the base model's output is not finite"
        help_text = "check the weights (NaN or inf in the checkpoint) and the dtype they are loaded in"
    return CheckResult("loss-finite", False, message, [("LL402", Finding(node, message, help_text))])


def _gradients(facts: StepFacts, where: _Locator) -> CheckResult:
    """Every LoRA parameter gets a gradient, and a non-zero one where the other factor is non-zero (the A matrix's
    gradient is zero on the first step of a zero-initialised B); every modules_to_save copy gets a non-zero one."""
    findings = []
    by_module: dict[str, list[str]] = {}
    for name in facts.no_gradient:
        module, _, tail = name.rpartition(".lora_") if ".lora_" in name else (name, "", "")
        expected_zero = (tail.startswith(("A.", "embedding_A.")) and module in facts.lora_b_zero_before
                         and name not in facts.gradient_none)
        if tail and not expected_zero:
            by_module.setdefault(module, []).append(name)
    by_entry: dict[int, tuple[Node, str | None, list[str]]] = {}
    for module in sorted(by_module):
        node, entry = where.target_of(module)
        by_entry.setdefault(id(node), (node, entry, []))[2].append(module)
    for node, entry, modules in by_entry.values():
        many = f"{len(modules)} modules, e.g. `{modules[0]}`," if len(modules) > 1 else f"`{modules[0]}`"
        findings.append(("LL403", Finding(
            node, f"LoRA on {many} gets no gradient in a training step: the model's forward pass never calls "
                  f"{'these modules' if len(modules) > 1 else 'this module'}{_entry_note(entry)}",
            "target modules that the loss depends on; `lora-lint modules MODEL` lists them")))
    # A copy trains when any of its parameters gets a gradient: some get none by construction (the bias of a
    # question-answering head shifts all start logits alike, which the softmax cancels).
    copies = sorted(copy for copy in facts.saved_copies
                    if all(n in facts.no_gradient for n in facts.copy_parameters.get(copy, [])))
    for module in copies:
        node, entry = where.saved_entry(module)
        findings.append(("LL403", Finding(
            node, f"the trainable copy of `{module}` (modules_to_save) gets no gradient in a training step: the "
                  f"model's forward pass does not use it{_entry_note(entry)}",
            "save only modules the loss depends on")))
    trained = len(facts.lora_modules) - len(by_module)
    return CheckResult("gradients", not findings,
                       f"{trained} of {len(facts.lora_modules)} LoRA modules and "
                       f"{len(facts.saved_copies) - len(copies)} of {len(facts.saved_copies)} saved copies "
                       "get gradients", findings)


def _heads(facts: StepFacts, where: _Locator) -> CheckResult | None:
    if not facts.heads:
        return None
    untrained = sorted(head for head, trained in facts.heads.items() if not trained)
    findings = []
    for head in untrained:
        node = where.first("layers_to_transform", "layers_pattern", "modules_to_save", "target_modules")
        cause = (" (`layers_to_transform` keeps LoRA off modules outside the numbered layers)"
                 if where.config.has("layers_to_transform") else "")
        findings.append(("LL403", Finding(
            node, f"the task head `{head}` is not trained: none of its parameters gets a gradient{cause}, so it "
                  "keeps its random initialisation",
            f"add `{head}` to modules_to_save")))
    return CheckResult("task-head-trained", not findings,
                       f"{len(facts.heads) - len(untrained)} of {len(facts.heads)} task heads trained", findings)


def _frozen(facts: StepFacts, where: _Locator) -> CheckResult:
    findings = []
    for names, what in ((facts.frozen_with_gradient, "received a gradient"), (facts.frozen_changed, "changed")):
        if names:
            message = (f"{len(names)} frozen parameter(s) {what} in the step, e.g. `{names[0]}`: the base model "
                       "is not frozen the way the adapter assumes")
            findings.append(("LL404", Finding(where.anchor, message, "please report this to lora-lint")))
    detail = findings[0][1].message if findings else "frozen base weights bit-identical after the step"
    return CheckResult("frozen-unchanged", not findings, detail, findings)


def _lora_b(facts: StepFacts, where: _Locator, learning_rate: Node | None) -> CheckResult:
    stuck = [m for m in facts.lora_b_unchanged
             if not any(n.startswith((m + ".lora_B.", m + ".lora_embedding_B.")) for n in facts.no_gradient)]
    findings = []
    if stuck:
        node = learning_rate or where.anchor
        findings.append(("LL404", Finding(
            node, f"LoRA B of {len(stuck)} module(s) (e.g. `{stuck[0]}`) did not move in the optimizer step although "
                  "it got a gradient" + (f": the learning rate is {learning_rate.value}" if learning_rate else ""),
            "use a positive learning rate, e.g. 2.0e-4")))
    moved = len(facts.lora_modules) - len(facts.lora_b_unchanged)
    return CheckResult("lora-b-moved", not findings, f"LoRA B moved in {moved} of {len(facts.lora_modules)} modules",
                       findings)


def _trainable_count(facts: StepFacts, prediction: Prediction, where: _Locator) -> CheckResult:
    actual, predicted = facts.trainable_parameters, prediction.trainable_parameters
    detail = f"{actual:,} trainable parameters, {predicted:,} predicted"
    if actual == predicted:
        return CheckResult("trainable-count", True, detail, [])
    option = next((key for key in _UNCOUNTED_OPTIONS if where.config.has(key) and where.config.value(key)), None)
    node = where.config.settings[option].key_node if option else where.first("target_modules")
    cause = f"`{option}` adds parameters lora-lint's static count leaves out" if option else \
        "lora-lint's replay of PEFT is wrong here (please report this)"
    message = f"PEFT trains {actual:,} parameters where `check` predicted {predicted:,}: {cause}"
    return CheckResult("trainable-count", False, detail,
                       [("LL405", Finding(node, message, "trust the trainable count of the step for this config"))])


def _reload(facts: StepFacts, prediction: Prediction, where: _Locator) -> CheckResult:
    findings = []
    init_is_named = isinstance(where.config.value("init_lora_weights"), str)
    node = where.first("init_lora_weights" if init_is_named else "target_modules", "target_modules")
    if not facts.reload_equal:
        findings.append(("LL406", Finding(
            node, f"the saved adapter loads back to different outputs (largest logit difference "
                  f"{facts.reload_max_difference:.3g}): what training leaves is not what inference gets",
            _reload_help(where.config))))
    trained = (facts.lora_modules, facts.parameter_wrappers)
    reloaded = (facts.reloaded_lora_modules, facts.reloaded_parameter_wrappers)
    if trained != reloaded:
        only_loaded = sorted(set().union(*reloaded) - set().union(*trained))
        only_trained = sorted(set().union(*trained) - set().union(*reloaded))
        findings.append(("LL406", Finding(
            where.first("target_modules", "target_parameters"),
            f"the saved adapter_config.json puts LoRA on other modules than training did: "
            f"{len(only_loaded)} only on reload (e.g. {only_loaded[:2]}), {len(only_trained)} only in training "
            f"(e.g. {only_trained[:2]})",
            "write target_modules as the exact list of module names, so PEFT has nothing to rewrite on load")))
    if facts.lora_modules != sorted(prediction.targets) or facts.saved_copies != sorted(prediction.modules_to_save):
        findings.append(("LL406", Finding(
            where.first("target_modules"),
            f"PEFT put LoRA on {len(facts.lora_modules)} modules and saved {len(facts.saved_copies)} where `check` "
            f"predicted {len(prediction.targets)} and {len(prediction.modules_to_save)}: lora-lint's replay of PEFT "
            "is wrong here (please report this)", None)))
    for what, keys in (("lacks", facts.missing_keys), ("holds keys PEFT loads into nothing", facts.unexpected_keys)):
        if keys:
            findings.append(("LL406", Finding(
                node, f"the saved adapter {what}: {', '.join(keys[:3])}" + (" ..." if len(keys) > 3 else ""),
                "those weights are lost between training and inference")))
    detail = (f"reloaded logits equal (max difference {facts.reload_max_difference:.2g}); "
              f"{len(facts.reloaded_lora_modules)} modules reloaded")
    return CheckResult("adapter-reload", not findings, detail, findings)


def _reload_help(config: LoraConfigView) -> str:
    init = config.value("init_lora_weights")
    if isinstance(init, str) and "niter" in init:
        return (f"`{init}` initialises with a randomised SVD, which PEFT repeats on every load with other random "
                "numbers; use `pissa` (exact SVD), or convert the adapter with "
                "path_initial_model_for_weight_conversion")
    return "compare the saved adapter_config.json with the config: a setting does not survive save and load"


class _Locator:
    """Config nodes to report at."""

    def __init__(self, config: LoraConfigView) -> None:
        self.config = config
        self.anchor = config.anchor

    def first(self, *keys: str) -> Node:
        for key in keys:
            if key in self.config.settings:
                return self.config.settings[key].key_node
        return self.anchor

    def target_of(self, module: str) -> tuple[Node, str | None]:
        """The target_modules (or target_parameters) list entry that names this module, else the key."""
        for key in ("target_modules", "target_parameters"):
            setting = self.config.settings.get(key)
            if setting is None:
                continue
            node = setting.value_node
            for item in node.items if node.kind == "seq" else []:
                if isinstance(item.value, str) and _names(module, item.value):
                    return item, item.value
            if node.kind == "scalar":
                return node, None
            return setting.key_node, None
        return self.anchor, None

    def saved_entry(self, module: str) -> tuple[Node, str | None]:
        setting = self.config.settings.get("modules_to_save")
        if setting is None:
            return self.anchor, None
        for item in setting.value_node.items if setting.value_node.kind == "seq" else []:
            if isinstance(item.value, str) and _names(module, item.value):
                return item, item.value
        return setting.key_node, None


def _names(module: str, entry: str) -> bool:
    return module == entry or module.endswith("." + entry)


def _entry_note(entry: Any) -> str:
    return f" (matched by `{entry}`)" if entry else ""
