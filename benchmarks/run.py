#!/usr/bin/env python
"""lora-lint performance benchmarks: wall-time ratios against baselines measured in the same run, plus peak memory.

    python benchmarks/run.py            # full run, N=7 repetitions per timed command
    python benchmarks/run.py --quick    # N=3, fewer memory repetitions

Every timed command is a fresh subprocess (the way a user or pre-commit runs it), timed with time.perf_counter.
Each side gets one untimed warm-up run; then the lora-lint and baseline commands are run alternately N times and the
median is compared (the best-of-N is printed too). Exits 1 if any target is missed, 2 if a command fails outright.
See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import yaml  # installed with yamllint

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "lora_lint" / "data" / "catalog"
SCRIPTS = Path(sysconfig.get_path("scripts"))
PY = sys.executable


def console_script(name: str) -> str:
    """The real console script next to this interpreter (not a pyenv/asdf shim, whose own start-up would skew times)."""
    path = SCRIPTS / name
    if not path.exists():
        sys.exit(f"benchmarks: console script {path} not found; install lora-lint and yamllint in this environment")
    return str(path)


LORA_LINT = console_script("lora-lint")
YAMLLINT = console_script("yamllint")
# Children run as a user's shell would: writing .pyc files (the warm-up run leaves them, as an installed package has
# them), whatever this shell's PYTHONDONTWRITEBYTECODE says.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# --------------------------------------------------------------------------------------------------------- helpers


def run(cmd: list[str], ok_codes=(0,), **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=CHILD_ENV, **kwargs)
    if proc.returncode not in ok_codes:
        print(f"benchmarks: command failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}",
              file=sys.stderr)
        sys.exit(2)
    return proc


def wall(cmd: list[str], ok_codes=(0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        print(f"benchmarks: command failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}",
              file=sys.stderr)
        sys.exit(2)
    return elapsed


def compare(subject: list[str], baseline: list[str], n: int, subject_ok=(0,), baseline_ok=(0,)):
    """Warm up both, then alternate N timed runs. Returns (subject times, baseline times)."""
    wall(subject, subject_ok)
    wall(baseline, baseline_ok)
    subject_times, baseline_times = [], []
    for _ in range(n):
        subject_times.append(wall(subject, subject_ok))
        baseline_times.append(wall(baseline, baseline_ok))
    return subject_times, baseline_times


def peak_rss_bytes(cmd: list[str], stdout_path: Path) -> int:
    """Peak RSS of `cmd` (and anything it waits for), via getrusage(RUSAGE_CHILDREN) in a fresh wrapper process, so
    that no other child's peak is mixed in. Linux reports ru_maxrss in KiB."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'w') as out:\n"
        "    rc = subprocess.run(sys.argv[2:], stdout=out).returncode\n"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = run([PY, "-c", wrapper, str(stdout_path), *cmd])
    rc, kib = proc.stdout.split()
    if rc != "0":
        print(f"benchmarks: command failed (exit {rc}): {' '.join(cmd)}", file=sys.stderr)
        sys.exit(2)
    return int(kib) * 1024


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def fmt_mb(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def median_best(times: list[float]) -> str:
    return f"{fmt_s(statistics.median(times))} (best {fmt_s(min(times))})"


def catalog_index() -> dict:
    return json.loads((CATALOG / "index.json").read_text())


def catalog_config(model_id: str) -> dict:
    for entry in catalog_index()["models"]:
        if entry["id"] == model_id:
            return json.loads((CATALOG / entry["file"]).read_text())
    sys.exit(f"benchmarks: {model_id} is not in the catalogue")


# ------------------------------------------------------------------------------------------------- config writing

LLMTUNE_TEMPLATE = {
    "save_dir": "./experiments/run/",
    "ablation": {"use_ablate": False},
    "data": {
        "file_type": "huggingface",
        "path": "yahma/alpaca-cleaned",
        "prompt": "Below is an instruction that describes a task.\n### Instruction: {instruction}\n"
                  "### Input: {input}\n### Output:",
        "prompt_stub": "{output}",
        "test_size": 0.1,
        "train_size": 0.9,
        "train_test_split_seed": 42,
    },
    "model": {
        "hf_model_ckpt": "NousResearch/Llama-2-7b-hf",
        "torch_dtype": "bfloat16",
        "attn_implementation": "flash_attention_2",
        "quantize": True,
        "bitsandbytes": {
            "load_in_4bit": True,
            "bnb_4bit_compute_dtype": "bfloat16",
            "bnb_4bit_quant_type": "nf4",
            "bnb_4bit_use_double_quant": True,
        },
    },
    "lora": {
        "task_type": "CAUSAL_LM",
        "r": 64,
        "lora_alpha": 16,
        "lora_dropout": 0.1,
        "bias": "none",
        "target_modules": ["q_proj", "v_proj", "k_proj", "o_proj", "up_proj", "down_proj", "gate_proj"],
        "fan_in_fan_out": False,
        "modules_to_save": None,
    },
    "training": {
        "training_args": {
            "num_train_epochs": 3,
            "per_device_train_batch_size": 4,
            "gradient_accumulation_steps": 4,
            "gradient_checkpointing": True,
            "optim": "paged_adamw_32bit",
            "logging_steps": 25,
            "learning_rate": 2.0e-4,
            "bf16": True,
            "tf32": True,
            "max_grad_norm": 0.3,
            "warmup_ratio": 0.03,
            "lr_scheduler_type": "constant",
            "save_steps": 500,
        },
        "sft_args": {"max_seq_length": 2048},
    },
    "inference": {"max_new_tokens": 512, "use_cache": True, "do_sample": True, "top_p": 0.9, "temperature": 0.8},
}

# Attention projections per model_type, for realistic explicit target_modules lists.
ATTENTION_TARGETS = {
    "bloom": ["query_key_value"],
    "gpt2": ["c_attn"],
    "phi3": ["qkv_proj", "o_proj"],
    "phi": ["q_proj", "k_proj", "v_proj", "dense"],
    "gpt_neo": ["q_proj", "v_proj"],
    "gptj": ["q_proj", "v_proj"],
    "opt": ["q_proj", "v_proj"],
}
DEFAULT_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def write_llmtune(path: Path, model_id: str, target_modules, r: int = 64) -> None:
    config = copy.deepcopy(LLMTUNE_TEMPLATE)
    config["model"]["hf_model_ckpt"] = model_id
    config["lora"]["target_modules"] = target_modules
    config["lora"]["r"] = r
    config["lora"]["lora_alpha"] = 2 * r
    path.write_text("---\n" + yaml.safe_dump(config, sort_keys=False, width=200))


def write_adapter_config(path: Path, model_id: str, target_modules, r: int) -> None:
    config = {
        "base_model_name_or_path": model_id,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": 2 * r,
        "lora_dropout": 0.05,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": r,
        "revision": None,
        "target_modules": target_modules,
        "task_type": "CAUSAL_LM",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")


def write_corpus(root: Path, n_models: int = 20, per_model: int = 50) -> tuple[list[Path], list[str]]:
    """`per_model` configs for each of the first `n_models` catalogued causal LMs: half llmtune YAML, half PEFT
    adapter_config.json, with explicit target lists and all-linear mixed."""
    models = [e for e in catalog_index()["models"] if "AutoModelForCausalLM" in e.get("auto_classes", {})
              and e.get("architecture", "").endswith(("ForCausalLM", "LMHeadModel"))][:n_models]
    if len(models) < n_models:
        sys.exit(f"benchmarks: only {len(models)} catalogued causal LMs, {n_models} wanted")
    files = []
    for entry in models:
        folder = root / entry["id"].replace("/", "--")
        folder.mkdir(parents=True)
        explicit = ATTENTION_TARGETS.get(entry["model_type"], DEFAULT_TARGETS)
        for i in range(per_model):
            targets = "all-linear" if i % 3 == 0 else explicit
            r = (8, 16, 32, 64)[i % 4]
            if i % 2 == 0:
                path = folder / f"run{i:02d}.yml"
                write_llmtune(path, entry["id"], targets, r)
            else:
                path = folder / f"run{i:02d}" / "adapter_config.json"
                path.parent.mkdir()
                write_adapter_config(path, entry["id"], targets, r)
            files.append(path)
    return files, [e["id"] for e in models]


# ---------------------------------------------------------------------------------------------------- benchmarks


class Table:
    def __init__(self):
        self.rows = []
        self.failed = False

    def add(self, name, subject, baseline, ratio, target, passed):
        self.rows.append((name, subject, baseline, ratio, target, "—" if passed is None else
                          ("PASS" if passed else "FAIL")))
        if passed is False:
            self.failed = True

    def print(self):
        header = ("measurement", "lora-lint", "baseline", "ratio", "target", "result")
        widths = [max(len(str(row[i])) for row in [header, *self.rows]) for i in range(len(header))]
        line = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
        print(line(header))
        print("  ".join("-" * w for w in widths))
        for row in self.rows:
            print(line(row))


def bench_warm_single(table: Table, tmp: Path, n: int) -> None:
    config = tmp / "single" / "llama2_qlora.yml"
    config.parent.mkdir()
    write_llmtune(config, "NousResearch/Llama-2-7b-hf", LLMTUNE_TEMPLATE["lora"]["target_modules"])
    cache = ["--cache-dir", str(tmp / "cache")]
    lint, base = compare([LORA_LINT, "check", str(config), *cache], [YAMLLINT, str(config)], n,
                         subject_ok=(0, 1), baseline_ok=(0, 1))
    ratio = statistics.median(lint) / statistics.median(base)
    table.add("1. warm lint, 1 llmtune YAML (vs yamllint)", median_best(lint), median_best(base),
              f"{ratio:.2f}x", "<= 1.3x", ratio <= 1.3)

    proc = run([PY, "-X", "importtime", "-m", "lora_lint", "check", str(config), *cache], ok_codes=(0, 1))
    heavy = [line for line in proc.stderr.splitlines()
             if re.search(r"\|\s*(torch|transformers)(\.|\s*$)", line)]
    table.add("1b. torch/transformers imports on warm path", f"{len(heavy)} modules", "—", "—", "0",
              len(heavy) == 0)
    importtime_report(proc.stderr)


def importtime_report(stderr: str, top: int = 10) -> None:
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4)))
    total = sum(r[0] for r in rows)
    lora = sum(r[0] for r in rows if r[3].startswith("lora_lint"))
    print(f"\n[warm path -X importtime] {len(rows)} modules, {total / 1000:.1f} ms self time in total, "
          f"{lora / 1000:.1f} ms in lora_lint.* itself")
    print(f"  top {top} by self time:   " + ", ".join(
        f"{name} {s / 1000:.1f}ms" for s, _, _, name in sorted(rows, reverse=True)[:top]))
    top_level = sorted((r for r in rows if r[2] <= 1), key=lambda r: r[1], reverse=True)[:top]
    print(f"  top {top} top-level by cumulative: " + ", ".join(
        f"{name} {c / 1000:.1f}ms" for _, c, _, name in top_level))


