"""Build the explain report of one file from the lint pipeline's own stages (parse, dialect, model, replay)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from lora_lint.base_model import attach_model, peft_kwargs
from lora_lint.trainers import detect
from lora_lint.explain.memory import estimate
from lora_lint.explain.numbers import numbers
from lora_lint.explain.placement import placement
from lora_lint.explain.report import ExplainReport, ModelInfo
from lora_lint.explain.trainer_setup import sweep_axes, sweep_table, trainer_setup
from lora_lint.lint import LintContext, LintOptions, lint_file
from lora_lint.peft_schema import peft_knowledge
from lora_lint.settings import Settings, settings_for_directory
from lora_lint.source import parse_file


@dataclass
class ExplainOptions:
    lint: LintOptions = field(default_factory=LintOptions)
    batch_size: int | None = None  # --batch-size: overrides the config's
    sequence_length: int | None = None  # --seq-len: overrides the config's


def build_report(path: Path, options: ExplainOptions, settings: Settings | None = None) -> ExplainReport:
    """Everything `check` finds out about ``path``, laid out for people. Raises SettingsError for bad settings."""
    settings = settings or settings_for_directory(path.resolve().parent)
    try:
        parsed = parse_file(path.as_posix(), path.read_bytes(), settings.limits)
    except OSError:  # lint_file reports it (LL003)
        parsed = None
    reading = detect(parsed.root, options.lint.dialect or settings.dialect) if parsed and parsed.root else None
    view = reading.runs[0] if reading is not None else None
    lint_options = options.lint
    swept_models = [m for m in dict(sweep_axes(reading)).get("model.hf_model_ckpt", []) if isinstance(m, str)] \
        if reading is not None else []
    if swept_models and not lint_options.model:  # an ablation over base models: explain the first run's
        lint_options = replace(lint_options, model=swept_models[0])

    linted = lint_file(path, settings, lint_options, explicit=True)
    report = ExplainReport(path.as_posix(), dialect=linted.dialect, diagnostics=linted.diagnostics)
    if linted.dialect is None or view is None:  # unreadable, not YAML/JSON, or no LoRA config
        report.missing.append("a readable LoRA config: fix the problems below first")
        return report
    if lint_options is not options.lint:
        report.missing.append(f"the other runs' models: the study sweeps over {len(swept_models)} base models; this "
                              f"report is the first run's ({swept_models[0]}; pass --model for another)")

    # The stages lint_file ran, again for their results (resolution and replay are cached per process).
    peft = peft_knowledge(lint_options.peft_version or settings.peft_version)
    context = LintContext(path.as_posix(), parsed, view, peft, lint_options)
    attach_model(context, settings.model_for(settings.relative(path)))
    report.peft_version = str(peft.version)
    report.lora = view.kwargs()
    report.sweep = sweep_table(reading)

    model = context.model
    if model is None:
        unresolved = [d for d in context.notes if d.code in ("LL201", "LL202")]
        why = (unresolved[0].message.removesuffix("; model-aware checks skipped") + f" ({unresolved[0].help})"
               if unresolved else "the config names none")
        report.missing.append(f"the base model: {why}. Placement, parameter counts and memory need it: pass "
                              "--model ID|PATH")
        return report
    inventory = model.inventory
    stacks = model.top_level_stacks()
    report.model = ModelInfo(model.resolved.model_id, model.resolved.source, inventory["class"],
                             inventory["model_type"], sum(s["length"] for s in stacks), inventory["total_parameters"],
                             model.defaulted)
    result = model.match
    if result is None:
        report.missing.append("the adapter: a LoRA value has the wrong type, so PEFT cannot build it")
        return report
    if result.error is not None:
        report.peft_error = f"{result.error.type}: {result.error.message}"
        report.missing.append("the adapter: PEFT would raise before building it")
        return report
    kwargs = peft_kwargs(context)
    report.grids, report.outside = placement(inventory, stacks, result)
    report.numbers = numbers(inventory, stacks, result, kwargs)
    setup = trainer_setup(view, parsed.root, model.resolved.config or {}, options.batch_size,
                          options.sequence_length)
    report.memory = estimate(inventory, stacks, model.resolved.config or {}, result.trainable_parameters, setup)
    return report

