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
    if args.peft_dry_run and _missing("peft"):
        raise usage_error("--peft-dry-run needs PEFT and torch: pip install 'lora-lint[model]'")
    candidates = list(discover(paths, settings_for, args.force_exclude, args.respect_gitignore))
    if args.show_files:
        for candidate in candidates:
            click.echo(args.stdin_filename or STDIN if candidate.path.as_posix() == STDIN else candidate.path)
        return EXIT_CLEAN
    options = LintOptions(dialect=args.dialect, peft_version=args.peft_version, model=args.model,
                          offline=args.offline, trust_remote_code=args.trust_remote_code,
                          cache_dir=args.cache_dir, use_cache=not args.no_cache, peft_dry_run=args.peft_dry_run)
    jobs = [_job(candidate, settings_for, options, args) for candidate in candidates]
    results = lint_all([job for job in jobs if job is not None], progress=not args.quiet)
    reports = [result for result in results if not isinstance(result, Skipped)]
    skipped = [result for result in results if isinstance(result, Skipped)]
    if args.verbose:
        _log_files(results)

    _write_output(args, render_output(args, reports, skipped))

    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if errors or (args.strict and warnings) else EXIT_CLEAN


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

    color = want_color(args.color, args.output_file is None and sys.stdout.isatty())
    if args.statistics:
        from lora_lint.report.statistics import render_statistics

        return render_statistics(reports, as_json=args.output_format == "json")
    if args.output_format not in TEXT_FORMATS:
        return RENDERERS[args.output_format](reports, color=color)
    if not reports and skipped and not args.quiet:
        return skipped_message(skipped) + "\n"
    text = RENDERERS[args.output_format](reports, color=color, summary=not args.quiet)
    foreign = [item for item in skipped if item.reason != _not_lora()]
    if foreign and not args.quiet:
        text += skipped_message(foreign) + "\n"
    return text


def _not_lora() -> str:
    from lora_lint.sniff import NOT_LORA

    return NOT_LORA


def skipped_message(skipped: list) -> str:
    """Why nothing (or not everything) was linted, instead of a bare "All checks passed (0 files)"."""
    from collections import Counter

    reasons = Counter(item.reason for item in skipped)
    parts = []
    for reason, count in sorted(reasons.items(), key=lambda pair: (pair[0] == _not_lora(), pair[0])):
        if reason == _not_lora():
            parts.append(f"{count} files that are not LoRA configs" if count != 1 else
                         "1 file that is not a LoRA config")
        else:
            parts.append(f"{count} {reason} config{'s' if count != 1 else ''} (a format lora-lint cannot read yet)")
    return "Skipped " + " and ".join(parts) + "."


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
        sys.stdout.write(text)
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


def _lint_job(job):
    from lora_lint.lint import lint_or_skip

    return lint_or_skip(*job)


def lint_all(jobs: list, progress: bool = True) -> list:
    """Lint files in order, on every core when there are many, with a progress line on a terminal."""
    from lora_lint.progress import file_progress

    workers = min(os.cpu_count() or 1, 8)
    with file_progress(len(jobs) if progress else 0) as advance:
        if len(jobs) < PARALLEL_MIN_FILES or workers < 2:
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
