import re

from lora_lint.matcher.config import version_tuple
from lora_lint.matcher.layers import layer_regex
from lora_lint.matcher.patterns import pattern_key_regex
from lora_lint.matcher.regexes import peft_compile, peft_would_hang
from lora_lint.matcher.targets import modules_to_save_regex
from lora_lint.rules import Finding, rule


def _sites(ctx):
    """(node, pattern as written, regex PEFT compiles, fullmatch?, report it when invalid) for every string PEFT
    uses as a regex. An invalid string `target_modules` is regex-target-mismatch's to report."""
    settings, version = ctx.config.settings, version_tuple(str(ctx.peft.version))
    target = settings.get("target_modules")
    if target is not None and isinstance(target.value, str) and target.value.lower() != "all-linear":
        yield target.value_node, target.value, target.value, True, False
    exclude = settings.get("exclude_modules")
    if exclude is not None and isinstance(exclude.value, str):
        yield exclude.value_node, exclude.value, exclude.value, True, True
    layers = settings.get("layers_pattern")
    if layers is not None:
        nodes = layers.value_node.items if layers.value_node.kind == "seq" else [layers.value_node]
        for node in nodes:
            if node.kind == "scalar" and isinstance(node.value, str) and node.value:
                yield node, node.value, layer_regex(node.value, version), False, True
    for name in ("rank_pattern", "alpha_pattern"):
        patterns = settings.get(name)
        if patterns is not None and patterns.value_node.kind == "map":
            for key_node, _ in patterns.value_node.pairs:
                if key_node.kind == "scalar" and isinstance(key_node.value, str):
                    yield key_node, key_node.value, pattern_key_regex(key_node.value, version), False, True
    saved = settings.get("modules_to_save")
    if saved is not None and saved.value_node.kind == "seq" and version >= (0, 16):
        for node in saved.value_node.items:
            if node.kind == "scalar" and isinstance(node.value, str):
                yield node, node.value, modules_to_save_regex(node.value), False, True


def peft_hangs(ctx) -> bool:
    """Whether PEFT would hang on one of the config's regexes (the dry run must not start it then)."""
    names = [m["name"] for m in ctx.model.inventory["modules"] if m["name"]] if ctx.model is not None else []
    for _, pattern, regex_text, full, _ in _sites(ctx):
        try:
            peft_compile(regex_text)
        except re.error:
            continue
        if names and peft_would_hang(pattern, regex_text, names, full=full):
            return True
    return False


def _shown(pattern: str) -> str:
    return pattern if len(pattern) <= 80 else pattern[:77] + "..."


@rule("LL330")
def check(ctx):
    names = [m["name"] for m in ctx.model.inventory["modules"] if m["name"]] if ctx.model is not None else []
    for node, pattern, regex_text, full, report_invalid in _sites(ctx):
        try:
            peft_compile(regex_text)
        except re.error as exc:
            if report_invalid:
                yield Finding(node, f"`{_shown(pattern)}` is not a valid regular expression ({exc}); PEFT compiles it "
                                    "with Python's re module and raises re.error",
                              "escape special characters with a backslash, or close the group or set")
            continue
        if names and peft_would_hang(pattern, regex_text, names, full=full):
            yield Finding(node, "this regex backtracks catastrophically on module names; PEFT would hang here too",
                          f"`{_shown(pattern)}` nests repeats (or alternatives inside a repeat) that can match the same "
                          "text in many ways: write each name part once, e.g. `.*\\.(q_proj|v_proj)`")
