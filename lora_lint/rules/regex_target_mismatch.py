import re

from lora_lint.matcher.regexes import config_match, peft_compile
from lora_lint.rules import Finding, rule

_GROUP = re.compile(r"\((?:\?:)?([^()]*\|[^()]*)\)")


def _split_top_level(pattern: str) -> list[str]:
    """Split on `|` outside parentheses and brackets."""
    parts, depth, current, escaped = [], 0, "", False
    for char in pattern:
        if escaped:
            current, escaped = current + char, False
            continue
        if char == "\\":
            current, escaped = current + char, True
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def _branches(pattern: str) -> list[tuple[str, str]]:
    """(alternative as written, regex selecting only it) for each alternative of the pattern."""
    top = _split_top_level(pattern)
    if len(top) > 1:
        return [(alternative, alternative) for alternative in top]
    group = _GROUP.search(pattern)
    if group is None:
        return []
    return [(alternative, pattern[:group.start()] + f"(?:{alternative})" + pattern[group.end():])
            for alternative in group.group(1).split("|")]


@rule("LL309")
def check(ctx):
    target = ctx.config.settings.get("target_modules")
    if target is None or not isinstance(target.value, str) or target.value.lower() == "all-linear":
        return
    pattern = target.value
    try:
        peft_compile(pattern)
    except re.error as exc:
        yield Finding(target.value_node, f"`target_modules` is not a valid regular expression: {exc}",
                      "PEFT compiles it with Python's re module")
        return
    names = [m["name"] for m in ctx.model.inventory["modules"] if m["name"]]
    if not any(config_match(pattern, pattern, name, full=True) for name in names):
        if re.fullmatch(r"[A-Za-z0-9_.]+", pattern):
            return  # a bare name: string-target-modules (LL107) says why
        yield Finding(target.value_node,
                      f"the regex `{pattern}` matches no full module name of {ctx.model.name}; "
                      "PEFT raises ValueError", "PEFT applies it with re.fullmatch to names like "
                      f"`{next((n for n in names if n.count('.') >= 3), names[-1])}`: start it with `.*`")
        return
    for alternative, selecting in _branches(pattern):
        try:
            if not any(config_match(pattern, selecting, name, full=True) for name in names):
                yield Finding(target.value_node,
                              f"the alternative `{alternative}` in `{pattern}` matches no module; the rest do, "
                              "so PEFT trains without it and says nothing",
                              "fix or remove that alternative (`lora-lint modules MODEL` lists the names)")
        except re.error:
            continue
