"""Trainable parameters by module kind, the saved adapter's size, and the scaling PEFT applies.

Counts follow PEFT's layer construction (lora/layer.py: lora_A r×in, lora_B out×r, an embedding's
lora_embedding_A/B, a ParamWrapper's r×experts per side) and its saving (utils/save_and_load.py
get_peft_model_state_dict); tests/explain checks both against the real PEFT.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from lora_lint.explain.placement import kind_labels
from lora_lint.explain.report import Numbers, Scaling

_EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")  # peft.utils.other.EMBEDDING_LAYER_NAMES


def numbers(inventory: dict, stacks: list[dict], result, lora: dict) -> Numbers:
    records = {record["name"]: record for record in inventory["modules"]}
    kind_of = _kind_labels(inventory, list(result.rank), stacks)
    lora_bias = bool(lora.get("lora_bias"))
    by_kind: Counter = Counter()
    for name, rank in result.rank.items():
        by_kind[kind_of[name]] += lora_parameters(records, name, rank, lora_bias, name in result.target_parameters)
    lora_total = sum(by_kind.values())

    saved_modules = result.modules_to_save
    copies = {name: _subtree_parameters(records, name) for name in saved_modules}
    bias = _trainable_bias(inventory, records, result, lora.get("bias", "none"), saved_modules)
    if bias:
        by_kind["bias"] = bias
    for name, count in copies.items():
        by_kind[f"modules_to_save: {name}"] = count

    embeddings = _saved_embeddings(inventory, result, lora)
    saved = (lora_total + sum(copies.values()) + _saved_bias(records, result, lora.get("bias", "none"), copies)
             + sum(_own_weight(records[name]) for name in embeddings))
    rslora = bool(lora.get("use_rslora"))
    return Numbers(
        trainable_parameters=result.trainable_parameters,
        total_parameters=inventory["total_parameters"] + result.trainable_parameters,
        trainable_by_kind=dict(sorted(by_kind.items(), key=lambda item: -item[1])),
        saved_parameters=saved,
        adapter_bytes={"fp32": saved * 4, "bf16": saved * 2},
        scaling=_scaling(result, kind_of, rslora),
        rslora=rslora,
        modules_to_save_parameters=sum(copies.values()),
        saved_embeddings=embeddings,
    )


def lora_parameters(records: dict, name: str, rank: int, lora_bias: bool, is_parameter: bool) -> int:
    """Elements of the LoRA weights PEFT adds for one target (a module, or a parameter of target_parameters)."""
    if is_parameter:
        module, _, param = name.rpartition(".")
        record = records[module]
        shape = (record.get("extra_parameters") or {}).get(param) or record["weight_shape"]
        experts = shape[0] if len(shape) == 3 else 1
        return rank * experts * (shape[-1] + shape[-2])
    record = records[name]
    kind, in_features, out_features = record["lora_kind"], record["in_features"], record["out_features"]
    if kind == "embedding":
        return rank * (in_features + out_features)
    kernel = record["weight_shape"][2:] if kind in ("conv1d", "conv2d", "conv3d") else []
    groups = in_features // record["weight_shape"][1] if kernel else 1
    count = rank * in_features * math.prod(kernel or [1]) + out_features * (rank // groups)
    return count + (out_features if lora_bias else 0)


def _kind_labels(inventory: dict, names: list[str], stacks: list[dict]) -> dict[str, str]:
    """Each target's module kind, labelled as in the picture; a target outside the layers is its own name."""
    labels = {}
    for stack in stacks:
        prefix = stack["path"] + "."
        inner_of = {}
        for name in names:
            index, _, inner = name[len(prefix):].partition(".") if name.startswith(prefix) else ("", "", "")
            if index.isdigit() and inner:
                inner_of[name] = inner
        distinct = sorted(set(inner_of.values()))
        label_of = dict(zip(distinct, kind_labels(distinct, inventory, prefix)))
        # Several stacks (encoder and decoder, vision and text) have kinds of the same name: say whose.
        stack_name = "" if len(stacks) == 1 else f"{stack['path']}: "
        labels.update({name: stack_name + label_of[inner] for name, inner in inner_of.items()})
    return {name: labels.get(name, name) for name in names}


