"""JSON output, a contract other tools rely on: keep its keys stable."""

from __future__ import annotations

import json

from lora_lint.diagnostics import FileReport, Severity
from lora_lint.report.escape import valid_unicode
from lora_lint.scalars import MAX_INT_BITS

FORMAT_VERSION = 1


def document(reports: list[FileReport]) -> dict:
    files = []
    for report in reports:
        entry = {
            "path": report.path,
            "dialect": report.dialect,
            "model": report.model,
            "targets": report.targets,
            "diagnostics": [
                {
                    "code": d.code,
                    "name": d.name,
                    "severity": d.severity.value,
                    "message": d.message,
                    "line": d.span.start.line,
                    "column": d.span.start.column,
                    "end_line": d.span.end.line,
                    "end_column": d.span.end.column,
                    "help": d.help,
                    "fix": {"applicability": d.fix.applicability.value, "message": d.fix.message} if d.fix else None,
                }
                for d in report.diagnostics
            ],
        }
        if report.trainer is not None:
            entry["trainer"] = report.trainer
        if report.peft_version is not None:
            entry["modules_to_save"] = report.modules_to_save
            # null when the count is too large for JSON text (json.dumps cannot print 4,300+ digits).
            entry["trainable_parameters"] = (report.trainable_parameters
                                             if report.trainable_parameters.bit_length() <= MAX_INT_BITS else None)
            entry["peft_version"] = report.peft_version
        if report.train_step is not None:
            entry["train_step"] = report.train_step
        files.append(entry)
    return {
        "version": FORMAT_VERSION,
        "files": files,
        "summary": {
            "files": len(reports),
            "errors": sum(r.count(Severity.ERROR) for r in reports),
            "warnings": sum(r.count(Severity.WARNING) for r in reports),
            "info": sum(r.count(Severity.INFO) for r in reports),
        },
    }


def render(reports: list[FileReport], color: bool = False, summary: bool = True) -> str:
    return json.dumps(valid_unicode(document(reports)), indent=2) + "\n"
