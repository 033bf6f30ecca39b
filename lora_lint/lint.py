"""The lint pipeline for one file: parse → trainer (its verdict and runs) → per run: (resolve model → inventory)
→ rules → findings merged across runs → suppressions."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lora_lint.base_model import attach_model
from lora_lint.config import LoraConfigView, TrainerReading
from lora_lint.diagnostics import Diagnostic, FileReport, Severity, Span
from lora_lint.files import FileTooLarge, NotRegularFile, read_regular_file
from lora_lint.trainers import TRAINER_RULES, TRAINERS, detect
from lora_lint.limits import cap_findings
from lora_lint.matcher.regexes import SlowRegex, regex_budget
from lora_lint.peft_schema import PeftKnowledge, peft_knowledge
from lora_lint.registry import all_rules
from lora_lint.rules import Finding, load_checks
from lora_lint.settings import Settings
from lora_lint.scalars import MAX_INT_BITS
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
    config: LoraConfigView  # the run being checked
    peft: PeftKnowledge
    options: LintOptions
    model: Any = None  # lora_lint.base_model.ModelContext when the base model was resolved
    notes: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    """A file found by walking a directory that holds no config lora-lint reads, and why."""

    path: str
    reason: str  # sniff.NOT_LORA, or the name of a dialect lora-lint cannot read yet


def lint_file(path: Path, settings: Settings, options: LintOptions, explicit: bool,
              data: bytes | None = None) -> FileReport | None:
    """Lint one file (or `data` as its contents: the fixer lints what it would write). Returns None for a file found
    by walking a directory that is not a LoRA config."""
    result = lint_file_safely(path, settings, options, explicit, data)
    return None if isinstance(result, Skipped) else result


def lint_or_skip(path: Path, settings: Settings, options: LintOptions, explicit: bool,
                 data: bytes | None = None, display: str | None = None) -> FileReport | Skipped:
    """Lint one file (its bytes given for stdin, `display` naming it), or say why a walked file is skipped."""
    with regex_budget(settings.limits):  # the file's config regexes share one time budget
        return _lint_or_skip(path, settings, options, explicit, data, display)


def _lint_or_skip(path: Path, settings: Settings, options: LintOptions, explicit: bool, data: bytes | None,
                  display: str | None) -> FileReport | Skipped:
    from lora_lint.sniff import NOT_LORA, skip_reason

    display = display or path.as_posix()
    report = FileReport(display)
    if data is None:
        try:
            # Never more: the path may be /dev/zero or a huge file.
            data = read_regular_file(path, settings.limits.max_file_bytes)
        except FileTooLarge:
            if not explicit:
                return Skipped(display, NOT_LORA)  # a big walked file (a tokenizer, weights) is no config
            report.diagnostics.append(Diagnostic(
                "LL003", f"file is over {settings.limits.max_file_bytes / 1024 / 1024:g} MiB, the most lora-lint "
                "reads of a config (`max-file-bytes`)",
                help="a LoRA config is a few kilobytes: check that this is the file you meant"))
            return _finish(report, settings, path)
        except NotRegularFile as exc:
            if not explicit:
                return Skipped(display, NOT_LORA)  # a FIFO or device met while walking is no config file
            report.diagnostics.append(Diagnostic("LL003", f"cannot read file: {exc.strerror}",
                                                 help="lint the config file itself, not a pipe or a device"))
            return _finish(report, settings, path)
        except OSError as exc:
            report.diagnostics.append(Diagnostic("LL003", f"cannot read file: {exc.strerror or exc}"))
            return _finish(report, settings, path)
    forced = options.dialect or settings.dialect
    if not explicit and (reason := skip_reason(display, data, forced)) is not None:
        return Skipped(display, reason)
    parsed = parse_file(display, data, settings.limits)
    report.source_lines = parsed.lines
    if parsed.root is None:
        if not parsed.diagnostics:
            if not explicit:
                return Skipped(display, NOT_LORA)
            parsed.diagnostics.append(Diagnostic(
                "LL004", "empty file: no LoRA config here", help="add a `lora:` section or LoraConfig keys"))
        elif not explicit and not _mentions_lora(parsed.text):
            return Skipped(display, NOT_LORA)  # a broken file that nothing suggests is a LoRA config
        report.diagnostics.extend(parsed.diagnostics)
        return _finish(report, settings, path)

    reading = detect(parsed.root, forced)
    if reading is None:
        if not explicit:
            return Skipped(display, NOT_LORA)
        report.diagnostics.extend(parsed.diagnostics)
        report.diagnostics.append(_not_a_lora_config(parsed.root))
        return _finish(report, settings, path)
    report.dialect = reading.trainer
    report.diagnostics.extend(_duplicate_keys_fatal(parsed.diagnostics, reading.trainer))

    peft = peft_knowledge(options.peft_version or settings.peft_version)
    checked: set[str] = set()
    per_run: list[list[Diagnostic]] = []
    summarized = None
    for view in reading.runs:
        context = LintContext(display, parsed, view, peft, options)
        if view.kwargs_known:
            attach_model(context, settings.model_for(settings.relative(path)))
        if context.model is not None and summarized is None:
            summarized = context
            _summarize(report, context, peft, reading)
        found: list[Diagnostic] = []
        checked |= run_checks(context, settings, path, found)
        per_run.append(found)
    # After the model is attached: a trainer may compute kwargs from the model (axolotl's all-linear scan).
    report.trainer = reading.summary() if reading.trainer != "peft" else None
    report.diagnostics += merge_runs(per_run, reading)
    # After the model is attached: a trainer may compute kwargs from it (LLaMA-Factory's `lora_target: all`).
    report.trainer = reading.summary() if reading.trainer != "peft" else None
    suppressions, problems = find_suppressions(parsed.lines, parsed.root)
    report.diagnostics = apply_suppressions(report.diagnostics, suppressions) + problems
    report.diagnostics += unused_suppressions(suppressions, checked)
    return _finish(report, settings, path)


REPORT_BUGS_AT = "https://github.com/lora-lint/lora-lint/issues"


def lint_file_safely(path: Path, settings: Settings, options: LintOptions, explicit: bool,
                     data: bytes | None = None, display: str | None = None) -> FileReport | Skipped:
    """lint_or_skip, with an unexpected exception turned into an LL009 diagnostic on this file, so that one file that
    trips a bug never costs the report of the others."""
    try:
        return lint_or_skip(path, settings, options, explicit, data, display)
    except Exception as exc:  # the isolation boundary: anything lint_or_skip raises is a bug in lora-lint
        report = FileReport(display or path.as_posix())
        report.diagnostics.append(Diagnostic(
            "LL009", f"lora-lint failed on this file: {_describe_exception(exc)}", severity=Severity.ERROR,
            name=all_rules()["LL009"].name,
            help=f"this is a bug in lora-lint, not in the file: please report it, with the file, at {REPORT_BUGS_AT}",
        ))
        return report  # never dropped by the settings: the file was not checked


def _describe_exception(exc: Exception) -> str:
    try:
        text = str(exc)
    except Exception:  # an exception whose own message cannot be made (a 4,300+ digit int in it)
        text = ""
    text = text if len(text) <= 1000 else text[:1000] + "..."
    where = ""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if "lora_lint" in Path(frame.filename).parts]
    if frames:
        parts = Path(frames[-1].filename).parts
        where = f" (at {'/'.join(parts[parts.index('lora_lint'):])}:{frames[-1].lineno})"
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"


def _summarize(report: FileReport, context: LintContext, peft: PeftKnowledge, reading: TrainerReading) -> None:
    """The file's model facts, from its first run that reaches PEFT (the one the toolkit trains first)."""
    report.model = context.model.summary()
    if reading.pins and not context.options.peft_version:
        report.model["notes"] = report.model["notes"] + [
            f"{reading.trainer} pins " + ", ".join(f"{name}{spec}" for name, spec in reading.pins.items())
            + f"; checked against PEFT {peft.version} (pass --peft-version to check against the pinned one)"]
    result = context.model.match
    built = result is not None and result.error is None
    report.targets = result.targets if built else []
    report.modules_to_save = result.modules_to_save if built else []
    report.trainable_parameters = result.trainable_parameters if built else 0
    report.peft_version = str(peft.version)
    report.summary_line = _summary_line(context.model, result)
    if reading.run_count > 1:
        report.summary_line = f"{reading.run_count} runs (ablation sweep); run {context.config.run}: " \
                              + report.summary_line


