"""The lint pipeline for one file: parse → detect dialect → (resolve model → inventory) → rules → suppressions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lora_lint.base_model import attach_model
from lora_lint.config import LoraConfigView
from lora_lint.diagnostics import Diagnostic, FileReport, Span
from lora_lint.dialects import detect, unsupported_dialect
from lora_lint.limits import cap_findings
from lora_lint.matcher.regexes import SlowRegex, regex_budget
from lora_lint.peft_schema import PeftKnowledge, peft_knowledge
from lora_lint.registry import all_rules
from lora_lint.rules import Finding, load_checks
from lora_lint.settings import Settings
from lora_lint.source import Node, ParsedFile, parse_file
from lora_lint.suppress import apply_suppressions, find_suppressions, unused_suppressions


@dataclass
class LintOptions:
    dialect: str | None = None
    peft_version: str | None = None  # --peft-version: check against this PEFT release
    model: str | None = None  # --model: overrides the config's base model
    offline: bool = False
    trust_remote_code: bool = False
    cache_dir: Path | None = None
    use_cache: bool = True
    peft_dry_run: bool = False  # also build the adapter with the real PEFT and compare


@dataclass
class LintContext:
    """What a rule check sees: the parsed file, the normalized config, PEFT facts and, when resolved, the model."""

    path: str
    parsed: ParsedFile
    config: LoraConfigView
    peft: PeftKnowledge
    options: LintOptions
    model: Any = None  # lora_lint.base_model.ModelContext when the base model was resolved
    notes: list[Diagnostic] = field(default_factory=list)


def lint_file(path: Path, settings: Settings, options: LintOptions, explicit: bool) -> FileReport | None:
    """Lint one file. Returns None for a file found by walking a directory that is not a LoRA config."""
    with regex_budget(settings.limits):  # the file's config regexes share one time budget
        return _lint_file(path, settings, options, explicit)


def _lint_file(path: Path, settings: Settings, options: LintOptions, explicit: bool) -> FileReport | None:
    display = path.as_posix()
    report = FileReport(display)
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.diagnostics.append(Diagnostic("LL003", f"cannot read file: {exc.strerror or exc}"))
        return _finish(report, settings, path)
    parsed = parse_file(display, data, settings.limits)
    report.source_lines = parsed.lines
    if parsed.root is None:
        if not parsed.diagnostics:
            if not explicit:
                return None
            parsed.diagnostics.append(Diagnostic(
                "LL004", "empty file: no LoRA config here", help="add a `lora:` section or LoraConfig keys"))
        elif not explicit and not _mentions_lora(parsed.text):
            return None  # a broken file that nothing suggests is a LoRA config
        report.diagnostics.extend(parsed.diagnostics)
        return _finish(report, settings, path)

    config = detect(parsed.root, options.dialect or settings.dialect)
    if config is None:
        if not explicit:
            return None
        report.diagnostics.extend(parsed.diagnostics)
        report.diagnostics.append(_not_a_lora_config(parsed.root))
        return _finish(report, settings, path)
    report.dialect = config.dialect
    report.diagnostics.extend(parsed.diagnostics)

    peft = peft_knowledge(options.peft_version or settings.peft_version)
    context = LintContext(display, parsed, config, peft, options)
    attach_model(context, settings.model_for(settings.relative(path)))
    if context.model is not None:
        report.model = context.model.summary()
        result = context.model.match
        built = result is not None and result.error is None
        report.targets = result.targets if built else []
        report.modules_to_save = result.modules_to_save if built else []
        report.trainable_parameters = result.trainable_parameters if built else 0
        report.peft_version = str(peft.version)
        report.summary_line = _summary_line(context.model, result)
    checked = run_checks(context, settings, path, report)
    suppressions, problems = find_suppressions(parsed.lines, parsed.root)
    report.diagnostics = apply_suppressions(report.diagnostics, suppressions) + problems
    report.diagnostics += unused_suppressions(suppressions, checked)
    return _finish(report, settings, path)


def run_checks(context: LintContext, settings: Settings, path: Path, report: FileReport) -> set[str]:
    """Run every enabled rule; returns the codes that ran."""
    relative = settings.relative(path)
    checks = load_checks()
    ran: set[str] = set()
    for code, rule in all_rules().items():
        check = checks.get(code)
        if check is None or not settings.enabled(code, relative):
            continue
        if rule.needs_model and context.model is None:
            continue
        ran.add(code)
        try:
            report.diagnostics.extend([_diagnostic(code, finding) for finding in check(context)])
        except (SlowRegex, re.error):
            continue  # a config regex that hangs or does not compile: unusable-regex (LL330) reports it
    report.diagnostics.extend(context.notes)
    return ran


def _diagnostic(code: str, finding: Finding) -> Diagnostic:
    span = finding.at.span if isinstance(finding.at, Node) else finding.at
    return Diagnostic(code, finding.message, span, help=finding.help)


def _finish(report: FileReport, settings: Settings, path: Path) -> FileReport:
    """Drop disabled codes, attach names and severities, sort by position."""
    relative = settings.relative(path)
    rules = all_rules()
    kept = []
    for diagnostic in report.diagnostics:
        if not settings.enabled(diagnostic.code, relative):
            continue
        diagnostic.name = rules[diagnostic.code].name
        diagnostic.severity = settings.severity_of(diagnostic.code)
        kept.append(diagnostic)
    kept.sort(key=lambda d: (d.span.start, d.code))
    report.diagnostics = cap_findings(kept, settings.limits.max_findings_per_rule)
    report.diagnostics.sort(key=lambda d: (d.span.start, d.code))
    return report


def _summary_line(model, result) -> str:
    if result is None:
        return "values of the wrong type: PEFT cannot build this config, so no modules get LoRA"
    if result.error and result.error.kind == "regex_timeout":
        return "PEFT would hang on a config regex: no modules get LoRA"
    if result.error:
        return f"PEFT would raise {result.error.type}: no modules get LoRA"
    stacks = model.top_level_stacks()
    layers = {name.split(stack["path"] + ".", 1)[1].split(".", 1)[0]
              for name in result.targets for stack in stacks if name.startswith(stack["path"] + ".")}
    return (f"{len(result.targets)} modules get LoRA in {len(layers)} layers; "
            f"{result.trainable_parameters:,} trainable parameters")


def _mentions_lora(text: str | None) -> bool:
    lowered = (text or "").lower()
    return "lora" in lowered or "target_modules" in lowered


def _not_a_lora_config(root: Node) -> Diagnostic:
    foreign = unsupported_dialect(root)
    if foreign is not None:
        return Diagnostic(
            "LL004", f"this looks like an {foreign} config, which lora-lint cannot read yet",
            help="lora-lint reads LLM-Finetuning-Toolkit configs and flat PEFT LoraConfig keys",
        )
    if root.kind != "map":
        kind = "a list" if root.kind == "seq" else "a single value"
        return Diagnostic("LL004", f"the file holds {kind}, not a mapping of config keys", root.span,
                          help="a LoRA config is a mapping: `lora:` with LoraConfig keys, or the keys themselves")
    return Diagnostic(
        "LL004", "no LoRA config found: no `lora:` section and no LoraConfig keys (`r`, `target_modules`, ...)",
        Span(root.span.start, root.span.start),
        help="pass `--dialect llmtune` or `--dialect peft` if this is one",
    )
