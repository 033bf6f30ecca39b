"""Fuzz: mutated fixtures and generated LoRA sections never crash lora-lint, and each stays within bounds.

The default run lints 1,000 inputs; `pytest -m fuzz` lints 10,000. Every input ends with exit 0, 1 or 2, no
traceback, JSON output that parses, under 2 s of CPU; the batch's peak RSS (an upper bound for every file) stays
under 300 MB. The inputs are linted in two child processes (one per core) by tests/fuzz/run_batch.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .inputs import generated_sections, mutated_fixtures

ROOT = Path(__file__).resolve().parents[2]
CPU_SECONDS_PER_FILE, PEAK_MB = 2.0, 300
SHARDS = 2


def _fuzz(tmp_path: Path, mutations: int, generated: int, include_slow: bool) -> dict:
    inputs = mutated_fixtures(mutations, seed=15, include_slow=include_slow) + generated_sections(generated)
    paths = []
    for name, data in inputs:
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    runs = []
    for shard in range(SHARDS):
        manifest = tmp_path / f"manifest-{shard}.txt"
        manifest.write_text("\n".join(paths[shard::SHARDS]), encoding="utf-8")
        runs.append(subprocess.Popen([sys.executable, str(ROOT / "tests" / "fuzz" / "run_batch.py"), str(manifest)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=tmp_path))
    summaries = []
    for run in runs:
        out, err = run.communicate(timeout=3600)
        assert run.returncode == 0, err[-3000:]
        summaries.append(json.loads(out))
    summary = {
        "inputs": sum(s["inputs"] for s in summaries),
        "crashes": [c for s in summaries for c in s["crashes"]],
        "slowest": max((s["slowest"] for s in summaries), key=lambda slow: slow["cpu_s"]),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in summaries),
        "exit_codes": {code: sum(s["exit_codes"].get(code, 0) for s in summaries)
                       for code in {c for s in summaries for c in s["exit_codes"]}},
    }
    print(f"fuzz: {json.dumps({k: v for k, v in summary.items() if k != 'crashes'})}, "
          f"crashes: {len(summary['crashes'])}")
    assert summary["inputs"] == len(inputs)
    assert not summary["crashes"], "\n".join(f"{c['path']}: {c['why'][-400:]}" for c in summary["crashes"][:10])
    assert summary["slowest"]["cpu_s"] < CPU_SECONDS_PER_FILE, summary["slowest"]
    assert summary["peak_rss_mb"] < PEAK_MB, summary["peak_rss_mb"]
    return summary


def test_fuzz_1000_inputs(tmp_path):
    assert _fuzz(tmp_path, mutations=800, generated=200, include_slow=False)["inputs"] >= 1000


@pytest.mark.fuzz
def test_fuzz_10000_inputs(tmp_path):
    assert _fuzz(tmp_path, mutations=8000, generated=2000, include_slow=True)["inputs"] >= 10_000