def merge_runs(per_run: list[list[Diagnostic]], reading: TrainerReading) -> list[Diagnostic]:
    """Each finding once, with the runs it concerns when that is not every run: `runs 2, 4 of 8 (lora.r=64): ...`."""
    runs_of: dict[tuple, list[int]] = {}
    first: dict[tuple, Diagnostic] = {}
    for view, diagnostics in zip(reading.runs, per_run):
        for diagnostic in diagnostics:
            key = (diagnostic.code, diagnostic.span, diagnostic.message, diagnostic.help)
            first.setdefault(key, diagnostic)
            runs_of.setdefault(key, []).append(view.run)
    total = reading.run_count
    merged = []
    for key, diagnostic in first.items():
        runs = runs_of[key]
        if total > 1 and len(runs) < total:
            views = [view for view in reading.runs if view.run in runs]
            shared = {axis: value for axis, value in views[0].axes.items()
                      if all(view.axes.get(axis) == value for view in views)}
            label = ("run " if len(runs) == 1 else "runs ") + ", ".join(map(str, runs)) + f" of {total}"
            if shared:
                label += " (" + ", ".join(f"{axis}={value!r}" for axis, value in shared.items()) + ")"
            diagnostic = replace(diagnostic, message=f"{label}: {diagnostic.message}")
        merged.append(diagnostic)
    return merged


