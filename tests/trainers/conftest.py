"""Counts of the toolkit differential suite, printed at the end of the session like tests/differential's."""

import collections

TOOLKIT_CASES: collections.Counter = collections.Counter()
AXOLOTL_CASES: collections.Counter = collections.Counter()


def pytest_terminal_summary(terminalreporter):
    if AXOLOTL_CASES:
        terminalreporter.section("axolotl differential cases (lora-lint vs axolotl 0.21.0)")
        for outcome, count in AXOLOTL_CASES.most_common():
            terminalreporter.write_line(f"{count:6d} {outcome}")
    if not TOOLKIT_CASES:
        return
    terminalreporter.section("toolkit differential cases (lora-lint vs llm-toolkit 0.2.3)")
    for outcome, count in TOOLKIT_CASES.most_common():
        terminalreporter.write_line(f"{count:6d} {outcome}")
