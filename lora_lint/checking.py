"""`lora-lint check`: settings per directory → discover files → lint each → render → exit code."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from lora_lint.cli import EXIT_CLEAN, EXIT_FINDINGS, CommandError, usage_error


@dataclass
class CheckArgs:
    """The `check` command line, one field per option (the click options in cli.py fill it)."""

    paths: tuple[str, ...] = ()
    output_format: str = "full"
    output_file: Path | None = None
    statistics: bool = False
    quiet: bool = False
    verbose: bool = False
    color: str = "auto"
    show_files: bool = False
    show_settings: bool = False
    select: set[str] | None = None
    ignore: set[str] | None = None
    exclude: tuple[str, ...] = ()
    force_exclude: bool = False
    respect_gitignore: bool = True
    skip_non_lora: bool = False
    stdin_filename: str | None = None
    dialect: str | None = None
    model: str | None = None
    offline: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False
    trust_remote_code: bool = False
    peft_version: str | None = None
    peft_dry_run: bool = False
    strict: bool = False
    exit_zero: bool = False
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    show_fixes: bool = False
    train_step: bool = False
    weights: Path | None = None
    device: str | None = None
    data: Path | None = None
    save_adapter: Path | None = None


class SettingsLookup:
    """The settings for a path: the nearest settings file's, with the command line's --select/--ignore/--exclude
    on top. One lookup per directory and run."""

    def __init__(self, args: CheckArgs) -> None:
        self.args = args
        self._found: dict[Path, object] = {}

    def __call__(self, path: Path):
        from lora_lint.settings import SettingsError, settings_for_directory

        directory = (path if path.is_dir() else path.parent).resolve()
        if directory not in self._found:
            try:
                self._found[directory] = settings_for_directory(directory)
            except SettingsError as exc:
                raise CommandError(str(exc)) from None
        found = self._found[directory]
        return dataclasses.replace(
            found,
            select=self.args.select if self.args.select is not None else found.select,
            ignore=found.ignore | (self.args.ignore or set()),
            exclude=found.exclude + list(self.args.exclude),
        )


def run_check(args: CheckArgs) -> int:
    from lora_lint.model.offline import offline_in_environment, offline_mode

    # For the whole run: nothing may connect, whichever library tries.
    with offline_mode(args.offline or offline_in_environment()):
        return _run_check(args)


def _run_check(args: CheckArgs) -> int:
    from lora_lint.diagnostics import Severity
    from lora_lint.discovery import STDIN, discover
    from lora_lint.lint import LintOptions, Skipped

    paths = list(args.paths) or ["."]
    settings_for = SettingsLookup(args)
    if args.show_settings:
        click.echo(settings_for(Path(paths[0])).describe())
        return EXIT_CLEAN
    if args.quiet and args.verbose:
        raise usage_error("--quiet and --verbose contradict each other")
    if args.stdin_filename is not None and STDIN not in paths:
        raise usage_error("--stdin-filename names the config read from `-`; pass `-` as the path", "--stdin-filename")
    fixing = args.fix or args.unsafe_fixes or args.diff
    if fixing and STDIN in paths:
        raise usage_error("fixes are written to files: --fix, --unsafe-fixes and --diff do not take `-`")
    if args.peft_dry_run and _missing("peft"):
        raise usage_error("--peft-dry-run needs PEFT and torch: pip install 'lora-lint[model]'")
    step_options = _step_options(args)
    candidates = list(discover(paths, settings_for, args.force_exclude, args.respect_gitignore))
    if args.show_files:
        for candidate in candidates:
            click.echo(args.stdin_filename or STDIN if candidate.path.as_posix() == STDIN else candidate.path)
        return EXIT_CLEAN
    options = LintOptions(dialect=args.dialect, peft_version=args.peft_version, model=args.model,
                          offline=args.offline, trust_remote_code=args.trust_remote_code,
                          cache_dir=args.cache_dir, use_cache=not args.no_cache, peft_dry_run=args.peft_dry_run)
    jobs = [job for job in (_job(candidate, settings_for, options, args) for candidate in candidates) if job]
    results = lint_all(jobs, progress=not args.quiet)
    outcome = None
    if fixing:
        from lora_lint.fix import apply_fixes

        linted = [index for index, result in enumerate(results) if not isinstance(result, Skipped)]
        outcome = apply_fixes([(jobs[index][:4], results[index]) for index in linted], unsafe=args.unsafe_fixes,
                              write=not args.diff)
        sys.stderr.write("".join(f"lora-lint: error: {problem}\n" for problem in outcome.problems))
        if args.diff:
            from lora_lint.output import write_stdout

            write_stdout(outcome.diff())
            sys.stderr.write(outcome.summary(would=True, show_fixes=args.show_fixes))
            return EXIT_FINDINGS if outcome.changed or outcome.problems else EXIT_CLEAN
        for index, report in zip(linted, outcome.reports):
            results[index] = report if report is not None else results[index]
    if step_options is not None:  # after the fixes: step what the files now say
        from lora_lint.train_step import run as train_step

        train_step([(job[:4], result) for job, result in zip(jobs, results) if not isinstance(result, Skipped)],
                   step_options)
    reports = [result for result in results if not isinstance(result, Skipped)]
    skipped = [result for result in results if isinstance(result, Skipped)]
    if args.verbose:
        _log_files(results)

    text = render_output(args, reports, skipped)
    if outcome is not None:
        summary = outcome.summary(would=False, show_fixes=args.show_fixes)
        if args.output_format in TEXT_FORMATS and not args.statistics:
            text += summary
        else:
            sys.stderr.write(summary)
    if args.output_format == "full" and not args.statistics and not args.quiet:
        from lora_lint.fix import fixable_note

        text += fixable_note(reports, args.unsafe_fixes)
    _write_output(args, text)  # the exit code stands even if the report cannot be shown

    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    if args.exit_zero:
        return EXIT_CLEAN
    unwritten = outcome is not None and outcome.problems
    return EXIT_FINDINGS if errors or (args.strict and warnings) or unwritten else EXIT_CLEAN


def _step_options(args: CheckArgs):
    """The training step's options, or None when no step was asked for."""
    if not args.train_step:
        if args.weights or args.data or args.save_adapter or args.device:
            raise usage_error("--weights, --device, --data and --save-adapter need --train-step (or train-step)")
        return None
    if _missing("peft") or _missing("torch"):
        raise usage_error("--train-step needs PEFT and torch: pip install 'lora-lint[model]'")
    if (args.data or args.device) and not args.weights:
        raise usage_error("--data and --device need --weights: the miniature has random weights and no tokenizer")
    from lora_lint.train_step import StepOptions

    return StepOptions(weights=args.weights, device=args.device, data=args.data, save_adapter=args.save_adapter,
                       progress=is_terminal(sys.stderr))


