"""After `--unsafe-fixes`, the modules the real PEFT wraps on the fixed config are the ones lora-lint predicted.

hypothesis writes flat LoraConfig YAML files for shrunk real architectures with the mistakes unsafe fixes repair
(another architecture's target names, near-miss names, a bare string target, repetitions, a regex
`layers_pattern`, a lower-case task type); `lora-lint check --unsafe-fixes --model DIR` fixes each file and reports
the targets of the result, and `peft.get_peft_model` on a meta-device copy of the same model must build the adapter
without an error and wrap exactly those modules. LORA_LINT_FIX_PEFT_EXAMPLES configs per model (default 10).
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("peft")
pytest.importorskip("hypothesis")

import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from differential.conftest import inventory_for, run_peft, shrunk_config  # noqa: E402
from lora_lint.rules.target_not_found import CROSS_ARCHITECTURE  # noqa: E402

EXAMPLES = int(os.environ.get("LORA_LINT_FIX_PEFT_EXAMPLES", "10"))
MODELS = [
    ("TinyLlama--TinyLlama-1.1B-Chat-v1.0", "AutoModelForCausalLM", "CAUSAL_LM"),
    ("openai-community--gpt2", "AutoModelForCausalLM", "CAUSAL_LM"),
    ("facebook--opt-125m", "AutoModelForCausalLM", "CAUSAL_LM"),
    ("bigscience--bloom-560m", "AutoModelForCausalLM", "CAUSAL_LM"),
    ("microsoft--phi-2", "AutoModelForCausalLM", "CAUSAL_LM"),
    ("google-t5--t5-small", "AutoModelForSeq2SeqLM", "SEQ_2_SEQ_LM"),
]
AGREED = {"cases": 0, "targets": 0}


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    for config_name, _, _ in MODELS:
        (root / config_name).mkdir()
        (root / config_name / "config.json").write_text(json.dumps(shrunk_config(config_name)))
    yield root
    print(f"\nunsafe-fix agreement with PEFT: {AGREED}")


def _leaves(config_name: str, model_class: str) -> list[str]:
    inventory = inventory_for(config_name, model_class)
    return sorted({m["name"].rsplit(".", 1)[-1] for m in inventory["modules"] if m["lora_kind"] == "linear"
                   or m["lora_kind"] == "conv1d_gpt"})


def _quoted(value: str) -> str:
    return f"'{value}'" if "\\" in value else value


@st.composite
def broken_configs(draw, config_name: str, model_class: str, task: str):
    model_type = shrunk_config(config_name)["model_type"]
    leaves = _leaves(config_name, model_class)
    foreign = sorted(name for name, hints in CROSS_ARCHITECTURE.items() if model_type in hints)
    near_misses = [leaf[:-1] for leaf in leaves if len(leaf) > 3]
    entry = st.sampled_from(foreign + near_misses + leaves) if foreign + near_misses else st.sampled_from(leaves)
    names = draw(st.lists(entry, min_size=1, max_size=4))
    names += draw(st.lists(st.sampled_from(names), max_size=2))  # repetitions
    rank = draw(st.sampled_from(["8", '"8"']))
    lines = [f"task_type: {draw(st.sampled_from([task, task.lower()]))}", f"r: {rank}"]
    string_target = len(names) == 1 and draw(st.booleans())
    if string_target:
        lines.append(f"target_modules: {names[0]}")
    elif draw(st.booleans()):
        lines.append("target_modules: [" + ", ".join(names) + "]")
    else:
        lines.append("target_modules:" + "".join(f"\n  - {name}" for name in names))
    if not string_target and draw(st.booleans()):
        containers = sorted({c["path"] for c in inventory_for(config_name, model_class)["layer_containers"]})
        container = draw(st.sampled_from(containers)) if containers else "layers"
        lines.append(f"layers_to_transform: {draw(st.sampled_from(['[0, 1]', '[1]', '0']))}")
        lines.append("layers_pattern: " + _quoted(draw(st.sampled_from(
            [container.rsplit(".", 1)[-1], container.replace(".", "\\.") + "\\.\\d+", container.rsplit(".", 1)[-1]]))))
    order = draw(st.permutations(lines))
    return "\n".join(order) + "\n"


@pytest.mark.parametrize("config_name,model_class,task", MODELS, ids=[m[0] for m in MODELS])
def test_unsafe_fixes_build_the_predicted_targets_in_peft(config_name, model_class, task, model_dirs, lint, tmp_path):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(text=broken_configs(config_name, model_class, task))
    def check(text):
        path = tmp_path / "adapter.yaml"
        path.write_text(text)
        result = lint("check", path, "--unsafe-fixes", "--dialect", "peft", "--model", model_dirs / config_name,
                      "--cache-dir", tmp_path / "cache", "--output-format", "json")
        [entry] = result.json["files"]
        fixed = yaml.safe_load(path.read_text())
        assert [d for d in entry["diagnostics"] if d["severity"] == "error"] == [], (text, path.read_text())
        observed = run_peft(config_name, model_class, fixed)
        assert observed["error"] is None, (text, path.read_text(), observed["error"], result.out, result.err)
        assert observed["targets"] == entry["targets"], (text, path.read_text())
        AGREED["cases"] += 1
        AGREED["targets"] += len(observed["targets"])

    check()