def bench_cold(table: Table, tmp: Path, n: int) -> None:
    config = catalog_config("NousResearch/Llama-2-7b-hf")
    config["vocab_size"] = config["vocab_size"] + 1  # not a catalogue config, so a different cache key
    model_dir = tmp / "uncatalogued-llama"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(config, indent=2))
    lint, base = compare([LORA_LINT, "modules", str(model_dir), "--no-cache"], [PY, "-c", "import peft"], n)
    ratio = statistics.median(lint) / statistics.median(base)
    table.add("2. cold skeleton build, uncatalogued Llama-2-7b (vs import peft)", median_best(lint),
              median_best(base), f"{ratio:.2f}x", "<= 1.3x", ratio <= 1.3)


def bench_corpus(table: Table, tmp: Path, n: int) -> None:
    root = tmp / "corpus"
    files, models = write_corpus(root)
    cache = ["--cache-dir", str(tmp / "cache")]

    # Sanity (and cache warm-up): every file is linted and gets its model's inventory.
    proc = run([LORA_LINT, "check", str(root), "--output-format", "json", *cache], ok_codes=(0, 1))
    reports = json.loads(proc.stdout)["files"]
    without_model = [r["path"] for r in reports if not (r.get("model") or {}).get("source")]
    sources = sorted({(r.get("model") or {}).get("source") or "none" for r in reports})
    print(f"\n[1,000 configs] {len(files)} files over {len(models)} models written; lora-lint reported "
          f"{len(reports)} files, inventory sources {sources}, {len(without_model)} without a model inventory")
    if len(reports) != len(files):
        print("benchmarks: lora-lint did not report every generated file", file=sys.stderr)
        sys.exit(2)

    lint, base = compare([LORA_LINT, "check", str(root), "--output-format", "concise", *cache],
                         [YAMLLINT, *map(str, files)], n, subject_ok=(0, 1), baseline_ok=(0, 1))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    median = statistics.median(lint)
    ratio = median / statistics.median(base)
    table.add(f"3. 1,000 configs / 20 models, warm ({cores} cores; baseline yamllint)", median_best(lint),
              median_best(base), f"{ratio:.2f}x", "< 5 s", median < 5.0)
    table.add("3b. 1,000 configs / 20 models vs yamllint on the same files", median_best(lint), median_best(base),
              f"{ratio:.2f}x", "<= 1.0x", ratio <= 1.0)


