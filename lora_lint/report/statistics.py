"""`--statistics`: how often each rule fired, most frequent first."""

from __future__ import annotations

import json
from collections import Counter

from lora_lint.diagnostics import FileReport


def counts(reports: list[FileReport]) -> list[dict]:
    seen = Counter((d.code, d.name, d.severity.value) for report in reports for d in report.diagnostics)
    return [{"code": code, "name": name, "severity": severity, "count": count}
            for (code, name, severity), count in sorted(seen.items(), key=lambda item: (-item[1], item[0]))]


def render_statistics(reports: list[FileReport], as_json: bool = False) -> str:
    rows = counts(reports)
    if as_json:
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(row["count"])) for row in rows), default=1)
    return "".join(f"{row['count']:>{width}}  {row['code']}  {row['severity']:<7}  {row['name']}\n" for row in rows)
