"""Bounds on what one file may cost: bytes, nodes, nesting, list and mapping sizes, aliases, regex time, findings.

A config under lint is untrusted input. Each bound is a setting (`[tool.lora-lint.limits]`, see README.md); a file
past one gets an `input-limit` diagnostic at the node where it was crossed, and the rest is linted where it can be.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from lora_lint.diagnostics import Diagnostic

# Every consumer of the node tree stays far inside Python's recursion limit below this nesting depth.
DEPTH_CEILING = 200


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 10 * 1024 * 1024
    # Real configs have at most a few hundred nodes, lists of a few dozen entries, mappings of ~60 keys. Reading costs
    # ~0.1 ms per node in the pure-Python YAML parser, so max-nodes is what bounds a file's parse time.
    max_nodes: int = 5_000  # YAML values in the file, each alias counted as the nodes it expands to
    max_depth: int = 64
    max_list_entries: int = 1_000
    max_mapping_keys: int = 500
    max_aliases: int = 500
    max_findings_per_rule: int = 50
    regex_timeout_ms: int = 200  # one config regex against all module names
    regex_file_timeout_ms: int = 1_000  # all config regexes of one file

    @staticmethod
    def setting_name(attribute: str) -> str:
        return attribute.replace("_", "-")


DEFAULT_LIMITS = Limits()


class LimitsError(ValueError):
    pass


def limits_from_table(table: object, where: str) -> Limits:
    """`[tool.lora-lint.limits]`: positive integers; unknown keys are an error."""
    if not isinstance(table, dict):
        raise LimitsError(f"{where} must be a table")
    known = {Limits.setting_name(f.name): f.name for f in fields(Limits)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise LimitsError(f"{where}: unknown limit `{key}`; known: {', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise LimitsError(f"{where}.{key} must be a positive integer")
        values[known[key]] = value
    if values.get("max_depth", 0) > DEPTH_CEILING:
        raise LimitsError(f"{where}.max-depth must be at most {DEPTH_CEILING}")
    return Limits(**values)


def cap_findings(diagnostics: list[Diagnostic], limit: int) -> list[Diagnostic]:
    """Keep the first `limit` diagnostics of each rule (in the given order); summarise the rest of that rule in one
    diagnostic at the first one left out."""
    kept: list[Diagnostic] = []
    seen: dict[str, int] = {}
    first_dropped: dict[str, Diagnostic] = {}
    for diagnostic in diagnostics:
        count = seen[diagnostic.code] = seen.get(diagnostic.code, 0) + 1
        if count <= limit:
            kept.append(diagnostic)
        elif count == limit + 1:
            first_dropped[diagnostic.code] = diagnostic
    for code, dropped in first_dropped.items():
        more = seen[code] - limit
        kept.append(Diagnostic(
            code, f"and {more:,} more {dropped.name or code} finding{'s' if more > 1 else ''} in this file",
            dropped.span,
            help=f"lora-lint shows the first {limit:,} of each rule per file (`max-findings-per-rule` in "
                 "[tool.lora-lint.limits])",
            name=dropped.name, severity=dropped.severity,
        ))
    return kept
