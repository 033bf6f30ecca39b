"""One renderer per explain format; each takes an ExplainReport and returns the text to write."""

from __future__ import annotations

FORMATS = ("text", "svg", "html", "markdown", "json")


def render(report, fmt: str, *, color: bool = False, width: int = 80) -> str:
    if fmt == "text":
        from lora_lint.explain.render.text import render as text

        return text(report, color=color, width=width)
    if fmt == "svg":
        from lora_lint.explain.render.svg import render as svg

        return svg(report)
    if fmt == "html":
        from lora_lint.explain.render.html import render as html

        return html(report)
    if fmt == "markdown":
        from lora_lint.explain.render.markdown import render as markdown

        return markdown(report)
    if fmt == "json":
        import json

        return json.dumps(report.to_dict(), indent=1, default=str) + "\n"
    raise ValueError(f"unknown format {fmt!r}")
