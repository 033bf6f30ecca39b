"""Seeded generation of toolkit config files, written as YAML text so PyYAML's typing is part of what is tested:
values of every type, coercible and not (`"32"`, `1e-1`, `yes`, `16.5`), unknown and dropped keys, missing and
null sections, the toolkit's save-and-reload requirements, and ablation sweeps with their quirks.

About half the files hold no mistake (only values the toolkit accepts, many of them only after coercion); the
others hold one to three, so every way the toolkit stops is reached alone as well as together."""

from __future__ import annotations

import random

# Raw YAML per LoRA field. OK: the toolkit accepts it (often only after pydantic's lax coercion).
LORA_OK = {
    "r": ["8", "16", "\"32\"", "' 64 '", "32.0", "0", "-4", "true", "1_0", "null", "\"+3\"", "010"],
    "lora_alpha": ["16", "32", "\"64\"", "8.0", "null", "false", "0x20"],
    "lora_dropout": ["0.1", "0.05", "1e-1", "1.0e-2", "\"0.1\"", "0", "1", "null", ".5", "\"1e-4\"", "\" 0.2 \"",
                     ".inf", ".nan"],
    "task_type": ["CAUSAL_LM", "causal_lm", "\"SEQ_CLS\"", "null", "\"5\""],
    "bias": ["none", "all", "lora_only", "\"none\"", "whatever"],
    "target_modules": ["all-linear", "[q_proj, v_proj]", "null", "[all-linear]", "[q_proj, v_proj, q_proj]"],
    "fan_in_fan_out": ["false", "true", "yes", "\"yes\"", "\"off\"", "1", "0", "null", "\"t\"", "\"0\"", "1.0"],
    "modules_to_save": ["[lm_head]", "null", "[lm_head, embed_tokens]"],
    "layers_to_transform": ["[0, 1]", "3", "\"3\"", "[\"1\", 2]", "[0.0, 1]", "null", "true"],
    "layers_pattern": ["layers", "\"h\"", "null", "\"\""],
}
LORA_BAD = {
    "r": ["16.5", "abc", "1e3", "[]", "{a: 1}", "\"0x10\"", "\"1e3\"", "2024-01-01"],
    "lora_alpha": ["16.5", "no", "\"16.5\""],
    "lora_dropout": ["abc", "yes", "\"\""],
    "task_type": ["5", "true", "1.5"],
    "bias": ["7", "false"],
    "target_modules": ["ALL-LINEAR", "\".*proj\"", "q_proj", "[q_proj, 5]", "{q_proj: 1}", "7", "[q_proj, [v_proj]]"],
    "fan_in_fan_out": ["2", "\"maybe\"", "0.5"],
    "modules_to_save": ["lm_head", "[lm_head, 3]"],
    "layers_to_transform": ["[1.5]", "x", "[0, [1]]"],
    "layers_pattern": ["[layers]", "5"],
}
# Lists the toolkit sweeps over when ablation is on (and rejects when it is off).
LORA_SWEEP = {
    "r": ["[8, 16]", "[4, \"8\", 16]", "[8, 8]"],
    "lora_alpha": ["[16, 32]"],
    "lora_dropout": ["[0.1, 0.2]", "[0.05, 1e-1]"],
    "task_type": ["[CAUSAL_LM, SEQ_CLS]"],
    "bias": ["[none, all]"],
    "target_modules": ["[[q_proj], [v_proj, k_proj]]", "[[q_proj], all-linear]"],
    "fan_in_fan_out": ["[true, false]"],
    "modules_to_save": ["[[lm_head], [embed_tokens]]"],
    "layers_to_transform": ["[[0], [1, 2]]", "[[0], 3]"],
    "layers_pattern": ["[layers, h]"],
}
DROPPED = {"use_dora": ["true", "false"], "use_rslora": ["true"], "rank_pattern": ["{q_proj: 16}"],
           "init_lora_weights": ["pissa", "gaussian"], "exclude_modules": ["[v_proj]"]}
UNKNOWN_KEYS = {("lora",): ["lora_aplha", "rank"], ("model",): ["hf_model", "trust_remote_code"],
                ("data",): ["file"], ("training", "training_args"): ["learning_rat"], (): ["safe_dir", "extra"]}


