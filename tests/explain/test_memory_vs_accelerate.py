"""The weights part of the memory estimate against `accelerate estimate-memory`'s own computation.

accelerate's CLI builds the model (AutoModel, fp32, meta device) and sizes it with calculate_maximum_sizes, then
divides by 2 / 4 / 8 for float16 / int8 / int4 (accelerate/commands/estimate.py gather_data). The test calls that
same gather_data in-process on a local config directory; only its Hub lookup (verify_on_hub) is replaced, since the
suite runs offline. Unquantized weights must agree (accelerate also counts buffers such as rotary inv_freq, a few
bytes); for 8-bit and 4-bit bitsandbytes keeps embeddings and norms unquantized and stores scales, so explain's
number is higher than accelerate's flat division, by an amount the test bounds and prints.

accelerate never calls tie_weights() on its empty model, and transformers 5 leaves tied weights untied under
init_empty_weights, so accelerate counts a tied tensor once per name (T5's shared, encoder and decoder embeddings);
the model that trains has them tied, as explain counts. The test adds those duplicates back before comparing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import types

import pytest

from lora_lint.explain.memory import weights_bytes
from tests.explain.conftest import CATALOG, CATALOG_ENTRIES, shrunk, single_threaded

pytest.importorskip("accelerate")

MODELS = [
    ("meta-llama--Llama-3.2-1B.json", os.environ.get("LORA_LINT_EXPLAIN_ALL") != "1"),  # full size in the big run
    ("mistralai--Mistral-7B-v0.1.json", True),
    ("openai-community--gpt2.json", True),  # Conv1D layers, which bitsandbytes quantizes too
    ("google-t5--t5-small.json", True),
]


def _accelerate_rows(tmp_path, monkeypatch, config: dict) -> dict[str, float]:
    from accelerate.commands import estimate

    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(estimate, "verify_on_hub",
                        lambda repo, token=None: types.SimpleNamespace(config=config, library_name="transformers"))
    args = argparse.Namespace(model_name=str(tmp_path), library_name="transformers", trust_remote_code=False,
                              dtypes=["float32", "float16", "int8", "int4"])
    return {row[0]: row[2] for row in estimate.gather_data(args)}


@pytest.mark.parametrize(("file", "shrink"), MODELS, ids=[m[0].removesuffix(".json") for m in MODELS])
def test_weights_match_accelerate_estimate_memory(file, shrink, tmp_path, monkeypatch, capsys):
    from lora_lint.model.inventory import build_inventory

    entry = next(e for e in CATALOG_ENTRIES if e["file"] == file)
    config = shrunk(entry) if shrink else json.loads((CATALOG / file).read_text())
    with single_threaded():
        theirs = _accelerate_rows(tmp_path, monkeypatch, config)
        inventory = build_inventory(config, "AutoModel")  # the class accelerate builds
    ours = {
        "float32": weights_bytes(inventory, "float32"),
        "float16": weights_bytes(inventory, "float16"),
        "int8": weights_bytes(inventory, "float16", "8bit"),
        "int4": weights_bytes(inventory, "float16", "4bit", double_quant=True),
    }
    shape = {m["name"]: m["weight_shape"] for m in inventory["modules"]}
    untied = sum((len(group) - 1) * math.prod(shape[group[0].rpartition(".")[0]])
                 for group in inventory["tied_parameters"] if group[0].endswith(".weight"))
    table = "\n".join(f"  {dtype:<8} accelerate {theirs[dtype]:>16,.0f}  explain {ours[dtype]:>16,}  "
                      f"ratio {ours[dtype] / theirs[dtype]:.6f}" for dtype in ours)
    table += f"\n  tied parameters accelerate counts again: {untied:,}"
    with capsys.disabled():
        print(f"\n{file} ({'shrunk' if shrink else 'full size'}):\n{table}")
    for dtype, size in (("float32", 4), ("float16", 2)):
        assert abs((ours[dtype] + untied * size) / theirs[dtype] - 1) < 1e-3, table
    # Quantized: explain counts what bitsandbytes stores; never below accelerate's flat division, and within the
    # bound set by keeping every weight in fp16 (accelerate's int8 is a quarter, its int4 an eighth, of fp32).
    assert 1 <= ours["int8"] / theirs["int8"] <= 2.05, table
    assert 1 <= ours["int4"] / theirs["int4"] <= 4.1, table
