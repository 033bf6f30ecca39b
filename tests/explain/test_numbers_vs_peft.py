"""Trainable parameters and adapter bytes against the real PEFT, on every catalogued model (shrunk, meta device).

PEFT builds the adapter (get_peft_model) and saves it (get_peft_model_state_dict); explain's numbers must equal
what it reports: the trainable count, the LoRA count per module, the saved elements and their bytes in fp32.
LORA_LINT_EXPLAIN_ALL=1 runs every config shape on every model and head class (about 400 cases, ~40 s) instead of
a rotation (two shapes per model).
"""

from __future__ import annotations

import os

import pytest

from lora_lint.explain.numbers import lora_parameters, numbers
from lora_lint.matcher import match
from tests.explain.conftest import CATALOG_ENTRIES, inventory, real_peft, top_level_stacks

pytest.importorskip("peft")

ALL = os.environ.get("LORA_LINT_EXPLAIN_ALL") == "1"


def _config_shapes(inv: dict) -> list[dict]:
    """LoRA configs that exercise each count: all-linear, rank/alpha patterns with bias="all" and a saved head,
    an embedding target with bias="lora_only" and rsLoRA, lora_bias, a layer filter with a saved embedding, MoE
    target_parameters."""
    stack = top_level_stacks(inv)[0]["path"] + ".0."
    linear = list(dict.fromkeys(m["name"].rsplit(".", 1)[-1] for m in inv["modules"]
                                if m["name"].startswith(stack) and m["lora_kind"] in ("linear", "conv1d_gpt")))
    embedding = next((m["name"].rsplit(".", 1)[-1] for m in inv["modules"] if m["lora_kind"] == "embedding"), None)
    output = inv.get("output_embedding")
    shapes = [
        {"target_modules": "all-linear", "r": 4},
        {"target_modules": linear[:2], "r": 4, "rank_pattern": {linear[0]: 12}, "alpha_pattern": {linear[-1]: 3},
         "bias": "all", **({"modules_to_save": [output.rsplit(".", 1)[-1]]} if output else {})},
        {"target_modules": linear[:1] + ([embedding] if embedding else []), "r": 6, "bias": "lora_only",
         "use_rslora": True},
        {"target_modules": linear[:2], "r": 3, "lora_bias": True},
        {"target_modules": linear[1:3], "r": 2, "layers_to_transform": [0, 2],
         **({"modules_to_save": [embedding]} if embedding else {})},
    ]
    if any(len(shape) == 3 for m in inv["modules"] for shape in (m.get("extra_parameters") or {}).values()):
        shapes.append({"target_modules": linear[:1], "r": 4,
                       "target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]})
    return shapes


def _cases():
    position = 0
    for entry in CATALOG_ENTRIES:
        classes = list(entry["auto_classes"])[:1]
        if "AutoModelForSequenceClassification" in entry["auto_classes"] and (ALL or position % 4 == 0):
            classes.append("AutoModelForSequenceClassification")
        for model_class in classes:
            position += 1
            yield pytest.param(entry["file"], model_class, id=f"{entry['file'].removesuffix('.json')}-{model_class}")


@pytest.mark.parametrize(("file", "model_class"), list(_cases()))
def test_numbers_equal_real_peft(file, model_class, peft_version):
    inv = inventory(file, model_class)
    shapes = _config_shapes(inv)
    if not ALL:  # a rotation: every shape runs on some models, every model runs two shapes
        start = sum(map(ord, file)) % len(shapes)
        shapes = [shapes[start], shapes[(start + 1) % len(shapes)]]
    checked = 0
    for lora in shapes:
        if model_class.endswith("SequenceClassification"):
            lora = {**lora, "task_type": "SEQ_CLS"}
        result = match(inv, lora, peft_version)
        if result.error is not None:  # a config PEFT rejects on this model has no numbers to compare
            continue
        explained = numbers(inv, top_level_stacks(inv), result, lora)
        trainable, lora_per_module, state = real_peft(file, model_class, lora)

        assert sum(explained.trainable_by_kind.values()) == trainable, lora
        assert explained.trainable_parameters == trainable, lora
        records = {m["name"]: m for m in inv["modules"]}
        ours = {name: lora_parameters(records, name, rank, bool(lora.get("lora_bias")),
                                      name in result.target_parameters) for name, rank in result.rank.items()}
        assert sum(ours.values()) == sum(lora_per_module.values()), lora
        modules = {name: count for name, count in ours.items() if name not in result.target_parameters}
        assert modules == {name: lora_per_module[name] for name in modules}, lora
        saved_elements = sum(tensor.numel() for tensor in state.values())
        assert explained.saved_parameters == saved_elements, lora
        assert {str(tensor.dtype) for tensor in state.values()} == {"torch.float32"}
        assert explained.adapter_bytes["fp32"] == sum(t.numel() * t.element_size() for t in state.values()), lora
        assert explained.adapter_bytes["bf16"] == saved_elements * 2
        checked += 1
    assert checked, f"no config of {shapes} builds on {file} {model_class}"
