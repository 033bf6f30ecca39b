"""One file's training step: from its lint report to the model, the step, the checks and the report's `train_step`.

What the trainer does is taken from what `check` already knows: the LoraConfig kwargs (the trainer's
reading, through base_model.peft_kwargs), the class it loads (the model context), and its preparation calls (below, per
trainer).
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path
from typing import Any

from lora_lint.base_model import attach_model, peft_kwargs
from lora_lint.diagnostics import FILE_START, Diagnostic, FileReport, Severity
from lora_lint.trainers import detect
from lora_lint.lint import LintContext, LintOptions
from lora_lint.peft_schema import peft_knowledge
from lora_lint.registry import all_rules
from lora_lint.rules import Finding
from lora_lint.settings import Settings
from lora_lint.source import Node, parse_file
from lora_lint.suppress import apply_suppressions, find_suppressions
from lora_lint.train_step import StepOptions
from lora_lint.train_step.checks import Prediction, run_checks

# What each trainer does to the loaded model before get_peft_model, in its order, where it runs on a CPU
# (llmtune/finetune/lora.py: from_pretrained(use_cache=False), gradient_checkpointing_enable(),
# prepare_model_for_kbit_training()). Trainers not listed call get_peft_model on the model as loaded.
TRAINER_PREPARATION = {
    "llmtune": ("use_cache_off", "gradient_checkpointing_enable", "prepare_model_for_kbit_training"),
}


class StepFailure(Exception):
    """The step could not run; `node` is the config line to report at (None: the LoRA section)."""

    def __init__(self, message: str, help_text: str | None = None, node: Node | None = None) -> None:
        super().__init__(message)
        self.help, self.node = help_text, node


def step_file(path: Path, settings: Settings, lint_options: LintOptions, report: FileReport,
              options: StepOptions) -> None:
    if report.dialect is None:
        return  # not a LoRA config (LL004 says so): nothing to step
    errors = report.count(Severity.ERROR)
    if errors:
        _skip(report, settings, path, f"static checks found {errors} error{'s' if errors != 1 else ''}; a step would "
                                      "only repeat them")
        return
    context = _context(path, settings, lint_options)
    if context is None or context.model is None:
        why = next((d.message for d in report.diagnostics if d.code in ("LL201", "LL202")), None)
        _skip(report, settings, path, f"no model to step: {why}" if why else "the config names no base model")
        return
    if context.model.match is None or context.model.match.error is not None:
        _skip(report, settings, path, "PEFT cannot build an adapter from this config")
        return
    summary: dict[str, Any] = {"status": "error", "mode": "real" if options.weights else "miniature",
                               "model": context.model.resolved.model_id, "class": context.model.inventory["class"]}
    report.train_step = summary
    import torch

    from lora_lint.model.inventory import quiet_transformers

    findings: list[tuple[str, Finding]] = []
    threads = torch.get_num_threads()
    if not options.weights:
        torch.set_num_threads(1)  # the miniature's matrices are tiny: more threads only add synchronisation
    try:
        with tempfile.TemporaryDirectory(prefix="lora-lint-step-") as scratch, quiet_transformers():
            findings = _step(context, options, Path(scratch), summary)
    except StepFailure as failure:
        node = failure.node or context.config.anchor
        summary["reason"] = str(failure)
        findings = [("LL401", Finding(node, str(failure), failure.help))]
    finally:
        torch.set_num_threads(threads)
        _progress(options, "")
    _add(report, settings, path, findings)


def _step(context: LintContext, options: StepOptions, scratch: Path, summary: dict) -> list:
    import torch

    from lora_lint.matcher import match
    from lora_lint.model.inventory import describe_model
    from lora_lint.train_step.batches import DataError, data_batch, synthetic_batch, task_of
    from lora_lint.train_step.step import StepPlan, run_step

    model_id = context.model.resolved.model_id
    concrete = context.model.inventory["class"]
    model_ref = context.config.model_ref.value_node if context.config.model_ref else None
    _progress(options, f"train-step: {context.path}: building {'the miniature of ' if not options.weights else ''}"
                       f"{model_id} ({concrete})")
    if options.weights:
        model, reload_base, tokenizer, device = _load_real(context, options, concrete, model_ref, summary)
    else:
        model, reload_base, device = _build_miniature(context, concrete, summary)
        tokenizer = None
    inventory = describe_model(model, model.config)
    _same_tree(inventory, context.model.inventory, options, model_ref)
    kwargs = peft_kwargs(context)
    if kwargs.get("inference_mode") is True:
        # What save_pretrained writes into adapter_config.json; training from it loads it as
        # PeftModel.from_pretrained(..., is_trainable=True) does, which turns inference_mode off.
        kwargs["inference_mode"] = False
        summary.setdefault("notes", []).append("inference_mode: true (as save_pretrained writes it) is stepped as "
                                               "is_trainable=True loading does, with inference_mode off")
    import peft

    predicted = match(inventory, copy.deepcopy(kwargs), peft.__version__)
    prediction = Prediction(predicted.targets, predicted.modules_to_save, predicted.trainable_parameters)
    task = task_of(concrete)
    try:
        batch = data_batch(options.data, model, task, tokenizer) if options.data else synthetic_batch(model, task)
    except DataError as exc:
        raise StepFailure(str(exc), "point --data at a JSON Lines, JSON or CSV file of training rows") from None
    learning_rate, lr_node = _learning_rate(context)
    adapter_dir = options.save_adapter or scratch / "adapter"
    plan = StepPlan(kwargs, TRAINER_PREPARATION.get(context.config.dialect, ()), task, learning_rate, adapter_dir)
    _progress(options, f"train-step: {context.path}: one step on {model_id} ({task}, {device})")
    try:
        facts = run_step(model, batch, plan, reload_base)
    except torch.cuda.OutOfMemoryError as exc:
        raise StepFailure(f"the step ran out of GPU memory on {device}: {exc}".split("\n")[0],
                          "use a smaller batch, a smaller rank or fewer targets, or a larger GPU") from None
    except Exception as exc:  # PEFT's or the model's failure in a real step is the finding, never a crash
        raise StepFailure(f"the training step raised {type(exc).__name__}: {_first_line(exc)}",
                          "this is what the trainer would hit on its first step",
                          _failure_setting(context.config, str(exc))) from None
    results = run_checks(facts, prediction, context.config, lr_node, model_ref)
    summary.update({
        "status": "passed" if all(r.passed for r in results) else "failed",
        "task": task, "device": str(device),
        "checks": [{"name": r.name, "passed": r.passed, "detail": r.detail} for r in results],
        "loss": facts.loss, "learning_rate": learning_rate, "seconds": round(facts.seconds, 3),
        "peak_rss_bytes": _peak_rss(), "peak_gpu_bytes": facts.peak_gpu_bytes,
        "trainable_parameters": facts.trainable_parameters,
        "predicted_trainable_parameters": prediction.trainable_parameters,
        "lora_modules": len(facts.lora_modules), "preparation": list(plan.preparation),
        "adapter_dir": str(options.save_adapter) if options.save_adapter else None,
    })
    return [finding for r in results for finding in r.findings]


def _build_miniature(context: LintContext, concrete: str, summary: dict):
    from lora_lint.train_step.miniature import NotMiniaturisable, build_miniature, has_expert_modules, miniature_config

    try:
        config, shape = miniature_config(context.model.resolved.config, has_expert_modules(context.model.inventory))
        model = build_miniature(config, concrete, trust_remote_code=context.options.trust_remote_code)
    except NotMiniaturisable as exc:
        raise StepFailure(f"cannot build a miniature of {context.model.resolved.model_id}: {exc}",
                          "step it on its real weights with --weights DIR") from None
    summary["shape"] = {key: {"full": full, "miniature": mini} for key, (full, mini) in shape.items()}
    summary["notes"] = _notes(context) + ["random weights: the loss and gradients say whether the adapter trains, "
                                          "not how well"]
    pristine = copy.deepcopy(model)
    return model, lambda: copy.deepcopy(pristine), "cpu"


def _load_real(context: LintContext, options: StepOptions, concrete: str, model_ref: Node | None, summary: dict):
    import torch

    from lora_lint.model.inventory import quiet_transformers
    from lora_lint.model.loading import InventoryBuildError, config_and_class

    weights = options.weights
    where = model_ref or context.config.anchor
    if not weights.is_dir() or not (weights / "config.json").is_file():
        raise StepFailure(f"--weights {weights}: no checkpoint directory with a config.json there",
                          "point --weights at a directory written by save_pretrained", where)
    if not any(weights.glob("*.safetensors")) and not any(weights.glob("*.bin")):
        raise StepFailure(f"--weights {weights}: no *.safetensors or *.bin weight files", None, where)
    device = torch.device(options.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = _dtype(context)
    try:
        with quiet_transformers():
            _, model_cls = config_and_class(context.model.resolved.config, concrete,
                                             context.options.trust_remote_code, None, None)

            def load():
                model, info = model_cls.from_pretrained(weights, dtype=dtype, local_files_only=True,
                                                        output_loading_info=True)
                missing = info.get("missing_keys") or []
                if missing:  # transformers would train on random values for these, silently
                    raise StepFailure(f"the checkpoint in {weights} lacks {len(missing)} weight(s) of "
                                      f"{model_cls.__name__}, e.g. `{sorted(missing)[0]}`",
                                      "the checkpoint must be the config's base model, written by save_pretrained",
                                      where)
                return model.to(device)

            model = load()
    except StepFailure:
        raise
    except InventoryBuildError as exc:
        raise StepFailure(str(exc), None, where) from None
    except torch.cuda.OutOfMemoryError:
        raise StepFailure(f"the checkpoint does not fit on {device}", "use a larger GPU or --device cpu",
                          where) from None
    except Exception as exc:  # a corrupt or foreign checkpoint is a finding, never a crash
        raise StepFailure(f"cannot load the checkpoint in {weights}: {type(exc).__name__}: {_first_line(exc)}",
                          "the checkpoint must be the config's base model, written by save_pretrained", where) from None
    tokenizer = None
    if options.data:
        try:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(weights, local_files_only=True)
        except Exception as exc:  # no or a broken tokenizer: say so at the model line
            raise StepFailure(f"--data needs the checkpoint's tokenizer, which cannot be loaded from {weights}: "
                              f"{type(exc).__name__}", "save the tokenizer next to the weights", where) from None
    summary["dtype"] = str(dtype).removeprefix("torch.")
    summary["notes"] = _notes(context)

    def reload_base():
        with quiet_transformers():
            return load()

    return model, reload_base, tokenizer, device


def _same_tree(inventory: dict, expected: dict, options: StepOptions, model_ref: Node | None) -> None:
    ours = [(m["name"], m["class"]) for m in inventory["modules"]]
    theirs = [(m["name"], m["class"]) for m in expected["modules"]]
    if ours == theirs:
        return
    differing = next((a, b) for a, b in zip(ours + [("", "")] * len(theirs), theirs + [("", "")] * len(ours))
                     if a != b)
    if options.weights:
        raise StepFailure(f"the checkpoint in {options.weights} is not the config's base model: its module "
                          f"`{differing[0][0]}` ({differing[0][1]}) is `{differing[1][0]}` ({differing[1][1]}) there",
                          "point --weights at a checkpoint of the model the config names", model_ref)
    raise StepFailure(f"the miniature's module tree differs from the model's at `{differing[1][0]}`",
                      "please report this to lora-lint; --weights DIR steps the real model", model_ref)


# Settings that make a step fail where static checks and PEFT's config validation pass, most specific first.
_FAILING_SETTINGS = ("layer_replication", "init_lora_weights", "use_dora", "lora_bias", "trainable_token_indices",
                     "target_parameters", "modules_to_save", "target_modules")


def _failure_setting(config, message: str) -> Node | None:
    """The setting a step failure is about: one the message names, else the first set one of _FAILING_SETTINGS
    whose value is not the default."""
    for key in _FAILING_SETTINGS:
        if key in config.settings and key in message:
            return config.settings[key].key_node
    for key in _FAILING_SETTINGS:
        if key in config.settings and config.value(key) not in (None, False, True, [], {}):
            return config.settings[key].key_node
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _notes(context: LintContext) -> list[str]:
    notes = []
    root = context.parsed.root
    model = root.get("model") if root is not None and root.kind == "map" else None
    bnb = model.get("bitsandbytes") if model is not None and model.kind == "map" else None
    if context.config.dialect == "llmtune" and bnb is not None and bnb.kind == "map":
        quantized = [k for k in ("load_in_4bit", "load_in_8bit") if (bnb.get(k) and bnb.get(k).value is True)]
        if quantized:
            notes.append(f"the toolkit loads the model with {quantized[0]} (bitsandbytes, GPU only); the step runs it "
                         "unquantised")
    return notes


def _dtype(context: LintContext) -> Any:
    import torch

    setting = context.config.extras.get("torch_dtype")
    name = setting.value if setting is not None else (context.model.resolved.config.get("torch_dtype")
                                                      or context.model.resolved.config.get("dtype"))
    value = getattr(torch, name, None) if isinstance(name, str) else None
    return value if isinstance(value, torch.dtype) else torch.float32


def _learning_rate(context: LintContext) -> tuple[float, Node | None]:
    """The trainer's learning rate and where it is written: the toolkit's `training.training_args`."""
    from lora_lint.train_step.step import DEFAULT_LEARNING_RATE

    node = context.parsed.root
    for key in ("training", "training_args", "learning_rate"):
        node = node.get(key) if node is not None and node.kind == "map" else None
    if context.config.dialect == "llmtune" and node is not None and node.kind == "scalar" and \
            isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value), node
    return DEFAULT_LEARNING_RATE, None


def _context(path: Path, settings: Settings, options: LintOptions) -> LintContext | None:
    """The lint context of a file `check` found clean: its config view and resolved model (cached per process)."""
    display = path.as_posix()
    parsed = parse_file(display, path.read_bytes(), settings.limits)
    if parsed.root is None:
        return None
    reading = detect(parsed.root, options.dialect or settings.dialect)
    if reading is None:
        return None
    # The first run the trainer starts: a sweep's other runs are not stepped.
    context = LintContext(display, parsed, reading.runs[0], peft_knowledge(options.peft_version or settings.peft_version),
                          options)
    attach_model(context, settings.model_for(settings.relative(path)))
    return context


def _skip(report: FileReport, settings: Settings, path: Path, reason: str) -> None:
    report.train_step = {"status": "skipped", "reason": reason}
    _add(report, settings, path, [("LL400", Finding(FILE_START, f"not stepped: {reason}",
                                                    "fix the errors above, then run the step again"
                                                    if "error" in reason else None))])


def _add(report: FileReport, settings: Settings, path: Path, findings: list[tuple[str, Finding]]) -> None:
    """Add the step's findings the way lint_file adds a rule's: enabled codes only, with the settings' severity,
    unless a `# lora-lint: ignore[...]` comment covers them."""
    relative = settings.relative(path)
    rules = all_rules()
    diagnostics = []
    for code, finding in findings:
        if not settings.enabled(code, relative):
            continue
        span = finding.at.span if isinstance(finding.at, Node) else finding.at
        diagnostics.append(Diagnostic(code, finding.message, span, help=finding.help, name=rules[code].name,
                                      severity=settings.severity_of(code)))
    if diagnostics:
        parsed = parse_file(path.as_posix(), path.read_bytes(), settings.limits)
        suppressions, _ = find_suppressions(parsed.lines, parsed.root)
        report.diagnostics += apply_suppressions(diagnostics, suppressions)
    report.diagnostics.sort(key=lambda d: (d.span.start, d.code))


def _peak_rss() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _progress(options: StepOptions, text: str) -> None:
    if options.progress:
        sys.stderr.write("\r\x1b[K" + text)
        sys.stderr.flush()