def generate(seed: int) -> str:
    rng = random.Random(seed)
    mistakes = 0 if rng.random() < 0.5 else rng.choice([1, 1, 2, 3])
    if rng.random() < 0.1:
        if mistakes and rng.random() < 0.2:
            return f"lora: {rng.choice(['null', '[r]', '5'])}\n"
        fragment = {"lora": _lora(rng, mistakes, sweeping=False)}
        if rng.random() < 0.4:
            fragment["model"] = {"hf_model_ckpt": rng.choice(["gpt2", "5", "null", "[gpt2]"]),
                                 "device_map": rng.choice(["auto", "\"none\"", "null"])}
            if rng.random() < 0.5:
                del fragment["model"]["device_map"]
            if rng.random() < 0.3:
                fragment = {"model": fragment["model"], "lora": fragment["lora"]}
        return _block(fragment, 0)
    use_ablate = rng.choice(["false", "true", "true", "\"false\"", "0", "1", "null", None])
    sweeping = use_ablate in ("true", "\"false\"", "1")
    config = {"save_dir": "./experiments", "ablation": {"use_ablate": use_ablate} if use_ablate else {},
              "data": {"file_type": rng.choice(["huggingface", "json", "\"csv\""]),
                       "path": rng.choice(["yahma/alpaca-cleaned", "data.jsonl"]),
                       "prompt": "\"### Instruction: {instruction}\"", "prompt_stub": "\"{output}\""},
              "model": {"hf_model_ckpt": rng.choice(["NousResearch/Llama-2-7b-hf", "\"mistralai/Mistral-7B-v0.1\""]),
                        "bitsandbytes": {"load_in_4bit": rng.choice(["true", "\"yes\""]),
                                         "bnb_4bit_compute_dtype": rng.choice(["bfloat16", "float16", "null"])}},
              "lora": _lora(rng, 0, sweeping),
              "training": {"training_args": {"learning_rate": rng.choice(["2.0e-4", "2e-4", "0.0002"])},
                           "sft_args": {"max_seq_length": rng.choice(["512", "null", "\"1024\""])}},
              "inference": {"max_new_tokens": "256"} if rng.random() < 0.7 else {},
              "qa": {"llm_metrics": "[jaccard_similarity]"} if rng.random() < 0.5 else {}}
    if rng.random() < 0.3:
        config["model"]["quantize"] = rng.choice(["true", "false", "\"yes\""])
    if rng.random() < 0.2:
        config["model"]["device_map"] = rng.choice(["auto", "cuda:0", "\"none\"", "\"None\"", "null"])
    if sweeping and rng.random() < 0.3:
        config["model"]["hf_model_ckpt"] = "[NousResearch/Llama-2-7b-hf, mistralai/Mistral-7B-v0.1]"
    if sweeping and rng.random() < 0.2:
        config["training"]["training_args"]["learning_rate"] = "[1.0e-4, 2.0e-4]"
    if rng.random() < 0.15:
        where, keys = rng.choice(list(UNKNOWN_KEYS.items()))
        _at(config, where)[rng.choice(keys)] = "{}"  # ignored, and no leaf for the sweep code to look up
    for _ in range(mistakes):
        _mistake(rng, config, sweeping)
    return _block(config, 0)


def _mistake(rng, config: dict, sweeping: bool) -> None:
    kind = rng.choice(["lora value", "lora value", "lora value", "section", "data field", "bitsandbytes",
                       "device_map", "unknown leaf", "empty list", "training part", "other value", "list value"])
    lora = _at(config, ("lora",))
    if kind == "lora value" and lora is not None:
        key = rng.choice(list(LORA_BAD))
        lora[key] = rng.choice(LORA_BAD[key])
    elif kind == "list value" and lora is not None:  # a sweep where the toolkit does not sweep
        key = rng.choice(list(LORA_SWEEP))
        lora[key] = rng.choice(LORA_SWEEP[key])
    elif kind == "section":
        key = rng.choice(["ablation", "data", "model", "lora", "training", "inference", "qa"])
        if rng.random() < 0.6:
            config.pop(key, None)
        else:
            config[key] = rng.choice(["null", "[a]", "5"])
    elif kind == "data field" and isinstance(config.get("data"), dict):
        config["data"].pop(rng.choice(["file_type", "path", "prompt", "prompt_stub"]), None)
        if rng.random() < 0.3:
            config["data"]["file_type"] = rng.choice(["parquet", "5", "2024-01-01"])
    elif kind == "bitsandbytes" and isinstance(config.get("model"), dict):
        bnb = config["model"].get("bitsandbytes")
        if isinstance(bnb, dict) and rng.random() < 0.5:
            bnb.pop("bnb_4bit_compute_dtype", None)
        else:
            config["model"].pop("bitsandbytes", None) if rng.random() < 0.7 else config["model"].update(
                bitsandbytes="null")
    elif kind == "device_map" and isinstance(config.get("model"), dict):
        config["model"]["device_map"] = rng.choice(["null", "\"none\"", "5"])
    elif kind == "unknown leaf":
        where, keys = rng.choice(list(UNKNOWN_KEYS.items()))
        target = _at(config, where)
        if target is not None:
            target[rng.choice(keys)] = rng.choice(["3", "{a: 1}", "[1, 2]", "yes"])
    elif kind == "empty list":
        target = rng.choice([("lora", "target_modules"), ("qa", "llm_metrics"), ("lora", "r")])
        section = _at(config, target[:1])
        if section is not None:
            section[target[1]] = "[]"
    elif kind == "training part" and isinstance(config.get("training"), dict):
        config["training"].pop(rng.choice(["training_args", "sft_args"]), None)
    elif kind == "other value":
        path, value = rng.choice([(("training", "training_args", "num_train_epochs"), "1.5"),
                                  (("inference", "max_new_tokens"), "\"many\""),
                                  (("model", "hf_model_ckpt"), "5"), (("qa", "llm_metrics"), "jaccard"),
                                  (("ablation", "study_name"), "[a, b]"), (("data", "train_size"), "x")])
        section = _at(config, path[:-1])
        if section is not None:
            section[path[-1]] = value


def _at(config: dict, path: tuple):
    node = config
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _lora(rng, mistakes: int, sweeping: bool) -> dict:
    lora = {}
    for key, values in LORA_OK.items():
        if rng.random() < 0.45:
            lora[key] = rng.choice(values) if rng.random() < 0.6 else values[0]
        if sweeping and rng.random() < 0.12:
            lora[key] = rng.choice(LORA_SWEEP[key])
    for _ in range(mistakes):
        key = rng.choice(list(LORA_BAD))
        lora[key] = rng.choice(LORA_BAD[key] + LORA_SWEEP[key])
    if rng.random() < 0.15:
        key = rng.choice(list(DROPPED))
        lora[key] = rng.choice(DROPPED[key])
    return lora


def _block(mapping: dict, depth: int) -> str:
    lines = []
    for key, value in mapping.items():
        indent = "  " * depth
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:" + (" {}" if not value else ""))
            if value:
                lines.append(_block(value, depth + 1).rstrip("\n"))
        else:
            lines.append(f"{indent}{key}: {value}")
    return "\n".join(lines) + "\n"
