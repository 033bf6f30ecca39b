"""The LoraConfig kwargs axolotl 0.21.0 builds: `loaders/adapter.py:_build_peft_lora_config` and
`_build_lora_config_kwargs`, on the validated config (a key the file leaves out reads as None), and its
`find_all_linear_names` for `lora_target_linear: true`, on the model's inventory.
"""

from __future__ import annotations

from typing import Any

from lora_lint.config import LoraConfigView, Setting, TrainerIssue, coerced_node
from lora_lint.source import Node

# Passed as written (after validation), always: LoraConfig kwarg <- axolotl key.
ALWAYS = {"r": "lora_r", "lora_alpha": "lora_alpha", "layers_to_transform": "peft_layers_to_transform",
          "layers_pattern": "peft_layers_pattern", "lora_dropout": "lora_dropout",
          "fan_in_fan_out": "lora_fan_in_fan_out"}
# Passed only when truthy (`if cfg.peft_use_dora: kwargs["use_dora"] = ...`).
WHEN_SET = {"use_dora": "peft_use_dora", "use_rslora": "peft_use_rslora", "rank_pattern": "lora_rank_pattern",
            "alpha_pattern": "lora_alpha_pattern", "layer_replication": "peft_layer_replication",
            "trainable_token_indices": "peft_trainable_token_indices", "modules_to_save": "lora_modules_to_save",
            "init_lora_weights": "peft_init_lora_weights"}
# LoraConfig kwarg <- the axolotl key a user writes for it: the vocabulary of axolotl's messages.
FROM_FILE = {**ALWAYS, **WHEN_SET, "target_modules": "lora_target_modules",
             "target_parameters": "lora_target_parameters", "ensure_weight_tying": "peft_ensure_weight_tying"}
VOCABULARY = {peft_key: key for peft_key, key in FROM_FILE.items() if peft_key != key}
LORA_KEYS = ("lora_r", "lora_alpha", "lora_target_modules", "lora_target_linear", "lora_target_parameters",
             "lora_dropout", "lora_fan_in_fan_out", "lora_modules_to_save", "peft_layers_to_transform",
             "peft_use_dora", "peft_use_rslora", "peft_init_lora_weights")
# find_all_linear_names: a module counts when its class is one of these, or its class name contains "Linear".
_LINEAR_CLASSES = {"Linear", "Linear4bit", "Linear8bitLt"}
_NOT_LINEAR = {"LlamaLinearScalingRotaryEmbedding"}
OUTPUT_EMBEDDING = "lm_head"  # get_linear_embedding_layers(model_type)[1], for every model type


def task_type(model_class: str) -> str:
    """`_get_peft_task_type`: from the class name of the loaded model."""
    if "SequenceClassification" in model_class:
        return "SEQ_CLS"
    if "TokenClassification" in model_class:
        return "TOKEN_CLS"
    return "CAUSAL_LM"


def model_class(cfg: dict) -> str:
    """The class axolotl loads the model with: `model_type` names a transformers class unless it is the default,
    or the model needs its own code (`trust_remote_code`); otherwise AutoModelForCausalLM."""
    named = cfg.get("model_type")
    if named and named != "AutoModelForCausalLM" and not cfg.get("trust_remote_code"):
        return named
    return "AutoModelForCausalLM"


def build_kwargs(cfg: dict, linear_names: list[str] | None = None) -> dict[str, Any]:
    """The kwargs of `LoraConfig(...)` for validated fields `cfg`. `linear_names`: the scan's result, for
    `lora_target_linear: true` (None: not known yet, the written targets only)."""
    get = cfg.get
    targets = get("lora_target_modules") or []
    if get("lora_target_linear"):
        targets = list(dict.fromkeys((targets if isinstance(targets, list) else [targets]) + (linear_names or [])))
    kwargs: dict[str, Any] = {}
    loftq_bits = (get("peft") or {}).get("loftq_config") and get("peft")["loftq_config"]["loftq_bits"]
    if loftq_bits:
        kwargs["loftq_config"] = {"loftq_bits": loftq_bits, "loftq_iter": 1}
        kwargs["init_lora_weights"] = "loftq"
    for peft_key, key in WHEN_SET.items():
        if get(key):
            kwargs[peft_key] = get(key)
    if get("peft_ensure_weight_tying") is not None:
        kwargs["ensure_weight_tying"] = get("peft_ensure_weight_tying")
    kwargs.update({peft_key: get(key) for peft_key, key in ALWAYS.items()})
    kwargs.update(target_modules=targets, target_parameters=get("lora_target_parameters") or [],
                  modules_to_save=get("lora_modules_to_save") or None, exclude_modules=None, bias="none",
                  task_type=task_type(model_class(cfg)))
    if isinstance(kwargs.get("layer_replication"), list):
        kwargs["layer_replication"] = [list(pair) for pair in kwargs["layer_replication"]]
    return kwargs


