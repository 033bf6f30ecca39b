"""Command line: `lora-lint check`, `explain`, `rules`, `modules`.

Exit codes follow ruff: 0 no errors, 1 errors (or warnings with --strict), 2 usage, settings or internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import sys
from pathlib import Path

from lora_lint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
CONFIG_SUFFIXES = (".yml", ".yaml", ".json")


def _selectors(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lora-lint", description="Lint LoRA fine-tuning configs.")
    parser.add_argument("--version", action="version", version=f"lora-lint {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="lint config files and directories")
    check.add_argument("paths", nargs="*", default=["."], help="files or directories (default: .)")
    check.add_argument("--output-format", choices=["full", "concise", "json", "github", "sarif"], default="full")
    check.add_argument("--select", action="append", metavar="RULES",
                       help="only these rules (codes, names or prefixes, comma-separated); replaces the settings")
    check.add_argument("--ignore", action="append", metavar="RULES", help="skip these rules, in addition")
    check.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                       help="skip files matching GLOB when walking directories")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply exclusions to files named on the command line too (for pre-commit)")
    check.add_argument("--skip-non-lora", action="store_true",
                       help="skip named files that are not LoRA configs instead of reporting them (for pre-commit)")
    check.add_argument("--dialect", choices=["llmtune", "peft"], help="read every file as this dialect")
    check.add_argument("--peft-version", metavar="VERSION",
                       help="check against this PEFT release (the training machine's) instead of the installed one")
    check.add_argument("--model", metavar="ID|PATH", help="check against this base model instead of the config's")
    check.add_argument("--offline", action="store_true", help="never download a model's config.json from the Hub")
    check.add_argument("--cache-dir", type=Path, metavar="DIR", help="where built model inventories are cached")
    check.add_argument("--no-cache", action="store_true", help="build model inventories without the on-disk cache")
    check.add_argument("--trust-remote-code", action="store_true",
                       help="allow running a model repository's own code to build its skeleton (never from a config)")
    check.add_argument("--peft-dry-run", action="store_true",
                       help="also build the adapter with the installed PEFT on the meta skeleton and report what it "
                            "says (needs lora-lint[model])")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when errors are found")
    check.add_argument("--show-settings", action="store_true", help="print the settings that apply and exit")
    check.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="apply unsafe fixes too (those that may change what the config does); implies --fix")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff and change nothing; exit 1 if anything would change")
    check.add_argument("--show-fixes", action="store_true", help="list each fix applied (with --fix or --diff)")
    _add_train_step_options(check)
    # `train-step CONFIG...` is `check --train-step CONFIG...` (main rewrites it); listed here for --help.
    commands.add_parser("train-step", help="run one real LoRA training step per config and check it "
                                           "(= check --train-step)", add_help=False)

    explain = commands.add_parser("explain", help="report what a config's adapter will be, or print a rule's docs")
    explain.add_argument("rule", metavar="CONFIG|CODE|NAME",
                         help="a config file, or a rule code (LL101) or name (unknown-key)")
    explain.add_argument("--format", choices=["text", "svg", "html", "markdown", "json"], default="text")
    explain.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    explain.add_argument("--model", metavar="ID|PATH", help="explain against this base model instead of the config's")
    explain.add_argument("--peft-version", metavar="VERSION", help="the PEFT release of the training machine")
    explain.add_argument("--offline", action="store_true", help="never download a model's config.json from the Hub")
    explain.add_argument("--batch-size", type=int, metavar="N", help="per-device batch size for the memory estimate")
    explain.add_argument("--seq-len", type=int, metavar="N", help="sequence length for the memory estimate")

    commands.add_parser("rules", help="list all rules")

    modules = commands.add_parser("modules", help="print a model's modules and the names to target")
    modules.add_argument("model", help="a model id, alias, local directory or config.json")
    modules.add_argument("--format", choices=["text", "json"], default="text", help="json prints the inventory")
    modules.add_argument("--offline", action="store_true", help="never download config.json from the Hub")
    modules.add_argument("--cache-dir", type=Path, metavar="DIR", help="where built model inventories are cached")
    modules.add_argument("--no-cache", action="store_true", help="build without the on-disk cache")
    modules.add_argument("--trust-remote-code", action="store_true",
                         help="allow running the model repository's own code to build its skeleton")
    return parser


def _add_train_step_options(check: argparse.ArgumentParser) -> None:
    check.add_argument("--train-step", action="store_true",
                       help="also run one real LoRA training step (lora_lint.train_step) for files whose static "
                            "checks found no errors; on a miniature of the base model unless --weights")
    check.add_argument("--weights", type=Path, metavar="DIR",
                       help="with --train-step: step the real model from this local checkpoint (safetensors or bin)")
    check.add_argument("--device", help="with --weights: where to step (default: cuda when available, else cpu)")
    check.add_argument("--data", type=Path, metavar="FILE",
                       help="with --weights: train on the first rows of this JSON Lines, JSON or CSV file")
    check.add_argument("--save-adapter", type=Path, metavar="DIR",
                       help="with --train-step: keep the trained adapter in DIR (else a temporary directory)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-step"]:
        argv = ["check", "--train-step", *argv[1:]]
    args = build_parser().parse_args(argv)
    try:
        if args.command == "explain":
            is_config = Path(args.rule).exists() or args.rule.endswith(CONFIG_SUFFIXES)
            return _explain_config(args) if is_config else _explain(args.rule)
        if args.command == "rules":
            return _list_rules()
        from lora_lint.model.offline import offline_in_environment, offline_mode

        # For the whole run: nothing may connect, whichever library tries.
        with offline_mode(args.offline or offline_in_environment()):
            return _modules(args) if args.command == "modules" else _check(args)
    except _UsageError as exc:
        from lora_lint.report.escape import printable

        print(f"lora-lint: error: {printable(str(exc))}", file=sys.stderr)  # it may quote a path or a value
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_CLEAN
    except _internal_errors() as exc:
        print(f"lora-lint: internal error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: a bug must not look like a lint result
        print(f"lora-lint: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE


class _UsageError(Exception):
    pass


def _internal_errors() -> tuple[type[Exception], ...]:
    from lora_lint.rules.peft_dry_run import PeftDisagreement

    return (PeftDisagreement,)


def _explain(name: str) -> int:
    from lora_lint.registry import UnknownRuleError, find_rule

    try:
        rule = find_rule(name)
    except UnknownRuleError as exc:
        raise _UsageError(str(exc)) from None
    return _output(f"# {rule.code} {rule.name}\n\nDefault severity: {rule.severity.value}\n\n{rule.summary}.\n\n"
                   f"{rule.body}")


def _explain_config(args: argparse.Namespace) -> int:
    from lora_lint.explain import ExplainOptions, run
    from lora_lint.lint import LintOptions
    from lora_lint.settings import SettingsError, parse_version

    try:
        peft_version = parse_version(args.peft_version, "--peft-version") if args.peft_version else None
    except SettingsError as exc:
        raise _UsageError(str(exc)) from None
    lint = LintOptions(model=args.model, peft_version=peft_version, offline=args.offline)
    return run(args.rule, args.format, args.output, ExplainOptions(lint, args.batch_size, args.seq_len))


def _list_rules() -> int:
    from lora_lint.registry import all_rules

    rules = all_rules().values()
    width = max(len(rule.name) for rule in rules)
    return _output("".join(f"{rule.code}  {rule.name:<{width}}  {rule.severity.value:<7}  {rule.summary}\n"
                           for rule in rules))


def _modules(args: argparse.Namespace) -> int:
    import json

    from lora_lint.matcher import match
    from lora_lint.model.resolve import choose_model_class, get_inventory, resolve_model
    from lora_lint.modules_view import render
    from lora_lint.peft_schema import peft_knowledge

    resolved = resolve_model(args.model, offline=args.offline)
    if not resolved.resolved:
        raise _UsageError(f"cannot resolve model `{args.model}`; tried: " + "; ".join(resolved.tried))
    result = get_inventory(resolved, choose_model_class(resolved.config), cache_dir=args.cache_dir,
                           use_cache=not args.no_cache, trust_remote_code=args.trust_remote_code)
    if result.inventory is None:
        raise _UsageError(f"cannot build the skeleton of `{args.model}`: {result.failure}")
    if args.format == "json":
        return _output(json.dumps(result.inventory, indent=1) + "\n")
    all_linear = match(result.inventory, {"target_modules": "all-linear"}, str(peft_knowledge().version)).targets
    return _output(render(resolved.model_id, result.inventory, all_linear, result.notes))


def _output(text: str) -> int:
    """Print a command's output; one that cannot be written (a full disk, a closed stdout) is exit 2."""
    from lora_lint.output import write_stdout

    return EXIT_CLEAN if write_stdout(text) else EXIT_USAGE


