"""The architecture sweep's run selection and its report.

Every sweep test carries the `architectures` marker. A run whose `-m` expression does not name the marker sweeps
only DEFAULT_FAMILIES; `pytest -m architectures` sweeps every model type. The end of the session prints one line per
model type and class, the totals, and the types PEFT itself raised on for every config.
"""

from __future__ import annotations

import pytest

from .families import DEFAULT_FAMILIES
from .sweep import RESULTS


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_torch():
    """The sweep builds full-size default configs, whose few real tensors are big enough for torch to start its
    OpenMP thread team; a process forked after that (lora-lint lints 16+ files in forked workers, as the fixture
    tests do later in the session) hangs in its first parallel torch op. One thread, for the rest of the session,
    keeps the team from ever starting in the test process."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    if "architectures" in (config.option.markexpr or ""):
        return
    kept, dropped = [], []
    for item in items:
        model_type = getattr(item, "callspec", None) and item.callspec.params.get("model_type")
        if item.get_closest_marker("architectures") and model_type not in DEFAULT_FAMILIES:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("architecture sweep: lora-lint --model DIR against real PEFT")
    cases = agreed = 0
    failed_types, cannot_wrap, unbuildable = [], [], []
    for result in sorted(RESULTS, key=lambda r: (r.model_type, r.auto_class)):
        label = f"{result.model_type:28s} {result.auto_class:36s}"
        if result.reference_failure:
            unbuildable.append(result)
            write(f"{label} not built by transformers itself: {result.reference_failure[:120]}")
            continue
        agreeing = sum(case.agrees for case in result.cases)
        cases += len(result.cases)
        agreed += agreeing
        if agreeing < len(result.cases):
            failed_types.append(result)
        if result.peft_cannot_wrap:
            cannot_wrap.append(result)
        write(f"{label} {agreeing}/{len(result.cases)} agree  {result.seconds:5.2f}s  {result.shrink}")
        for case in result.cases:
            if not case.agrees:
                write(f"    {case.name} {case.lora.get('target_modules')!r}: {case.difference()}")
    types = {result.model_type for result in RESULTS if not result.reference_failure}
    agreeing_types = types - {result.model_type for result in failed_types}
    write(f"totals: {agreed}/{cases} cases agree ({100 * agreed / max(cases, 1):.1f}%), "
          f"{len(agreeing_types)}/{len(types)} model types agree on every case; "
          f"{len(unbuildable)} type/class pairs transformers cannot build")
    if cannot_wrap:
        write(f"PEFT raised on every config for {len(cannot_wrap)} type/class pairs (the all-linear error):")
        for result in cannot_wrap:
            write(f"    {result.model_type} {result.auto_class}: {result.peft_cannot_wrap[:200]}")

