#!/usr/bin/env python
"""`lora-lint explain` on a 70B model: wall time of the report, against `lora-lint check` on the same file.

    python benchmarks/explain.py            # N=7 repetitions per command
    python benchmarks/explain.py --quick    # N=3

Same method as run.py (fresh subprocesses, one warm-up each, alternating runs, medians): see benchmarks/README.md.
Exits 1 if a target is missed, 2 if a command fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import LORA_LINT, Table, compare, median_best, run  # noqa: E402

# Llama-3.1-70B (80 layers, catalogued): all-linear with a rank pattern on the last ten layers and a saved head,
# so the report has a non-uniform grid folded into blocks, a modules_to_save row and every number.
CONFIG = """\
base_model_name_or_path: meta-llama/Llama-3.1-70B
task_type: CAUSAL_LM
r: 16
lora_alpha: 32
target_modules: all-linear
rank_pattern: {"model.layers.7[0-9].*": 64}
modules_to_save: [lm_head]
"""
FORMATS = ("text", "html")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N=3 timed repetitions")
    parser.add_argument("-n", type=int, help="timed repetitions per command (default 7, 3 with --quick)")
    args = parser.parse_args()
    n = args.n or (3 if args.quick else 7)
    table = Table()
    with tempfile.TemporaryDirectory(prefix="lora-lint-bench-explain-") as name:
        tmp = Path(name)
        config = tmp / "llama70b.yaml"
        config.write_text(CONFIG)
        cache = ["--cache-dir", str(tmp / "cache")]
        report = run([LORA_LINT, "explain", str(config)], ok_codes=(0, 1)).stdout
        if "model.layers (decoder, 80 layers)" not in report:
            print("benchmarks: the explain report has no 80-layer grid", file=sys.stderr)
            return 2
        for fmt in FORMATS:
            explain, check = compare(
                [LORA_LINT, "explain", str(config), "--format", fmt, "--output", str(tmp / f"report.{fmt}")],
                [LORA_LINT, "check", str(config), *cache], n, subject_ok=(0, 1), baseline_ok=(0, 1))
            median = statistics.median(explain)
            table.add(f"5. explain 70B, --format {fmt} (vs check, same file)", median_best(explain),
                      median_best(check), f"{median / statistics.median(check):.2f}x", "< 1 s", median < 1.0)
    table.print()
    print("\nall targets met" if not table.failed else "\nSOME TARGETS MISSED")
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())
