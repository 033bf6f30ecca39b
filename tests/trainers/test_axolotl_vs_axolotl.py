"""lora-lint's axolotl trainer against the real axolotl 0.21.0 (its own `validate_config`, see axolotl_oracle.py).

For every generated file (a valid axolotl config whose LoRA keys are varied: right, coercible and wrong types,
nulls, invalid regexes, qlora without 4-bit, PEFT's names instead of axolotl's, typos, `lora_model_dir`...):
axolotl's validation accepts it exactly when lora-lint's reading has no `rejects` issue, and then the kwargs
reaching `LoraConfig` are the same, types included. For `lora_target_linear: true` the scan itself is compared on
the meta skeleton of every catalogued architecture.

LORA_LINT_AXOLOTL_EXAMPLES sets the number of files (default 1,200, about 15 s), e.g.
    LORA_LINT_AXOLOTL_EXAMPLES=20000 pytest tests/trainers/test_axolotl_vs_axolotl.py -q
"""

from __future__ import annotations

import os
import random

import pytest

pytest.importorskip("axolotl.utils.config", reason="pip install --no-deps --ignore-requires-python axolotl==0.21.0 addict")

from lora_lint.source import parse_text  # noqa: E402
from lora_lint.trainers import detect  # noqa: E402
from lora_lint.trainers.axolotl.kwargs import find_all_linear_names  # noqa: E402

from . import axolotl_oracle as oracle  # noqa: E402
from .conftest import AXOLOTL_CASES  # noqa: E402
from .test_toolkit_vs_llmtune import canonical  # noqa: E402

EXAMPLES = int(os.environ.get("LORA_LINT_AXOLOTL_EXAMPLES", "1200"))
BATCHES = 6

BASE = """base_model: NousResearch/Llama-2-7b-hf
datasets:
  - path: mhenrichsen/alpaca_2k_test
    type: alpaca
sequence_len: 512
micro_batch_size: 1
num_epochs: 1
learning_rate: 0.0002
output_dir: ./outputs/lora-out
"""

# Per key, what a file may write (YAML text), valid or coerced by pydantic's lax mode; `None`: the key is left out.
CHOICES = {
    "adapter": ["lora", "lora", "lora", "qlora"],
    "load_in_4bit": [None, None, "true", "false", "'yes'", "1"],
    "load_in_8bit": [None, None, None, "false", "true"],
    "lora_r": [None, "8", "16", "'32'", "16.0", "-4", "0", "null"],
    "lora_alpha": [None, "16", "32", "'64'", "32.0", "null"],
    "lora_dropout": [None, "0.05", "0", "'0.1'", "null", "1"],
    "lora_target_modules": [None, "[q_proj, v_proj]", "[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]",
                            "q_proj", "'.*\\.(q|v)_proj'", "[model.layers.*.q_proj]", "'(bad'", "[]", "null"],
    "lora_target_linear": [None, None, "true", "false", "'yes'", "null", "1"],
    "lora_fan_in_fan_out": [None, None, "false", "true", "'no'"],
    "lora_modules_to_save": [None, None, "[embed_tokens, lm_head]", "[]"],
    "peft_layers_to_transform": [None, None, "[0, 1]", "['2']"],
    "peft_layers_pattern": [None, None, None, "[layers]"],
    "peft_use_dora": [None, None, "true", "false", "'true'"],
    "peft_use_rslora": [None, None, "true", "false"],
    "peft_init_lora_weights": [None, None, "gaussian", "true", "false", "pissa", "1"],
    "lora_rank_pattern": [None, None, "{q_proj: 16}", "{q_proj: '8'}"],
    "lora_alpha_pattern": [None, None, "{v_proj: 32}"],
    "peft_layer_replication": [None, None, "[[0, 4], [2, 6]]"],
    "peft_trainable_token_indices": [None, None, "[1, 2]", "{embed_tokens: [3]}"],
    "peft_ensure_weight_tying": [None, None, "true", "false"],
    "lora_target_parameters": [None, None, None, None, "[mlp.experts.gate_up_proj]"],
    "peft": [None, None, None, "{loftq_config: {loftq_bits: 4}}", "{loftq_config: {loftq_bits: '8'}}"],
    "lora_model_dir": [None, None, None, None, "./saved-adapter"],
    "merge_lora": [None, None, None, None, "true"],
    "gptq": [None, None, None, None, "true"],
    "model_type": [None, None, "LlamaForCausalLM", "AutoModelForCausalLM", "LlamaForSequenceClassification"],
    "trust_remote_code": [None, None, "true", "false"],
    # Keys axolotl's schema does not have: dropped, never validated.
    "lora_exclude_modules": [None, None, None, "[lm_head]"],
    "target_modules": [None, None, None, "[q_proj]"],
    "lora_rank": [None, None, None, "8"],
}
# What axolotl's schema or validators reject.
HOSTILE = {
    "adapter": ["lora_adapter", "null", "[lora]"],
    "load_in_4bit": ["maybe", "[true]"],
    "lora_r": ["16.5", "[8, 16]", "abc", "true", "{r: 8}"],
    "lora_alpha": ["0.5", "x", "[16]"],
    "lora_dropout": ["abc", "[0.1]", "{}"],
    "lora_target_modules": ["['(bad']", "[q_proj, '[']", "[q_proj, 7]", "7", "{q: 1}", "[[q_proj]]"],
    "lora_target_linear": ["'maybe'", "[true]", "2"],
    "lora_modules_to_save": ["lm_head", "[1]"],
    "peft_layers_to_transform": ["3", "[a]", "[0.5]"],
    "peft_layers_pattern": ["layers"],
    "peft_init_lora_weights": ["[1]", "{}"],
    "lora_rank_pattern": ["{q_proj: 0}", "{q_proj: -1}", "[q_proj]"],
    "peft_layer_replication": ["[[0, 1, 2]]", "[0, 4]"],
    "peft": ["{loftq_config: {loftq_bits: x}}", "[loftq]"],
    "model_type": ["[LlamaForCausalLM]"],
}
HOSTILE_SHARE = 0.02  # per key: about one file in four holds a value axolotl rejects for its type


