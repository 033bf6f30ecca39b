"""Regexes a config supplies (string target_modules, exclude_modules, layers_pattern, rank/alpha pattern keys,
modules_to_save entries), run against module names within a time budget.

PEFT compiles them with Python's `re`, which cannot be interrupted: `(a+)+$`-style backtracking hangs it for hours,
at training time, and would hang a pre-commit hook the same way. So a pattern is compiled with `re` first (an
invalid one raises `re.error` exactly as in PEFT) and then matched with the `regex` package, which implements the
same syntax (VERSION0) and takes a timeout. Time is counted per written pattern (`regex-timeout-ms`) and per file
(`regex-file-timeout-ms`); past either, matching raises `SlowRegex` and the pattern stays marked for the file, so
later uses fail at once instead of spending the budget again.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from typing import Any, Iterator, Optional

from lora_lint.limits import DEFAULT_LIMITS, Limits


class SlowRegex(Exception):
    """A config regex ran past its time budget on module names."""

    def __init__(self, pattern: str):
        super().__init__(f"the regex {pattern!r} ran past lora-lint's time budget on module names")
        self.pattern = pattern


class RegexBudget:
    def __init__(self, limits: Limits = DEFAULT_LIMITS):
        self.per_pattern = limits.regex_timeout_ms / 1000
        self.per_file = limits.regex_file_timeout_ms / 1000
        self.spent: dict[str, float] = {}
        self.total = 0.0
        self.slow: list[str] = []  # written patterns that ran out of time, in order

    def remaining(self, pattern: str) -> float:
        return min(self.per_pattern - self.spent.get(pattern, 0.0), self.per_file - self.total)

    def charge(self, pattern: str, seconds: float) -> None:
        self.spent[pattern] = self.spent.get(pattern, 0.0) + seconds
        self.total += seconds

    def give_up(self, pattern: str) -> SlowRegex:
        if pattern not in self.slow:
            self.slow.append(pattern)
        return SlowRegex(pattern)


_budget: contextvars.ContextVar[Optional[RegexBudget]] = contextvars.ContextVar("regex_budget", default=None)


@contextlib.contextmanager
def regex_budget(limits: Limits = DEFAULT_LIMITS) -> Iterator[RegexBudget]:
    """One budget for everything in the block (lint.py opens one per file)."""
    budget = RegexBudget(limits)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


@contextlib.contextmanager
def ensure_budget() -> Iterator[RegexBudget]:
    """The budget in force, or a fresh default one for a caller outside any (e.g. `lora-lint modules`)."""
    budget = _budget.get()
    if budget is not None:
        yield budget
        return
    with regex_budget() as budget:
        yield budget


def is_risky(regex_text: str) -> bool:
    """Whether backtracking can blow up: a repeat inside a repeat, an alternation inside a repeat, a
    backreference, or three or more unbounded repeats (polynomial in the name's length). Ordinary target regexes
    (`.*\\.(q_proj|v_proj)`, `model\\.layers\\.\\d+\\..*`) are none of these."""
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    from re._constants import MAXREPEAT  # type: ignore[import-not-found]

    repeats = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    unbounded = 0
    pending = [(sre_parse.parse(regex_text), 0)]
    while pending:
        subpattern, inside_repeat = pending.pop()
        for op, argument in subpattern:
            name = str(op)
            if name in repeats:
                low, high, inner = argument
                if high > 1 and inside_repeat:
                    return True
                unbounded += high == MAXREPEAT
                pending.append((inner, inside_repeat + (high > 1)))
            elif name == "BRANCH":
                if inside_repeat:
                    return True
                pending.extend((branch, inside_repeat) for branch in argument[1])
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                return True
            elif name == "SUBPATTERN":
                pending.append((argument[3], inside_repeat))
            elif name in ("ASSERT", "ASSERT_NOT"):
                pending.append((argument[1], inside_repeat))
            elif name == "ATOMIC_GROUP":
                pending.append((argument, inside_repeat))
    return unbounded >= 3


def peft_compile(regex_text: str) -> re.Pattern:
    """`re.compile`, as PEFT calls it. Its parser recurses on nested groups: `((((...` thousands deep raises
    RecursionError there, which PEFT does not catch either; here it is the re.error of an unusable pattern."""
    try:
        return re.compile(regex_text)
    except RecursionError:
        raise re.error("groups nested too deeply for Python's re (RecursionError)", regex_text) from None


def _compile(regex_text: str) -> tuple[Any, bool]:
    """The compiled pattern and whether it needs a deadline: ordinary ones run on `re` itself (PEFT's engine), risky
    ones on the `regex` package with a timeout."""
    plain = peft_compile(regex_text)  # PEFT's error, if it has one
    if is_risky(regex_text):
        import regex

        try:
            return regex.compile(regex_text, flags=regex.VERSION0), True
        except regex.error:  # syntax `re` takes and `regex` does not: PEFT's own engine, unguarded
            pass
    return plain, False


# regex text -> (bound match or fullmatch, guarded?): this runs once per module name and pattern, so the lookup is
# one dict access.
_MATCH: dict[str, tuple[Any, bool]] = {}
_FULLMATCH: dict[str, tuple[Any, bool]] = {}


def config_match(pattern: str, regex_text: str, name: str, full: bool = False) -> Any:
    """`re.match` (or `re.fullmatch`) of `regex_text`, a regex PEFT builds around the written `pattern`, on `name`."""
    methods = _FULLMATCH if full else _MATCH
    entry = methods.get(regex_text)
    if entry is None:
        if len(methods) > 1024:
            methods.clear()
        compiled, guarded = _compile(regex_text)
        entry = methods[regex_text] = (compiled.fullmatch if full else compiled.match, guarded)
    method, guarded = entry
    if not guarded:
        return method(name)
    budget = _budget.get() or RegexBudget()  # outside any budget block: this call alone
    if pattern in budget.slow:
        raise SlowRegex(pattern)
    remaining = budget.remaining(pattern)
    if remaining <= 0:
        raise budget.give_up(pattern)
    start = time.perf_counter()
    try:
        return method(name, timeout=remaining)
    except TimeoutError:
        raise budget.give_up(pattern) from None
    finally:
        budget.charge(pattern, time.perf_counter() - start)


def peft_would_hang(pattern: str, regex_text: str, names: list[str], *, full: bool = False) -> bool:
    """Whether PEFT's own `re` fails to get through `names` within the budget. `regex` resists some blow-ups that
    hang `re` (`(.+)+\\d`), so for a risky pattern PEFT's engine itself is run, in a forked child with a deadline.
    False where fork is not available or the pattern is not risky."""
    import os

    if not hasattr(os, "fork") or not is_risky(regex_text):
        return False
    budget = _budget.get() or RegexBudget()
    if pattern in budget.slow:
        return True
    remaining = budget.remaining(pattern)
    if remaining <= 0:
        budget.give_up(pattern)
        return True
    import select
    import signal

    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: match, say so, and leave without running any of the parent's exit handlers
        try:
            os.close(read_end)
            compiled = peft_compile(regex_text)
            method = compiled.fullmatch if full else compiled.match
            for name in names:
                method(name)
            os.write(write_end, b"1")
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        finished = bool(select.select([read_end], [], [], remaining)[0])
    finally:
        os.close(read_end)
        if not finished:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        budget.charge(pattern, time.perf_counter() - start)
    if not finished:
        budget.give_up(pattern)
    return not finished