def _duplicate_keys_fatal(diagnostics: list[Diagnostic], trainer: str) -> list[Diagnostic]:
    """LL002 says what this trainer's loader does with a duplicate key, where that is not "the last one wins"."""
    from lora_lint.trainers import TRAINERS

    fatal = getattr(TRAINERS[trainer], "DUPLICATE_KEYS", None)
    if fatal is None:
        return diagnostics
    return [replace(d, message=d.message.replace("loaders keep only this last value", fatal))
            if d.code == "LL002" else d for d in diagnostics]


def run_checks(context: LintContext, settings: Settings, path: Path, found: list[Diagnostic]) -> set[str]:
    """Run every enabled rule on one run; returns the codes that ran. On a run whose LoRA section the trainer
    rejects, only the trainer's own rules run: there are no kwargs to check."""
    relative = settings.relative(path)
    checks = load_checks()
    trainer_codes = set(TRAINER_RULES.values())
    ran: set[str] = set()
    for code, rule in all_rules().items():
        check = checks.get(code)
        if check is None or not settings.enabled(code, relative):
            continue
        if rule.needs_model and context.model is None:
            continue
        if not context.config.kwargs_known and code not in trainer_codes:
            continue
        ran.add(code)
        try:
            diagnostics = [_diagnostic(code, finding) for finding in check(context)]
        except (SlowRegex, re.error):
            continue  # a config regex that hangs or does not compile: unusable-regex (LL330) reports it
        found.extend(diagnostics if code in trainer_codes else map(context.config.in_trainer_words, diagnostics))
    found.extend(context.notes)
    return ran


def _diagnostic(code: str, finding: Finding) -> Diagnostic:
    span = finding.at.span if isinstance(finding.at, Node) else finding.at
    return Diagnostic(code, finding.message, span, help=finding.help, fix=finding.fix)


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
            f"{count_text(result.trainable_parameters)} trainable parameters")


def count_text(count: int) -> str:
    """A count with thousands separators; one too large for Python to print (a rank of thousands of digits makes
    one) by its order of magnitude."""
    if count.bit_length() <= MAX_INT_BITS:
        return f"{count:,}"
    return f"about 10^{int(count.bit_length() * 0.30103):,}"


def _mentions_lora(text: str | None) -> bool:
    lowered = (text or "").lower()
    return "lora" in lowered or "target_modules" in lowered


def _not_a_lora_config(root: Node) -> Diagnostic:
    if root.kind != "map":
        kind = "a list" if root.kind == "seq" else "a single value"
        return Diagnostic("LL004", f"the file holds {kind}, not a mapping of config keys", root.span,
                          help="a LoRA config is a mapping: `lora:` with LoraConfig keys, or the keys themselves")
    return Diagnostic(
        "LL004", "no LoRA config found: no `lora:` section and no LoraConfig keys (`r`, `target_modules`, ...)",
        Span(root.span.start, root.span.start),
        help=f"pass `--dialect NAME` ({', '.join(TRAINERS)}) if this is one",
    )