def _job(candidate, settings_for, options, args: CheckArgs):
    """(path, settings, options, explicit, data, display) for lint_or_skip; None for stdin that is excluded."""
    from lora_lint.discovery import STDIN

    if candidate.path.as_posix() != STDIN:
        explicit = candidate.explicit and (not args.skip_non_lora or not candidate.path.exists())
        return candidate.path, settings_for(candidate.path), options, explicit, None, None
    named = Path(args.stdin_filename) if args.stdin_filename else Path(STDIN)
    settings = settings_for(named if args.stdin_filename else Path.cwd() / STDIN)
    if args.stdin_filename and args.force_exclude and settings.excluded(named):
        return None
    return named, settings, options, not args.skip_non_lora, sys.stdin.buffer.read(), named.as_posix()


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


TEXT_FORMATS = ("full", "concise")


def render_output(args: CheckArgs, reports: list, skipped: list) -> str:
    from lora_lint.report import RENDERERS

    color = want_color(args.color, args.output_file is None and is_terminal(sys.stdout))
    if args.statistics:
        from lora_lint.report.statistics import render_statistics

        return render_statistics(reports, as_json=args.output_format == "json")
    if args.output_format not in TEXT_FORMATS:
        return RENDERERS[args.output_format](reports, color=color)
    if not reports and skipped and not args.quiet:
        return skipped_message(skipped) + "\n"
    return RENDERERS[args.output_format](reports, color=color, summary=not args.quiet)


def skipped_message(skipped: list) -> str:
    """Why nothing was linted, instead of a bare "All checks passed (0 files)"."""
    count = len(skipped)
    return f"Skipped {count} files that are not LoRA configs." if count != 1 else \
        "Skipped 1 file that is not a LoRA config."


def is_terminal(stream) -> bool:
    return stream is not None and stream.isatty()  # sys.stdout is None when the process starts with it closed


def want_color(choice: str, terminal: bool) -> bool:
    """--color always/never win; for auto, NO_COLOR (no-color.org) then FORCE_COLOR (force-color.org), then
    whether the output is a terminal."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return terminal


def _write_output(args: CheckArgs, text: str) -> None:
    if args.output_file is None:
        from lora_lint.output import write_stdout

        write_stdout(text)
        return
    try:
        args.output_file.parent.mkdir(parents=True, exist_ok=True)
        args.output_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {args.output_file}: {exc.strerror or exc}") from None


def _log_files(results: list) -> None:
    from lora_lint.lint import Skipped

    for result in results:
        if isinstance(result, Skipped):
            click.echo(f"lora-lint: skipped {result.path}: {result.reason}", err=True)
        else:
            model = (result.model or {}).get("id")
            source = (result.model or {}).get("source")
            about = f"{result.dialect or 'unread'} config" + (f", model {model} ({source})" if model else "")
            click.echo(f"lora-lint: linted {result.path}: {about}", err=True)


# Below this many files a process pool costs more than it saves (a pre-commit run passes a handful).
PARALLEL_MIN_FILES = 16


def forkable() -> bool:
    """A forked child of a process whose torch has started its OpenMP threads hangs on its first tensor operation:
    fork only a torch-free process (the lint path is one; a dry run or a skeleton build in this process is not)."""
    return "torch" not in sys.modules


def _lint_job(job):
    from lora_lint.lint import lint_file_safely

    return lint_file_safely(*job)


def lint_all(jobs: list, progress: bool = True) -> list:
    """Lint files in order, on every core when there are many, with a progress line on a terminal."""
    from lora_lint.progress import file_progress

    workers = min(os.cpu_count() or 1, 8)
    with file_progress(len(jobs) if progress else 0) as advance:
        if len(jobs) < PARALLEL_MIN_FILES or workers < 2 or not forkable():
            results = []
            for job in jobs:
                results.append(_lint_job(job))
                advance()
            return results
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: workers inherit the imported modules and loaded inventories instead of importing them again.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = []
            for result in pool.map(_lint_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))):
                results.append(result)
                advance()
            return results
