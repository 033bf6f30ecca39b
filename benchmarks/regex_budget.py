#!/usr/bin/env python
"""The cost of running config regexes under lora-lint's time budget, on ordinary patterns.

    python benchmarks/regex_budget.py    ->  one JSON line: {"guarded_s": ..., "plain_re_s": ..., "names": ...}

Times, in this one process, every module name of Llama-2-7b (the catalogue inventory) against ordinary config
regexes, the way PEFT applies them (string target_modules with fullmatch; a layers_pattern, a rank_pattern key and
a modules_to_save entry inside the regexes PEFT builds around them): once through lora_lint.matcher.regexes
(`config_match`, which checks the pattern's structure and keeps a budget) and once with plain `re.match` /
`re.fullmatch`, as PEFT (and the matcher before the budget) calls them, in alternating rounds so that load drift
hits both. benchmarks/run.py runs this and reports the ratio.
"""

import gzip
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_lint.matcher.layers import layer_regex  # noqa: E402
from lora_lint.matcher.patterns import pattern_key_regex  # noqa: E402
from lora_lint.matcher.regexes import config_match, regex_budget  # noqa: E402
from lora_lint.matcher.targets import modules_to_save_regex  # noqa: E402

VERSION = (0, 21, 2)
# (pattern as written, regex PEFT compiles, fullmatch?)
PATTERNS = [
    (r".*\.(q_proj|v_proj)", r".*\.(q_proj|v_proj)", True),
    (r"model\.layers\.\d+\.self_attn\.(q|k|v|o)_proj", r"model\.layers\.\d+\.self_attn\.(q|k|v|o)_proj", True),
    ("layers", layer_regex("layers", VERSION), False),
    (r".*\.mlp\..*", pattern_key_regex(r".*\.mlp\..*", VERSION), False),
    ("lm_head", modules_to_save_regex("lm_head"), False),
]
ROUNDS = 40


def main() -> None:
    inventory_file = ROOT / "lora_lint" / "data" / "inventories" / "NousResearch--Llama-2-7b-hf" / "LlamaForCausalLM.json.gz"
    names = [m["name"] for m in json.loads(gzip.decompress(inventory_file.read_bytes()))["modules"] if m["name"]]
    guarded = plain = 0.0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        with regex_budget():
            guarded_hits = sum(bool(config_match(p, regex, n, full=full)) for p, regex, full in PATTERNS for n in names)
        guarded += time.perf_counter() - start
        start = time.perf_counter()
        plain_hits = sum(bool((re.fullmatch if full else re.match)(regex, n)) for _, regex, full in PATTERNS
                         for n in names)
        plain += time.perf_counter() - start
        assert guarded_hits == plain_hits
    print(json.dumps({"guarded_s": guarded, "plain_re_s": plain, "names": len(names), "patterns": len(PATTERNS)}))


if __name__ == "__main__":
    main()