def bench_memory(table: Table, tmp: Path, repeats: int) -> None:
    config = catalog_config("meta-llama/Llama-3.1-8B")  # keeps its llama3 rope_scaling
    config.update(hidden_size=16384, intermediate_size=53248, num_hidden_layers=126, num_attention_heads=128,
                  num_key_value_heads=8, vocab_size=128256)
    model_dir = tmp / "llama-3.1-405b-shaped"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(config, indent=2))
    out = tmp / "inventory-405b.json"

    lint_peaks = [peak_rss_bytes([LORA_LINT, "modules", str(model_dir), "--no-cache", "--format", "json"], out)
                  for _ in range(repeats)]
    inventory = json.loads(out.read_text())
    base_peaks = [peak_rss_bytes([PY, "-c", "import torch, transformers"], tmp / "import.out")
                  for _ in range(repeats)]
    lint_peak, base_peak = max(lint_peaks), max(base_peaks)
    total = inventory["total_parameters"]
    table.add("4. peak RSS, 405B skeleton (vs import torch, transformers)", fmt_mb(lint_peak), fmt_mb(base_peak),
              f"{lint_peak / base_peak:.2f}x", "< 1 GB", lint_peak < 10**9)
    table.add("4b. 405B inventory total_parameters", f"{total / 1e9:.1f}B", "—", "—", "~405B",
              400e9 <= total <= 410e9)


