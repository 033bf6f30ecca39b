"""lora-lint's llamafactory trainer against LLaMA-Factory 0.9.5's own config code (llamafactory_oracle.py).

On generated flat configs: LLaMA-Factory accepts a file exactly when lora-lint's reading has no failure, and when it
accepts, the kwargs reaching LoraConfig are the same, types included (`lora_alpha` `'88'` from `lora_rank: '8'`),
or both say a saved adapter is resumed. `lora_target: all` and composite models: the real `find_all_linear_modules`
and `patch_target_modules` on meta-device models against lora-lint's scan of their inventories.

LORA_LINT_LLAMAFACTORY_EXAMPLES sets the number of files (default 1,500); e.g.
    LORA_LINT_LLAMAFACTORY_EXAMPLES=20000 pytest tests/trainers/test_llamafactory_vs_llamafactory.py -q
"""

from __future__ import annotations

import collections
import math
import os
import random

import pytest

pytest.importorskip("llamafactory", reason="pip install --no-deps llamafactory==0.9.5")
pytest.importorskip("omegaconf", reason="omegaconf is in the dev extras")

from lora_lint.source import parse_text  # noqa: E402
from lora_lint.trainers import detect  # noqa: E402

from . import llamafactory_oracle as oracle  # noqa: E402
from .conftest import TOOLKIT_CASES  # noqa: E402

EXAMPLES = int(os.environ.get("LORA_LINT_LLAMAFACTORY_EXAMPLES", "1500"))

# Raw YAML values per key (None: the key is left out), so typing is YAML's and OmegaConf's, not ours.
VALUES = {
    "model_name_or_path": ["m/x"] * 12 + [None, "~"],
    "finetuning_type": [None] * 3 + ["lora"] * 6 + ["oft", "freeze", "full", "LoRA"],
    "stage": [None, "sft", "sft", "pt", "dpo", "kto", "ppo", "rm"],
    "lora_rank": [None, "8", "16", "'8'", "0", "~", "4.0", "true", "[8]"],
    "lora_alpha": [None, None, "16", "0", "~", "'32'", "1.5e1"],
    "lora_dropout": [None, "0.05", "5e-2", "'0.1'", "0"],
    "lora_target": [None, "all", "all", "q_proj,v_proj", "q_proj, v_proj", "all,q_proj", "[q_proj, v_proj]",
                    "[all]", "'all '", "7", "~", "''", "[' q_proj']"],
    "additional_target": [None, None, "embed_tokens,lm_head", "[lm_head]", "~", "lm_head"],
    "use_dora": [None, None, "true", "false", "'no'", "no", "1"],
    "use_rslora": [None, None, "true", "'yes'", "0"],
    "pissa_init": [None] * 5 + ["true", "'false'"],
    "pissa_iter": [None, None, "-1", "4"],
    "pref_loss": [None, None, "orpo", "simpo", "hinge"],
    "reward_model": [None, None, "r/m"],
    "reward_model_type": [None, None, "full", "oft"],
    "dpo_label_smoothing": [None, None, "0.1", "'0.1'"],
    "use_galore": [None] * 5 + ["true", "'yes'"],
    "use_apollo": [None] * 6 + ["true"],
    "use_badam": [None] * 6 + ["true"],
    "loraplus_lr_ratio": [None] * 4 + ["16.0"],
    "use_llama_pro": [None] * 5 + ["true"],
    "ref_model_quantization_bit": [None] * 5 + ["4", "3"],
    "create_new_adapter": [None] * 3 + ["true"],
    "adapter_name_or_path": [None] * 4 + ["saves/a", "saves/a,saves/b"],
    "quantization_bit": [None] * 4 + ["4"],
    "resize_vocab": [None] * 5 + ["true"],
    "template": [None, "llama3"],
    "dataset": [None, "alpaca_en_demo"],
    "output_dir": ["/tmp/lora-lint-llamafactory-out"],
}
TYPOS = ["lora_rnak", "lora_targets", "use_dorra", "additional_targets", "lora_r", "target_modules"]


def generate(rng: random.Random) -> str:
    lines = []
    for key, choices in VALUES.items():
        value = rng.choice(choices)
        if value is not None:
            lines.append(f"{key}: {value}")
    if rng.random() < 0.08:
        lines.append(f"{rng.choice(TYPOS)}: 8")
    if rng.random() < 0.03 and lines:
        lines.append(rng.choice(lines))  # a duplicate key
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def canonical(value):
    if isinstance(value, dict):
        return {key: canonical(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def compare(text: str, cases: collections.Counter) -> list[str]:
    root = parse_text("config.yaml", text).root
    expected = oracle.run(text)
    reading = detect(root, "llamafactory")
    cases["llamafactory accepts" if expected.accepted else
          f"llamafactory stops: {expected.raises.split(':')[0]}"] += 1
    if expected.accepted != (reading.failure is None):
        return [f"verdict: llamafactory {'accepts' if expected.accepted else expected.raises}, lora-lint "
                f"{'accepts' if reading.failure is None else reading.failure.message}"]
    if not expected.accepted:
        return []
    view = reading.runs[0]
    if expected.resumes or expected.kwargs is None:
        cases["resumes a saved adapter" if expected.resumes else "not LoRA"] += 1
        return [] if not view.kwargs_known else ["lora-lint builds kwargs where LLaMA-Factory builds none"]
    ours = view.kwargs()
    if ours.get("target_modules") is None and view.from_model is not None:
        ours["target_modules"] = ["<all>"]
    cases["kwargs compared"] += 1
    if canonical(ours) != canonical(expected.kwargs):
        return [f"kwargs: llamafactory {expected.kwargs}, lora-lint {ours}"]
    return []


def test_verdict_and_lora_kwargs_agree_with_llamafactory():
    rng = random.Random(20260)
    cases: collections.Counter = collections.Counter()
    disagreements = []
    for _ in range(EXAMPLES):
        text = generate(rng)
        problems = compare(text, cases)
        if problems:
            disagreements.append((text, problems))
    for outcome, count in cases.items():
        TOOLKIT_CASES[f"llamafactory {oracle.VERSION}: {outcome}"] += count
    print(f"\n{EXAMPLES} generated LLaMA-Factory configs:", dict(cases.most_common()))
    assert not disagreements, f"{len(disagreements)} of {EXAMPLES} disagree; first:\n" + "\n".join(
        f"{text}-> {problems}" for text, problems in disagreements[:3])
    assert cases["kwargs compared"] > EXAMPLES // 20 and cases["llamafactory accepts"] < EXAMPLES * 0.9