def _check(args: argparse.Namespace) -> int:
    from lora_lint.diagnostics import Severity
    from lora_lint.lint import LintOptions
    from lora_lint.output import write_stdout
    from lora_lint.registry import UnknownRuleError, expand_selector
    from lora_lint.report import RENDERERS
    from lora_lint.settings import Settings, SettingsError, parse_version, settings_for_directory

    try:
        select = set().union(*(expand_selector(s) for s in _selectors(args.select))) if args.select else None
        ignore = set().union(*(expand_selector(s) for s in _selectors(args.ignore))) if args.ignore else set()
    except UnknownRuleError as exc:
        raise _UsageError(str(exc)) from None

    found_in: dict[Path, Settings] = {}  # one lookup per directory and run

    def settings_for(path: Path) -> Settings:
        directory = (path if path.is_dir() else path.parent).resolve()
        if directory not in found_in:
            try:
                found_in[directory] = settings_for_directory(directory)
            except SettingsError as exc:
                raise _UsageError(str(exc)) from None
        found = found_in[directory]
        return dataclasses.replace(
            found,
            select=select if select is not None else found.select,
            ignore=found.ignore | ignore,
            exclude=found.exclude + args.exclude,
        )

    if args.show_settings:
        print(settings_for(Path(args.paths[0])).describe())
        return EXIT_CLEAN

    if args.peft_version:
        try:
            args.peft_version = parse_version(args.peft_version, "--peft-version")
        except SettingsError as exc:
            raise _UsageError(str(exc)) from None
    options = LintOptions(dialect=args.dialect, peft_version=args.peft_version, model=args.model,
                          offline=args.offline, trust_remote_code=args.trust_remote_code,
                          cache_dir=args.cache_dir, use_cache=not args.no_cache, peft_dry_run=args.peft_dry_run)
    if args.peft_dry_run and importlib.util.find_spec("peft") is None:
        raise _UsageError("--peft-dry-run needs PEFT and torch: pip install 'lora-lint[model]'")
    step_options = _train_step_options(args)
    jobs = [(path, settings_for(path), options, explicit and not args.skip_non_lora)
            for path, explicit in _discover(args.paths, settings_for, args.force_exclude)]
    results = _lint_all(jobs)
    from lora_lint.fix import apply_fixes, fixable_note

    fixing = args.fix or args.unsafe_fixes or args.diff
    if fixing:
        outcome = apply_fixes(list(zip(jobs, results)), unsafe=args.unsafe_fixes, write=not args.diff)
        sys.stderr.write("".join(f"lora-lint: error: {problem}\n" for problem in outcome.problems))
        if args.diff:
            sys.stdout.write(outcome.diff())
            sys.stderr.write(outcome.summary(would=True, show_fixes=args.show_fixes))
            return EXIT_FINDINGS if outcome.changed or outcome.problems else EXIT_CLEAN
        results = outcome.reports
    if step_options is not None:  # after the fixes: step what the files now say
        from lora_lint.train_step import run as train_step

        train_step([(job, report) for job, report in zip(jobs, results) if report is not None], step_options)
    reports = [report for report in results if report is not None]

    color = args.output_format == "full" and _is_terminal(sys.stdout) and not os.environ.get("NO_COLOR")
    write_stdout(RENDERERS[args.output_format](reports, color=color))  # the exit code stands even if this fails
    summary = outcome.summary(would=False, show_fixes=args.show_fixes) if fixing else ""
    if args.output_format == "full":
        write_stdout(summary + fixable_note(reports, args.unsafe_fixes))
    else:
        sys.stderr.write(summary)

    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    if args.exit_zero:
        return EXIT_CLEAN
    unwritten = fixing and outcome.problems
    return EXIT_FINDINGS if errors or (args.strict and warnings) or unwritten else EXIT_CLEAN