def find_all_linear_names(inventory: dict) -> list[str]:
    """axolotl's scan on a model: the last name part of every Linear-like module, minus `lm_head`."""
    names = set()
    for module in inventory["modules"]:
        cls = module["class"]
        if cls in _LINEAR_CLASSES or ("Linear" in cls and cls not in _NOT_LINEAR):
            names.add(module["name"].rsplit(".", 1)[-1])
    names.discard(OUTPUT_EMBEDDING)
    return sorted(names)


def build_view(root: Node, cfg: dict | None, issues: list[TrainerIssue]) -> LoraConfigView:
    from lora_lint.trainers.axolotl import NAME, model_ref

    view = LoraConfigView(NAME, root, {}, {}, model_ref=model_ref(root), issues=issues,
                          kwargs_known=cfg is not None and cfg.get("adapter") in ("lora", "qlora")
                          and not cfg.get("lora_model_dir"),
                          vocabulary=dict(VOCABULARY))
    if cfg is None:
        return view
    view.model_class = model_class(cfg)
    if cfg.get("trust_remote_code") is not None:
        view.extras["trust_remote_code"] = Setting("trust_remote_code", root.key_node("trust_remote_code"),
                                                   coerced_node(root.get("trust_remote_code"), cfg["trust_remote_code"]))
    _fill(view, root, cfg, build_kwargs(cfg))
    if cfg.get("lora_target_linear"):
        view.from_model = lambda inventory: _fill(view, root, cfg, build_kwargs(cfg, find_all_linear_names(inventory)))
    return view


def _fill(view: LoraConfigView, root: Node, cfg: dict, kwargs: dict[str, Any]) -> None:
    """Each kwarg at the node it comes from; a kwarg no key of the file sets is one of axolotl's defaults."""
    view.settings.clear()
    view.defaults.clear()
    for peft_key, value in kwargs.items():
        key = FROM_FILE.get(peft_key)
        if peft_key == "target_modules" and cfg.get("lora_target_linear"):
            key = "lora_target_linear"
        value_node = root.get(key) if key is not None and cfg.get(key) is not None else None
        if value_node is None:
            view.defaults[peft_key] = value
            continue
        if key == "lora_target_linear":
            value_node = _scanned(root, value)
        view.settings[peft_key] = Setting(peft_key, root.key_node(key), _coerced(value_node, value))


def _coerced(node: Node, value: Any) -> Node:
    """coerced_node, into mappings too (`lora_rank_pattern: {q_proj: '8'}` reaches PEFT as `{"q_proj": 8}`)."""
    if isinstance(value, dict) and node.kind == "map" and [str(k.value) for k, _ in node.pairs] == list(value):
        pairs = [(key, _coerced(item, value[str(key.value)])) for key, item in node.pairs]
        return Node("map", node.span, text=node.text, pairs=pairs, start=node.start, end=node.end, shared=node.shared)
    if isinstance(value, list) and node.kind == "seq" and len(node.items) == len(value):
        items = [_coerced(item, part) for item, part in zip(node.items, value)]
        return Node("seq", node.span, text=node.text, items=items, start=node.start, end=node.end, shared=node.shared)
    return coerced_node(node, value)


def _scanned(root: Node, targets: list[str]) -> Node:
    """The targets of `lora_target_linear: true`: the written `lora_target_modules` entries at their nodes, the
    scanned names at the `lora_target_linear` value."""
    written = root.get("lora_target_modules")
    written_nodes = [] if written is None else written.items if written.kind == "seq" else [written]
    items = {item.value: item for item in written_nodes if item.kind == "scalar"}
    at = root.get("lora_target_linear")
    nodes = [items.get(name) or Node("scalar", at.span, value=name, text=at.text) for name in targets]
    return Node("seq", at.span, items=nodes, text=at.text)
