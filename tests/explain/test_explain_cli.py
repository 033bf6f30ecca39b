"""`lora-lint explain CONFIG` as a user runs it: what each format shows, and what bad input gets."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# Llama-2-7b (32 layers, catalogued): rank 64 on q_proj through rank_pattern, 8 elsewhere; the last 8 layers only.
LLAMA = """\
base_model_name_or_path: meta-llama/Llama-2-7b-hf
task_type: CAUSAL_LM
r: 8
lora_alpha: 16
target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj]
rank_pattern: {q_proj: 64}
layers_to_transform: [24, 25, 26, 27, 28, 29, 30, 31]
"""
KINDS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# PEFT's semantics: rank_pattern keys match module-name suffixes; layers_to_transform keeps layers 24..31.
EXPECTED_RANK = {"q_proj": 64, "k_proj": 8, "v_proj": 8, "o_proj": 8, "gate_proj": 8}


def expected_cell(kind: str, layer: int):
    return EXPECTED_RANK.get(kind) if layer >= 24 else None


def test_text_fits_80_columns_and_shows_every_layer(lint, write):
    run = lint("explain", write("llama.yaml", LLAMA))
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    # The grid is folded into blocks of layers; each kind's row appears once per block, cells in layer order.
    cells: dict[str, list[str]] = {kind: [] for kind in KINDS}
    placement = lines[lines.index("Placement"):lines.index("  outside the layers")]
    for line in placement:
        match = re.fullmatch(r"    (\w+)\s+((?:\s+\S+)+)", line)
        if match and match.group(1) in cells:
            cells[match.group(1)] += match.group(2).split()
    for kind in KINDS:
        assert len(cells[kind]) == 32, (kind, cells[kind])
        assert cells[kind] == [str(expected_cell(kind, layer) or "·") for layer in range(32)], kind
    assert "LoRA r=64 α=16" in run.out and "LoRA r=8 α=16" in run.out
    # 8 layers × (q: 64·(4096+4096) + k, v, o: 8·(4096+4096) + gate: 8·(4096+11008))
    trainable = 8 * (64 * 8192 + 3 * 8 * 8192 + 8 * (4096 + 11008))
    assert f"trainable parameters  {trainable:,}" in run.out
    assert f"{human(trainable * 4)} in fp32" in run.out
    assert "r=64 α=16 → 0.25 on 8 modules: q_proj" in run.out
    assert "Memory estimate" in run.out and "activations" in run.out


def human(count: float) -> str:
    from lora_lint.explain.render.common import human_bytes

    return human_bytes(count)


def test_json_report_matches_check(lint, write):
    path = write("llama.yaml", LLAMA)
    report = lint("explain", path, "--format", "json").json
    checked = lint("check", path, "--output-format", "json").json["files"][0]
    assert report["version"] == 1
    assert report["model"]["id"] == "meta-llama/Llama-2-7b-hf" and report["model"]["layers"] == 32
    assert report["numbers"]["trainable_parameters"] == checked["trainable_parameters"]
    (grid,) = report["grids"]
    assert grid["layers"] == 32 and grid["kinds"] == KINDS
    for kind, row in zip(grid["kinds"], grid["cells"]):
        assert [cell["rank"] for cell in row] == [expected_cell(kind, layer) for layer in range(32)]


def gfm_tables(text: str) -> list[list[list[str]]]:
    """Every GFM table in ``text`` as rows of cells; asserts the structure GitHub needs to render one: a header,
    a delimiter row of the same width, and rows of that width (pipes inside cells escaped)."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            rows = [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in block]
            assert all(row.endswith("|") for row in block), block
            assert len(rows) >= 2 and all(re.fullmatch(r":?-{3,}:?", cell) for cell in rows[1]), block
            assert all(len(row) == len(rows[0]) for row in rows), block
            tables.append([rows[0]] + rows[2:])
            block = []
    return tables


def test_markdown_is_gfm_tables_with_layer_runs(lint, write):
    run = lint("explain", write("llama.yaml", LLAMA), "--format", "markdown")
    tables = gfm_tables(run.out)
    placement = next(t for t in tables if t[0][0] == "layers")
    assert placement[0] == ["layers", *KINDS]
    # Identical consecutive layers are one row: 0–23 without LoRA, 24–31 with it.
    assert placement[1] == ["0–23"] + ["·"] * 7
    assert placement[2] == ["24–31", "r64", "r8", "r8", "r8", "r8", "·", "·"]
    outside = next(t for t in tables if t[0][0] == "module")
    assert [row[0] for row in outside[1:]] == ["`model.embed_tokens`", "`lm_head`"]
    assert any(t[0] == ["part", "bytes", "how"] for t in tables)


def test_output_file_and_formats(lint, write, tmp_path):
    path = write("llama.yaml", LLAMA)
    for fmt, start in (("svg", "<?xml"), ("html", "<!DOCTYPE html>"), ("markdown", "### lora-lint explain")):
        out = tmp_path / f"report.{fmt}"
        run = lint("explain", path, "--format", fmt, "--output", out)
        assert run.code == 0 and run.out == ""
        assert out.read_text().startswith(start)
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html and not re.search(r"<(script|link)\b|src=|url\(", html)  # self-contained


def test_explain_rule_code_still_prints_docs(lint, tmp_path):
    run = lint("explain", "LL101")
    assert run.code == 0 and run.out.startswith("# LL101 unknown-key")
    missing = lint("explain", tmp_path / "configs" / "llama.yml")
    assert missing.code == 2 and "no such file" in missing.err
    directory = lint("explain", tmp_path)
    assert directory.code == 2 and "explain takes one config file" in directory.err