def _is_terminal(stream) -> bool:
    return stream is not None and stream.isatty()


def _train_step_options(args: argparse.Namespace):
    if not args.train_step:
        if args.weights or args.data or args.save_adapter or args.device:
            raise _UsageError("--weights, --device, --data and --save-adapter need --train-step (or train-step)")
        return None
    if importlib.util.find_spec("peft") is None or importlib.util.find_spec("torch") is None:
        raise _UsageError("--train-step needs PEFT and torch: pip install 'lora-lint[model]'")
    if (args.data or args.device) and not args.weights:
        raise _UsageError("--data and --device need --weights: the miniature has random weights and no tokenizer")
    from lora_lint.train_step import StepOptions

    return StepOptions(weights=args.weights, device=args.device, data=args.data, save_adapter=args.save_adapter,
                       progress=sys.stderr.isatty())


# Below this many files a process pool costs more than it saves (a pre-commit run passes a handful).
PARALLEL_MIN_FILES = 16


def _lint_job(job):
    from lora_lint.lint import lint_file_safely

    return lint_file_safely(*job)


def _lint_all(jobs: list) -> list:
    """Lint files in order, on every core when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_MIN_FILES or workers < 2:
        return [_lint_job(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers inherit the imported modules and loaded inventories instead of importing them again.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_lint_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))))


def _discover(paths: list[str], settings_for, force_exclude: bool):
    """Yield (file, named explicitly) pairs: named files as given, directories walked for config files."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "node_modules")
                for filename in sorted(filenames):
                    candidate = Path(folder) / filename
                    if candidate.suffix.lower() in CONFIG_SUFFIXES and candidate not in seen:
                        seen.add(candidate)
                        if not settings_for(candidate).excluded(candidate):
                            yield candidate, False
        elif path.exists():
            if path not in seen and not (force_exclude and settings_for(path).excluded(path)):
                seen.add(path)
                yield path, True
        else:
            raise _UsageError(f"{raw}: no such file or directory")


if __name__ == "__main__":
    sys.exit(main())
