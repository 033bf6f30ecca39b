"""`lora-lint explain CONFIG`: what the adapter will be, in a picture and numbers, from what `check` computes."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from lora_lint.explain.build import ExplainOptions, build_report
from lora_lint.explain.render import FORMATS, render

__all__ = ["ExplainOptions", "FORMATS", "build_report", "run"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def run(path: Path | str, fmt: str = "text", output: Path | str | None = None,
        options: ExplainOptions | None = None) -> int:
    """Write the explain report of one config file to ``output`` (stdout when None). Exit code as `check`: 1 when
    the config has errors, 2 for a usage or settings problem."""
    from lora_lint.diagnostics import Severity
    from lora_lint.settings import SettingsError

    path = Path(path)
    if not path.is_file():
        problem = "explain takes one config file" if path.exists() else "no such file"
        print(f"lora-lint: error: {path}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    options = options or ExplainOptions()
    for flag, value in (("--batch-size", options.batch_size), ("--seq-len", options.sequence_length)):
        if value is not None and value <= 0:
            print(f"lora-lint: error: {flag} must be a positive integer, not {value}", file=sys.stderr)
            return EXIT_USAGE
    if fmt not in FORMATS:
        print(f"lora-lint: error: unknown format {fmt!r}; choose from {', '.join(FORMATS)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = build_report(path, options)
    except SettingsError as exc:
        print(f"lora-lint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    to_terminal = output is None and sys.stdout.isatty()
    color = fmt == "text" and to_terminal and not os.environ.get("NO_COLOR")
    width = shutil.get_terminal_size((80, 24)).columns if to_terminal else 80
    text = render(report, fmt, color=color, width=width)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"lora-lint: error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    errors = sum(1 for d in report.diagnostics if d.severity is Severity.ERROR)
    return EXIT_FINDINGS if errors else EXIT_CLEAN