@pytest.mark.parametrize(("flags", "message"), [(["--peft-version", "banana"], "--peft-version"),
                                                (["--batch-size", "0"], "--batch-size"),
                                                (["--seq-len", "-5"], "--seq-len")])
def test_bad_flags_are_usage_errors(lint, write, flags, message):
    run = lint("explain", write("llama.yaml", LLAMA), *flags)
    assert run.code == 2 and message in run.err and "internal error" not in run.err


def test_flags_set_the_memory_estimate(lint, write):
    data = lint("explain", write("llama.yaml", LLAMA), "--batch-size", "4", "--seq-len", "4096",
                "--format", "json").json
    activations = next(part for part in data["memory"]["parts"] if part["label"] == "activations")
    assert "batch 4 × sequence 4096" in activations["detail"]
    # 32 layers × 34 bytes × tokens × hidden (no checkpointing) + fp32 logits and their gradient
    tokens = 4 * 4096
    assert activations["bytes"] == 32 * 34 * tokens * 4096 + tokens * 32000 * 8


def test_unresolved_model_gets_config_level_report(lint, write):
    path = write("private.yaml", "base_model_name_or_path: acme/private-model\nr: 16\nlora_alpha: 32\n"
                                 "target_modules: [q_proj, v_proj]\n")
    run = lint("explain", path, "--offline")
    assert run.code == 0  # LL201 is a warning
    assert "LoRA settings" in run.out and "r: 16" in run.out and "scale" in run.out
    assert "the base model" in run.out and "acme/private-model" in run.out and "--model" in run.out
    assert "\nPlacement\n" not in run.out
    assert "LL201 [model-unresolved]" in run.out
    data = lint("explain", path, "--offline", "--format", "json").json
    assert data["model"] is None and data["grids"] == [] and data["numbers"] is None
    assert data["lora"]["r"] == 16 and any("base model" in m for m in data["missing"])


@pytest.mark.parametrize("fmt", ["text", "markdown", "svg", "html", "json"])
def test_broken_file_gets_diagnostics_and_no_picture(lint, write, fmt):
    run = lint("explain", write("broken.yaml", "lora:\n  r: [8\n"), "--format", fmt)
    assert run.code == 1
    assert "LL001" in run.out
    assert "\nPlacement\n" not in run.out and "<h2>Placement" not in run.out
    assert 'class="cell"' not in run.out and "| layers |" not in run.out


def test_peft_error_is_reported_without_numbers(lint, write):
    path = write("bad.yaml", "base_model_name_or_path: meta-llama/Llama-3.2-1B\ntarget_modules: [q_projection]\n")
    run = lint("explain", path)
    assert run.code == 1
    assert "PEFT would raise" in run.out and "\nPlacement\n" not in run.out and "LL301" in run.out


def test_toolkit_sweep_table(lint, write):
    # The toolkit's ablation: every combination of the list-valued fields (2 models × 3 ranks × 2 dropouts).
    path = write("study.yml", """\
ablation:
  use_ablate: true
model:
  hf_model_ckpt: [meta-llama/Llama-3.2-1B, Qwen/Qwen2.5-0.5B]
  quantize: true
  bitsandbytes:
    load_in_4bit: true
lora:
  r: [8, 16, 32]
  lora_alpha: 16
  lora_dropout: [0.05, 0.1]
  target_modules: [q_proj, v_proj]
training:
  training_args:
    per_device_train_batch_size: 2
  sft_args:
    max_seq_length: 512
""")
    data = lint("explain", path, "--format", "json").json
    sweep = data["sweep"]
    assert sweep["runs"] == 12 and sweep["keys"] == ["model.hf_model_ckpt", "lora.r", "lora.lora_dropout"]
    assert sweep["rows"][0] == ["meta-llama/Llama-3.2-1B", "8", "0.05"]
    assert sweep["rows"][-1] == ["Qwen/Qwen2.5-0.5B", "32", "0.1"]
    assert data["model"]["id"] == "meta-llama/Llama-3.2-1B"  # the first run's model
    memory = {part["label"]: part for part in data["memory"]["parts"]}
    assert "4-bit" in memory["base weights"]["detail"] and "batch 2 × sequence 512" in memory["activations"]["detail"]


EVERY_FORMAT = os.environ.get("LORA_LINT_EXPLAIN_ALL") == "1"


def test_every_fixture_explains_without_internal_error(lint):
    """Every shipped fixture, good and broken, gets a report and exit 0 or 1, never an internal error (2);
    LORA_LINT_EXPLAIN_ALL=1 renders every format instead of text and json."""
    fixtures = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".yml", ".yaml", ".json"))
    assert len(fixtures) > 40
    for path in fixtures:
        for fmt in ("text", "svg", "html", "markdown", "json") if EVERY_FORMAT else ("text", "json"):
            run = lint("explain", path, "--format", fmt, "--offline")
            assert run.code in (0, 1) and not run.err, (path, fmt, run.err)


def test_real_configs_explain_without_internal_error(lint, real_configs):
    """The 210 real configs of the corpus (~20 s, so in the big run only)."""
    if not EVERY_FORMAT:
        pytest.skip("set LORA_LINT_EXPLAIN_ALL=1 to explain every config of the real-config corpus")
    for path in sorted(real_configs.rglob("*")):
        if path.suffix in (".yml", ".yaml", ".json"):
            run = lint("explain", path, "--offline")
            assert run.code in (0, 1) and not run.err, (path, run.err)
