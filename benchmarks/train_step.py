#!/usr/bin/env python
"""Benchmark: `lora-lint train-step` on a 32-layer, 7B-shaped Llama config (miniature mode), against
`python -c "import peft"` in the same run.

    python benchmarks/train_step.py            # N=5 alternating timed runs of each command
    python benchmarks/train_step.py -n 3

The config is a toolkit (llmtune) QLoRA config on NousResearch/Llama-2-7b-hf with the seven projections as targets,
so the step runs the toolkit's own preparation (gradient checkpointing, prepare_model_for_kbit_training) on a
miniature with all 32 layers. Both commands are fresh subprocesses; each gets one untimed warm-up, then they are run
alternately and the medians compared. Target: ratio <= 3x. Exits 1 if the target is missed, 2 if a command fails
or the step does not pass. Everything is written to a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

TARGET = 3.0
CONFIG = """\
model:
  hf_model_ckpt: NousResearch/Llama-2-7b-hf
  torch_dtype: bfloat16
  quantize: true
  bitsandbytes:
    load_in_4bit: true
    bnb_4bit_compute_dtype: bfloat16
    bnb_4bit_quant_type: nf4
lora:
  task_type: CAUSAL_LM
  r: 16
  lora_alpha: 32
  lora_dropout: 0.05
  target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]
training:
  training_args:
    learning_rate: 2.0e-4
"""


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"benchmarks: command failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}"
              f"{proc.stderr[-2000:]}", file=sys.stderr)
        sys.exit(2)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="timed repetitions per command (default 5)")
    args = parser.parse_args()
    lora_lint = Path(sysconfig.get_path("scripts")) / "lora-lint"
    if not lora_lint.exists():
        sys.exit(f"benchmarks: {lora_lint} not found; install lora-lint in this environment")
    with tempfile.TemporaryDirectory(prefix="lora-lint-bench-") as scratch:
        config = Path(scratch) / "llama2_7b_qlora.yml"
        config.write_text(CONFIG, encoding="utf-8")
        env = dict(os.environ, HF_HUB_OFFLINE="1", XDG_CACHE_HOME=scratch)
        subject = [str(lora_lint), "train-step", str(config), "--output-format", "json"]
        baseline = [sys.executable, "-c", "import peft"]

        report = json.loads(subprocess.run(subject, capture_output=True, text=True, env=env).stdout)
        step = report["files"][0].get("train_step") or {}
        if step.get("status") != "passed":
            print(f"benchmarks: the step did not pass: {json.dumps(step)[:2000]}", file=sys.stderr)
            return 2
        timed(baseline, env)
        subject_times, baseline_times = [], []
        for _ in range(args.n):
            subject_times.append(timed(subject, env))
            baseline_times.append(timed(baseline, env))

    ratio = statistics.median(subject_times) / statistics.median(baseline_times)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"miniature: {step['class']}, {step['lora_modules']} LoRA modules, "
          f"{step['trainable_parameters']:,} trainable parameters; step {step['seconds']:.2f} s inside the run")
    print(f"{'measurement':<52} {'lora-lint':>18} {'import peft':>18} {'ratio':>7} {'target':>7}  result")
    print(f"{'train-step, 32-layer 7B Llama miniature (' + str(cores) + ' cores)':<52} "
          f"{_fmt(subject_times):>18} {_fmt(baseline_times):>18} {ratio:>6.2f}x {TARGET:>6.1f}x  "
          f"{'ok' if ratio <= TARGET else 'MISSED'}")
    return 0 if ratio <= TARGET else 1


def _fmt(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} s (best {min(times):.2f})"


if __name__ == "__main__":
    sys.exit(main())
