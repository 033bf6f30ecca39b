"""One renderer per output format. Each takes the file reports and returns the text to print."""

from __future__ import annotations

from lora_lint.report import concise, full, github, json_format, sarif

RENDERERS = {
    "full": full.render,
    "concise": concise.render,
    "json": json_format.render,
    "github": github.render,
    "sarif": sarif.render,
}
