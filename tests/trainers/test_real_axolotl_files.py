"""The real axolotl files of the corpus (../shared/real-configs/C): every one is linted as an axolotl file, none
skipped, none crashing; and on each file the installed axolotl accepts, lora-lint finds nothing axolotl rejects
and passes PEFT the same kwargs."""

from __future__ import annotations

import pytest

from lora_lint.source import parse_text
from lora_lint.trainers import detect

from .conftest import AXOLOTL_CASES


def test_every_real_axolotl_file_is_linted(real_configs, lint):
    files = sorted((real_configs / "C").glob("*"))
    assert len(files) >= 49
    result = lint("check", real_configs / "C", "--offline", "--output-format", "json")
    assert result.code in (0, 1), result.err
    linted = {entry["path"].rsplit("/", 1)[-1]: entry for entry in result.json["files"]}
    assert sorted(linted) == sorted(path.name for path in files)
    assert {entry["dialect"] for entry in linted.values()} == {"axolotl"}
    assert not [entry for entry in linted.values() for d in entry["diagnostics"] if d["code"].startswith("LL9")]


def test_real_files_read_as_axolotl_reads_them(real_configs):
    pytest.importorskip("axolotl.utils.config", reason="pip install --no-deps --ignore-requires-python axolotl==0.21.0 addict")
    from . import axolotl_oracle as oracle
    from .test_toolkit_vs_llmtune import canonical

    disagree = []
    for path in sorted((real_configs / "C").glob("*")):
        text = path.read_text(encoding="utf-8")
        expected = oracle.run(text)
        reading = detect(parse_text(path.name, text).root)
        view = reading.runs[0]
        rejects = [issue.message for issue in view.issues if issue.kind == "rejects"]
        if not expected.accepted:
            # axolotl's rejections of this corpus are about datasets, FSDP, tokens, removed keys: lora-lint
            # models only the `fsdp` list among them, and reports nothing about the LoRA keys of these files.
            AXOLOTL_CASES["real axolotl file: rejected by axolotl"] += 1
            if rejects and "fsdp" not in rejects[0]:
                disagree.append(f"{path.name}: lora-lint rejects: {rejects}")
            continue
        AXOLOTL_CASES["real axolotl file: accepted by axolotl"] += 1
        if rejects:
            disagree.append(f"{path.name}: axolotl accepts, lora-lint rejects: {rejects}")
            continue
        ours = view.kwargs()
        if expected.cfg.lora_target_linear:  # list(set(...)): axolotl's order is the set's
            ours["target_modules"], expected.kwargs["target_modules"] = (
                sorted(ours["target_modules"]), sorted(expected.kwargs["target_modules"]))
        if view.kwargs_known and canonical(ours) != canonical(expected.kwargs):
            disagree.append(f"{path.name}: kwargs\n  axolotl   {expected.kwargs}\n  lora-lint {ours}")
    assert not disagree, "\n".join(disagree)
