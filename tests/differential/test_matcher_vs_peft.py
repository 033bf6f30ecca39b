"""Differential test: lora_lint.matcher against the installed PEFT's get_peft_model.

For every architecture in conftest.ARCHITECTURES (shrunk real configs from shared/model-configs), hypothesis draws
LoRA configs built from the model's own module names -- exact names, dotted suffixes, near-misses, regexes with
dead alternation branches, all-linear, None, in- and out-of-range layers_to_transform with right and wrong
layers_pattern, modules_to_save, exclude_modules, rank/alpha patterns, fan_in_fan_out, task types -- runs the real
PEFT on a meta-device copy of the model and requires the matcher to agree on the raise/no-raise verdict (and
exception type), the LoRA targets, the targeted parameters, the ModulesToSaveWrapper set, r and alpha per target,
the trainable parameter count and the warnings.

Runs are reproducible (derandomize=True). Examples per (architecture, model class) come from
LORA_LINT_DIFF_EXAMPLES (default 120: about 3,200 cases, ~2.5 minutes on one core). A larger run:

    LORA_LINT_DIFF_EXAMPLES=1000 pytest tests/differential -q

Cases run per architecture are printed at the end of the session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("peft")
pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lora_lint.matcher import match  # noqa: E402

from .conftest import ARCHITECTURES, inventory_for, run_peft  # noqa: E402

EXAMPLES = int(os.environ.get("LORA_LINT_DIFF_EXAMPLES", "120"))

CASES = [(config_name, model_class) for config_name, (_, classes) in ARCHITECTURES.items() for model_class in classes]

_TASK_FOR_CLASS = {
    "AutoModelForCausalLM": "CAUSAL_LM",
    "AutoModelForSeq2SeqLM": "SEQ_2_SEQ_LM",
    "AutoModelForSequenceClassification": "SEQ_CLS",
    "AutoModelForTokenClassification": "TOKEN_CLS",
    "AutoModelForQuestionAnswering": "QUESTION_ANS",
    "AutoModel": "FEATURE_EXTRACTION",
}


def _near_misses(leaf: str) -> list[str]:
    return [leaf + "s", leaf.upper(), leaf[:-1], f"{leaf}_0", f"self.{leaf}"]


@st.composite
def lora_configs(draw, inventory: dict, model_class: str) -> dict:
    names = [record["name"] for record in inventory["modules"] if record["name"]]
    leaves = sorted({name.rpartition(".")[2] for name in names if not name.rpartition(".")[2].isdigit()})
    linear = [r["name"] for r in inventory["modules"] if r["lora_kind"] in ("linear", "conv1d_gpt", "embedding")]
    linear_leaves = sorted({name.rpartition(".")[2] for name in linear}) or leaves
    suffixes = sorted({".".join(name.split(".")[-k:]) for name in names for k in (2, 3) if name.count(".") >= k - 1})
    containers = [c["path"] for c in inventory["layer_containers"]]
    container_leaves = sorted({path.rpartition(".")[2] for path in containers})
    depth = max((c["length"] for c in inventory["layer_containers"]), default=2)

    entry = st.one_of(
        st.sampled_from(linear_leaves),
        st.sampled_from(leaves),
        st.sampled_from(suffixes),
        st.sampled_from(linear),
        st.sampled_from(linear_leaves).flatmap(lambda leaf: st.sampled_from(_near_misses(leaf))),
    )
    regex = st.one_of(
        st.lists(st.sampled_from(linear_leaves), min_size=1, max_size=3).map(lambda ls: rf".*\.({'|'.join(ls)})"),
        st.tuples(st.sampled_from(linear_leaves), st.sampled_from(_near_misses("proj"))).map(
            lambda pair: rf".*\.({pair[0]}|{pair[1]})"
        ),
        st.sampled_from(linear_leaves).map(lambda leaf: rf".*{leaf}"),
        st.sampled_from(linear_leaves).map(lambda leaf: leaf),  # a bare name as a regex matches nothing
        st.sampled_from(container_leaves or ["layers"]).map(lambda c: rf".*\.{c}\.0\..*"),
        st.sampled_from(linear).map(lambda name: name.replace(".", r"\.")),
    )
    target_modules = draw(
        st.one_of(
            st.none(),
            st.sampled_from(["all-linear", "ALL-LINEAR"]),
            st.lists(entry, max_size=5),
            st.lists(st.sampled_from(linear), min_size=18, max_size=30),  # long lists get condensed by PEFT
            regex,
        )
    )
    lora: dict = {"target_modules": target_modules}
    if not isinstance(target_modules, str) and draw(st.booleans()):
        index = st.integers(min_value=-1, max_value=depth + 1)
        lora["layers_to_transform"] = draw(st.one_of(index, st.lists(index, max_size=3)))
        if draw(st.booleans()):
            pattern = st.sampled_from(container_leaves + ["layer", "layers", "h", "blocks", "layers|h"])
            lora["layers_pattern"] = draw(st.one_of(pattern, st.lists(pattern, min_size=1, max_size=2)))
    if draw(st.integers(0, 3)) == 0:
        lora["modules_to_save"] = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(["lm_head", "embed_tokens", "classifier", "score", "wte", "shared"]),
                    st.sampled_from(leaves),
                    st.sampled_from(suffixes),
                ),
                max_size=2,
            )
        )
    if draw(st.integers(0, 3)) == 0:
        lora["exclude_modules"] = draw(
            st.one_of(st.lists(entry, max_size=2), regex, st.sampled_from(linear_leaves).map(lambda l: rf".*\.0\..*{l}"))
        )
    for pattern_field in ("rank_pattern", "alpha_pattern"):
        if draw(st.integers(0, 3)) == 0:
            key = st.one_of(st.sampled_from(linear_leaves), st.sampled_from(suffixes), regex, st.sampled_from(linear))
            lora[pattern_field] = draw(st.dictionaries(key, st.integers(1, 64), max_size=2))
    if "gate_up_proj" in json.dumps(inventory) and draw(st.booleans()):
        lora["target_parameters"] = draw(
            st.lists(st.sampled_from(["experts.gate_up_proj", "mlp.experts.down_proj", "gate.weight", "gate_up_proj"]),
                     max_size=2)
        )
    lora["task_type"] = draw(
        st.sampled_from([_TASK_FOR_CLASS[model_class], _TASK_FOR_CLASS[model_class], None, "CAUSAL_LM", "SEQ_CLS"])
    )
    lora["r"] = draw(st.sampled_from([8, 4, 16]))
    lora["lora_alpha"] = draw(st.sampled_from([16, 8, 32]))
    lora["fan_in_fan_out"] = draw(st.booleans())
    lora["lora_dropout"] = draw(st.sampled_from([0.0, 0.0, 0.05]))
    lora["bias"] = draw(st.sampled_from(["none", "none", "all", "lora_only"]))
    lora["use_rslora"] = draw(st.booleans())
    return lora


def _assert_same(lora: dict, expected: dict, result, context: str) -> None:
    why = f"{context}\nLoraConfig({lora!r})\nPEFT: {expected}\nmatcher: {result}"
    assert (result.error.type if result.error else None) == (expected["error"][0] if expected["error"] else None), why
    assert not expected["unknown_warnings"], why
    if expected["error"]:
        return
    assert result.targets == expected["targets"], why
    assert result.target_parameters == expected["target_parameters"], why
    assert result.modules_to_save == expected["modules_to_save"], why
    assert result.rank == expected["rank"], why
    assert result.alpha == expected["alpha"], why
    assert result.trainable_parameters == expected["trainable_parameters"], why
    assert sorted(w.kind for w in result.warnings) == sorted(expected["warnings"]), why


@pytest.mark.parametrize(("config_name", "model_class"), CASES, ids=[f"{a}-{c}" for a, c in CASES])
def test_matcher_agrees_with_peft(config_name, model_class, peft_version):
    inventory = inventory_for(config_name, model_class)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(lora_configs(inventory, model_class))
    def check(lora):
        expected = run_peft(config_name, model_class, lora)
        _assert_same(lora, expected, match(inventory, lora, peft_version), f"{config_name} {model_class}")

    check()


def test_matcher_imports_no_torch():
    code = (
        "import sys, lora_lint.matcher; "
        "print([m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'peft', 'accelerate')])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
