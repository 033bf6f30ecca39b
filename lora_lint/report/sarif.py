"""SARIF 2.1.0, as GitHub code scanning accepts it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from lora_lint import __version__
from lora_lint.diagnostics import FileReport, Severity
from lora_lint.report.escape import valid_unicode
from lora_lint.registry import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/lora-lint/lora-lint"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _artifact(path: str) -> dict:
    """A repository-relative uri when the file is under the working directory, else an absolute file uri; both
    percent-encoded (RFC 3986), as the schema's `format: uri-reference` asks: a space, `#`, `%` or `?` in a name
    would otherwise end or corrupt the reference."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return {"uri": "file://" + quote(os.fsencode(candidate.as_posix()), safe="/")}
    # The name's own bytes (os.fsencode): a name that is not valid UTF-8 is percent-encoded byte by byte.
    return {"uri": quote(os.fsencode(candidate.as_posix().removeprefix("./")), safe="/"), "uriBaseId": "%SRCROOT%"}


def document(reports: list[FileReport]) -> dict:
    rules = list(all_rules().values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lora-lint",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [{
                    "id": rule.code,
                    "name": rule.name,
                    "shortDescription": {"text": rule.summary},
                    "fullDescription": {"text": rule.section("What it does") or rule.summary},
                    "help": {"text": rule.body, "markdown": rule.body},
                    "defaultConfiguration": {"level": _LEVEL[rule.severity]},
                } for rule in rules],
            }},
            "results": [{
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": _LEVEL[d.severity],
                "message": {"text": d.message + (f"\nhelp: {d.help}" if d.help else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": _artifact(report.path),
                    "region": {
                        "startLine": d.span.start.line,
                        "startColumn": d.span.start.column,
                        "endLine": d.span.end.line,
                        "endColumn": d.span.end.column,
                    },
                }}],
            } for report in reports for d in report.diagnostics],
        }],
    }


def render(reports: list[FileReport], color: bool = False, summary: bool = True) -> str:
    return json.dumps(valid_unicode(document(reports)), indent=2) + "\n"