def write_tokenizer_json(path: Path, megabytes: float = 10.0) -> None:
    """A tokenizer.json laid out like Hugging Face's (BPE vocab and merges, indent 2), about `megabytes` MB."""
    vocab, merges, i = {}, [], 0
    size = 0
    while size < megabytes * 1_000_000:
        token = f"\u0120tok{i}en"
        vocab[token] = i
        merges.append(f"\u0120t ok{i}en")
        size += 2 * len(token) + 30
        i += 1
    document = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": merges},
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")


def bench_big_non_config(table: Table, tmp: Path, n: int) -> None:
    folder = tmp / "tokenizer"
    folder.mkdir()
    path = folder / "tokenizer.json"
    write_tokenizer_json(path)
    # As the pre-commit hook runs it: the file named explicitly, non-configs skipped.
    lint, base = compare([LORA_LINT, "check", "--skip-non-lora", "--force-exclude", str(path)],
                         [PY, "-c", f"import json; json.load(open({str(path)!r}))"], n)
    ratio = statistics.median(lint) / statistics.median(base)
    table.add(f"5. skip a {path.stat().st_size / 1e6:.1f} MB tokenizer.json (vs json.load)", median_best(lint),
              median_best(base), f"{ratio:.2f}x", "<= 2.0x", ratio <= 2.0)




def bench_regex_budget(table: Table, tmp: Path, n: int) -> None:
    """Ordinary config regexes through the time-budget layer vs plain re, both timed inside one child process."""
    script = str(REPO / "benchmarks" / "regex_budget.py")
    run([PY, script])  # warm-up
    guarded, plain = [], []
    for _ in range(n):
        result = json.loads(run([PY, script]).stdout)
        guarded.append(result["guarded_s"])
        plain.append(result["plain_re_s"])
    ratio = statistics.median(guarded) / statistics.median(plain)
    table.add(f"6. config regexes under the time budget, {result['patterns']} ordinary patterns x "
              f"{result['names']} names (vs plain re)", median_best(guarded), median_best(plain),
              f"{ratio:.2f}x", "<= 2x", ratio <= 2.0)


ROWS = {"1": bench_warm_single, "2": bench_cold, "3": bench_corpus, "4": None, "5": bench_big_non_config,
        "6": bench_regex_budget}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N=3 timed repetitions and one memory run")
    parser.add_argument("-n", type=int, help="timed repetitions per command (default 7, 3 with --quick)")
    parser.add_argument("--only", metavar="ROWS", default=",".join(ROWS),
                        help="comma-separated row numbers to run (default: all)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    n = args.n or (3 if args.quick else 7)
    repeats = 1 if args.quick else 3

    version = run([LORA_LINT, "--version"]).stdout.strip()
    print(f"{version}; Python {sys.version.split()[0]}; N={n} (median of N, best in brackets); "
          f"{os.cpu_count()} CPUs")
    table = Table()
    with tempfile.TemporaryDirectory(prefix="lora-lint-bench-") as name:
        tmp = Path(name)
        for row, bench in ROWS.items():
            if row in only:
                bench_memory(table, tmp, repeats) if bench is None else bench(table, tmp, n)
    print()
    table.print()
    print("\nall targets met" if not table.failed else "\nSOME TARGETS MISSED")
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())
