"""`lora-lint check`: settings per directory → discover files → lint each → render → exit code."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from lora_lint.cli import EXIT_CLEAN, EXIT_FINDINGS, CommandError, usage_error


@dataclass
class CheckArgs:
    """The `check` command line, one field per option (the click options in cli.py fill it)."""

    paths: tuple[str, ...] = ()
    output_format: str = "full"
    show_settings: bool = False
    select: set[str] | None = None
    ignore: set[str] | None = None
    exclude: tuple[str, ...] = ()
    force_exclude: bool = False
    skip_non_lora: bool = False
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
    from lora_lint.discovery import discover
    from lora_lint.lint import LintOptions
    from lora_lint.report import RENDERERS

    paths = list(args.paths) or ["."]
    settings_for = SettingsLookup(args)
    if args.show_settings:
        print(settings_for(Path(paths[0])).describe())
        return EXIT_CLEAN
    if args.peft_dry_run and importlib.util.find_spec("peft") is None:
        raise usage_error("--peft-dry-run needs PEFT and torch: pip install 'lora-lint[model]'")
    options = LintOptions(dialect=args.dialect, peft_version=args.peft_version, model=args.model,
                          offline=args.offline, trust_remote_code=args.trust_remote_code,
                          cache_dir=args.cache_dir, use_cache=not args.no_cache, peft_dry_run=args.peft_dry_run)
    jobs = [(path, settings_for(path), options, explicit and not args.skip_non_lora)
            for path, explicit in discover(paths, settings_for, args.force_exclude)]
    reports = [report for report in lint_all(jobs) if report is not None]

    color = args.output_format == "full" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(RENDERERS[args.output_format](reports, color=color))

    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if errors or (args.strict and warnings) else EXIT_CLEAN


# Below this many files a process pool costs more than it saves (a pre-commit run passes a handful).
PARALLEL_MIN_FILES = 16


def _lint_job(job):
    from lora_lint.lint import lint_file

    return lint_file(*job)


def lint_all(jobs: list) -> list:
    """Lint files in order, on every core when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_MIN_FILES or workers < 2:
        return [_lint_job(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers inherit the imported modules and loaded inventories instead of importing them again.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_lint_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))))