def generate(rng: random.Random) -> str:
    lines = [BASE]
    for key, options in CHOICES.items():
        value = rng.choice(HOSTILE[key] if key in HOSTILE and rng.random() < HOSTILE_SHARE else options)
        if key == "load_in_4bit" and "adapter: qlora" in lines[-1] and rng.random() < 0.8:
            value = "true"
        if value is not None:
            lines.append(f"{key}: {value}\n")
    return "".join(lines)


def compare(text: str) -> list[str]:
    expected = oracle.run(text, model_class=_model_class(text))
    root = parse_text("config.yml", text).root
    reading = detect(root, "axolotl")
    view = reading.runs[0]
    rejects = [issue for issue in view.issues if issue.kind == "rejects"]
    AXOLOTL_CASES["axolotl accepts" if expected.accepted else "axolotl rejects"] += 1
    if expected.accepted != (not rejects):
        return [f"axolotl {'accepts' if expected.accepted else 'rejects: ' + expected.error[:300]}, "
                f"lora-lint {'rejects: ' + rejects[0].message if rejects else 'accepts'}"]
    if not expected.accepted or not expected.kwargs:
        return []
    if expected.cfg.lora_model_dir:
        AXOLOTL_CASES["accepted, saved adapter loaded"] += 1
        return [] if not view.kwargs_known else ["lora-lint checks kwargs that `lora_model_dir` makes moot"]
    if expected.cfg.lora_target_linear:
        AXOLOTL_CASES["accepted, target linear (scan compared separately)"] += 1
        written = expected.kwargs["target_modules"]
        expected.kwargs["target_modules"] = sorted(written)
        ours = dict(view.kwargs(), target_modules=sorted(view.kwargs()["target_modules"]))
    else:
        AXOLOTL_CASES["accepted, kwargs compared"] += 1
        ours = view.kwargs()
    # pydantic makes `peft_layer_replication` a list of tuples (list[tuple[int, int]]); lora-lint keeps the pairs as
    # lists, the form its PEFT field types name. PEFT reads the pairs either way.
    if "layer_replication" in expected.kwargs:
        expected.kwargs["layer_replication"] = [list(pair) for pair in expected.kwargs["layer_replication"]]
    if canonical(ours) != canonical(expected.kwargs):
        return [f"kwargs differ:\n  axolotl  {expected.kwargs}\n  lora-lint {ours}"]
    return []


def _model_class(text: str) -> str:
    for name in ("LlamaForSequenceClassification", "LlamaForCausalLM"):
        if f"model_type: {name}" in text and "trust_remote_code: true" not in text:
            return name
    return "LlamaForCausalLM"


@pytest.mark.parametrize("batch", range(BATCHES))
def test_axolotl_agrees(batch):
    rng = random.Random(f"axolotl-{batch}")
    problems = []
    for _ in range(EXAMPLES // BATCHES):
        text = generate(rng)
        for problem in compare(text):
            problems.append(f"{problem}\n--- file:\n{text}")
    assert not problems, f"{len(problems)} disagreements; first:\n" + problems[0]


def _architectures():
    """One catalogued model per architecture, the smallest."""
    from lora_lint.model.catalog import entries

    smallest = {}
    for entry in entries():
        if entry.model_type not in smallest or entry.verified_parameters < smallest[entry.model_type].verified_parameters:
            smallest[entry.model_type] = entry
    return sorted(entry.id for entry in smallest.values())


@pytest.mark.parametrize("reference", _architectures())
def test_all_linear_scan_agrees(reference):
    """axolotl's find_all_linear_names on the model itself, lora-lint's on the inventory of that model."""
    from lora_lint.model.catalog import lookup
    from lora_lint.model.inventory import InventoryBuildError, build_skeleton, describe_model

    entry = lookup(reference)
    try:
        model = build_skeleton(entry.config(), "AutoModelForCausalLM")
    except InventoryBuildError:  # an encoder or encoder-decoder: axolotl would load its own class
        model = build_skeleton(entry.config(), entry.architecture or "AutoModel")
    AXOLOTL_CASES["architectures scanned"] += 1
    assert find_all_linear_names(describe_model(model, model.config)) == sorted(oracle.find_all_linear_names(model))


def test_field_names_are_axolotls():
    """lora_lint/data/axolotl_fields.json: every top-level key of axolotl's merged schema (names and aliases)."""
    from lora_lint.trainers.axolotl.schema import all_fields

    _, merged = oracle._MERGED
    names = set()
    for name, info in merged.model_fields.items():
        names |= {name} | ({info.alias} if info.alias else set())
        alias = info.validation_alias
        names |= {alias} if isinstance(alias, str) else {c for c in getattr(alias, "choices", ()) if isinstance(c, str)}
    assert set(all_fields()) == names


def test_lora_fields_are_copied_from_axolotls_schema():
    """schema.py's AxolotlLora: each field with axolotl's own annotation and default (nested sections by shape)."""
    from lora_lint.trainers.axolotl.schema import AxolotlLora

    _, merged = oracle._MERGED
    for name, ours in AxolotlLora.model_fields.items():
        theirs = merged.model_fields[name]
        assert ours.get_default() == theirs.get_default(), name
        assert ours.alias == theirs.alias, name
        if name != "peft":
            assert repr(ours.annotation).replace("typing.", "") == repr(theirs.annotation).replace("typing.", ""), name