def _subtree_parameters(records: dict, name: str) -> int:
    prefix = name + "."
    return sum(record["parameters"] or 0 for key, record in records.items() if key == name or key.startswith(prefix))


def _bias(record: dict) -> int:
    extra = sum(math.prod(shape) for shape in (record.get("extra_parameters") or {}).values())
    return max(0, (record["parameters"] or 0) - _own_weight(record) - extra)


def _own_weight(record: dict) -> int:
    return math.prod(record["weight_shape"]) if record.get("weight_shape") is not None else 0


def _inside(name: str, modules) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


def _trainable_bias(inventory: dict, records: dict, result, bias: str, saved_modules: list[str]) -> int:
    """Biases PEFT unfreezes (mark_only_adapters_as_trainable); the copies of modules_to_save are counted whole.
    A tied bias is one tensor: counted once, and frozen with the module_to_save original it belongs to."""
    if bias == "all":
        owners = [name for name, record in records.items() if _bias(record)]
    elif bias == "lora_only":
        owners = [name for name in result.targets if _bias(records[name])]
    else:
        return 0
    group_of = {name: tuple(group) for group in inventory.get("tied_parameters") or [] for name in group}
    counted: set = set()
    total = 0
    for owner in owners:
        group = group_of.get(f"{owner}.bias", (f"{owner}.bias",))
        if group in counted or any(_inside(name.rpartition(".")[0], saved_modules) for name in group):
            continue
        counted.add(group)
        total += _bias(records[owner])
    return total


def _saved_bias(records: dict, result, bias: str, copies: dict[str, int]) -> int:
    """The bias tensors get_peft_model_state_dict adds: bias="all" takes every `.bias` key of the model's state
    dict, which holds a saved module's original and its copy; "lora_only" the biases under the LoRA layers."""
    if bias == "all":
        return (sum(_bias(record) for record in records.values())
                + sum(_bias(record) for name, record in records.items() if _inside(name, copies)))
    if bias == "lora_only":
        return sum(_bias(records[name]) for name in result.targets)
    return 0


def _saved_embeddings(inventory: dict, result, lora: dict) -> list[str]:
    """Embedding layers saved whole: PEFT's save_embedding_layers="auto" turns on when target_modules names
    `embed_tokens` or `lm_head`, and then saves the input and output embeddings that are LoRA layers."""
    target_modules = result.effective_target_modules
    if isinstance(target_modules, str):
        if target_modules == "all-linear":
            return []
        targeted = any(re.fullmatch(target_modules, record["name"])
                       for record in inventory["modules"]
                       if any(re.match(rf"(.*\.)?{e}$", record["name"]) for e in _EMBEDDING_LAYER_NAMES))
    else:
        targeted = any(name in (target_modules or []) for name in _EMBEDDING_LAYER_NAMES)
    if not targeted or lora.get("trainable_token_indices") is not None:
        return []
    embeddings = [_input_embedding(inventory), inventory.get("output_embedding")]
    return [name for name in dict.fromkeys(embeddings) if name and name in result.targets]


def _input_embedding(inventory: dict) -> str | None:
    """The input embedding: the first Embedding in the model whose row count is the vocabulary."""
    output = inventory.get("output_embedding")
    records = {record["name"]: record for record in inventory["modules"]}
    vocab = records[output]["out_features"] if output in records else None
    for record in inventory["modules"]:
        if record["lora_kind"] == "embedding" and (vocab is None or record["in_features"] == vocab):
            return record["name"]
    return None


def _scaling(result, kind_of: dict[str, str], rslora: bool) -> list[Scaling]:
    groups: dict[tuple[int, float], list[str]] = defaultdict(list)
    for name, rank in result.rank.items():
        groups[(rank, result.alpha[name])].append(name)
    rows = []
    for (rank, alpha), names in sorted(groups.items(), key=lambda item: -len(item[1])):
        scale = alpha / math.sqrt(rank) if rslora else alpha / rank
        rows.append(Scaling(rank, alpha, scale, len(names), sorted(set(kind_of[n] for n in names))))
    return rows
