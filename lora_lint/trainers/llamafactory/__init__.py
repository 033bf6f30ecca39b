"""LLaMA-Factory (`llamafactory` 0.9.5), read the way `llamafactory-cli train FILE` reads a file.

The flat layout (`finetuning_type: lora`, `model_name_or_path`, `lora_rank`, `lora_target`, ...) goes through
hparams/parser.py `get_train_args` (arguments.py: OmegaConf, then HfArgumentParser with no type conversion, unknown
keys fatal) and model/adapter.py `_setup_lora_tuning`, which builds `LoraConfig(task_type=CAUSAL_LM, r=lora_rank,
lora_alpha=lora_alpha or 2 * lora_rank, target_modules=lora_target split on commas, modules_to_save=
additional_target, ...)`; `lora_target: all` and composite (multimodal) models need the model (targets.py).
The v1 layout (`model:`, `peft_config: {name: lora, ...}`; v1/plugins/model_plugins/peft.py) passes seven keys of
`peft_config` with its own defaults and checks nothing. Checks that depend on the machine the run starts on (bf16
support, DeepSpeed, the launcher) are out of scope.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from lora_lint.config import LoraConfigView, Setting, TrainerIssue, TrainerReading, coerced_node
from lora_lint.diagnostics import Position, Span
from lora_lint.source import Node

NAME = "llamafactory"
VERSION = "0.9.5"
# What `pip install llamafactory==0.9.5` installs (its wheel's Requires-Dist).
PINS = {"peft": ">=0.18.0,<=0.18.1", "transformers": ">=4.55.0,<=5.6.0,!=4.52.0,!=4.57.0"}
MODEL_CLASS = "AutoModelForCausalLM"
# How the LoRA keys are written in this dialect: rules' messages use these names.
VOCABULARY = {"r": "lora_rank", "target_modules": "lora_target", "modules_to_save": "additional_target"}
# Duplicate keys: OmegaConf's loader raises on them (LL002 says so for this dialect).
DUPLICATE_KEYS = "OmegaConf, which LLaMA-Factory loads the file with, raises on a duplicate key: the run never starts"

# LLaMA-Factory's own keys that, with `model_name_or_path`, mark a flat file as one of its configs.
_MARKERS = {"finetuning_type", "stage", "lora_rank", "lora_target", "template", "additional_target"}
# LoraConfig kwarg <- the FinetuningArguments field adapter.py passes as it.
_KWARG_FIELDS = {"r": "lora_rank", "target_modules": "lora_target", "lora_alpha": "lora_alpha",
                 "lora_dropout": "lora_dropout", "use_rslora": "use_rslora", "use_dora": "use_dora",
                 "modules_to_save": "additional_target", "init_lora_weights": "pissa_init"}
_BOOL_FIELDS = ("use_rslora", "use_dora", "pissa_init")
# The keys whose rejection means the LoRA kwargs themselves are not known.
_LORA_CHECKED = set(_KWARG_FIELDS.values()) | {"finetuning_type", "pissa_iter", "create_new_adapter",
                                                "adapter_name_or_path", "quantization_bit", "resize_vocab"}
# OmegaConf's YAML loader adds this float resolver (`1e-4` is a float there, a string for PyYAML).
_OMEGACONF_FLOAT = re.compile(r"^(?:[-+]?[0-9]+(?:_[0-9]+)*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                              r"|[-+]?[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)|\.[0-9]+(?:_[0-9]+)*(?:[eE][-+][0-9]+)?"
                              r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def read(root: Node, force: bool) -> TrainerReading | None:
    keys = {str(k.value) for k, _ in root.pairs if k.kind == "scalar"}
    peft_config = root.get("peft_config")
    if peft_config is not None and peft_config.kind == "map" and _scalar(peft_config.get("name")) == "lora":
        from lora_lint.trainers.llamafactory.v1 import read_v1

        return read_v1(root, peft_config)
    finetuning_type = _scalar(root.get("finetuning_type"))
    looks_like = "finetuning_type" in keys or ("model_name_or_path" in keys and keys & _MARKERS)
    if not force and (not looks_like or finetuning_type not in (None, "lora")):
        return None
    return _read_flat(root)


def _scalar(node: Node | None) -> Any:
    return node.value if node is not None and node.kind == "scalar" else None


def omegaconf_value(node: Node) -> Any:
    """The Python value OmegaConf.load builds (YAML 1.1 as PyYAML, plus its float resolver, timestamps as text)."""
    if node.kind == "map":
        return {str(k.value) if k.kind == "scalar" else k.text: omegaconf_value(v) for k, v in node.pairs}
    if node.kind == "seq":
        return [omegaconf_value(item) for item in node.items]
    plain = isinstance(node.value, str) and not node.quoted and node.value == node.text
    if plain and _OMEGACONF_FLOAT.match(node.text):
        return float(node.text.replace("_", ""))
    return node.value


def _read_flat(root: Node) -> TrainerReading:
    from lora_lint.suggest import did_you_mean
    from lora_lint.trainers.llamafactory import arguments

    entries = {str(k.value) if k.kind == "scalar" else k.text: (k, v) for k, v in root.pairs}
    written = {key: omegaconf_value(value) for key, (_, value) in entries.items()}
    issues: list[TrainerIssue] = []
    args, rejection = arguments.finetuning_arguments(written)
    if written.get("model_name_or_path") is None:  # ModelArguments.__post_init__ runs first
        rejection = arguments.Rejection("ValueError", "Please provide `model_name_or_path`.", "model_name_or_path")
    if rejection is None:
        rejection = arguments.model_checks(written, args)
    if rejection is not None:
        issues.append(_rejects(rejection, entries, root))
    known = arguments.all_known_keys()
    for key, (key_node, _) in entries.items():
        if key not in known:
            hint = did_you_mean(key, sorted(known))
            issues.append(TrainerIssue(
                "rejects", key_node,
                f"unknown key `{key}`: LLaMA-Factory's argument parser raises ValueError (\"Some keys are not used "
                f"by the HfArgumentParser\") and the run never starts",
                hint or "remove it; `ALLOW_EXTRA_ARGS=1` makes LLaMA-Factory ignore unknown keys",
                path=(key,), raises="ValueError"))
    target = args["lora_target"]
    is_lora = args["finetuning_type"] == "lora"
    resumed = is_lora and written.get("adapter_name_or_path") is not None and not args["create_new_adapter"]
    if is_lora and not resumed and not isinstance(target, list) and "lora_target" in entries:
        key_node = entries["lora_target"][0]
        issues.append(TrainerIssue(
            "rejects", key_node,
            f"`lora_target` must be a comma-separated string or a list, not {written['lora_target']!r}: "
            "model/adapter.py takes its len() and crashes with TypeError after loading the model",
            "write `lora_target: q_proj,v_proj` or `lora_target: all`", path=("lora_target",), raises="TypeError"))
    # The LoRA kwargs are known unless the LoRA settings themselves are rejected (an unknown key elsewhere, a
    # missing model: the kwargs are what PEFT gets once that is fixed), or a saved adapter replaces them.
    lora_rejected = any(i.blocking and i.path and i.path[0] in _LORA_CHECKED for i in issues)
    view = _view(root, entries, written, args, issues, kwargs_known=is_lora and not lora_rejected and not resumed)
    if resumed:
        view.issues += _resumed(entries)
    elif view.kwargs_known:
        view.issues += _untyped(entries, written, args) + _all_among_others(view, args)
    failure = _duplicate(root) or next((issue for issue in issues if issue.blocking), None)
    return TrainerReading(NAME, [view], 1, dict(PINS), failure=failure)


def _duplicate(node: Node) -> TrainerIssue | None:
    """OmegaConf's loader raises on the first repeated key of any mapping (LL002 reports it, this is the verdict)."""
    seen: set[str] = set()
    for key_node, value_node in node.pairs:
        name = str(key_node.value) if key_node.kind == "scalar" else key_node.text
        if name in seen:
            return TrainerIssue("rejects", key_node, f"found duplicate key {name}", path=(name,),
                                raises="ConstructorError")
        seen.add(name)
        found = _duplicate(value_node) if value_node.kind == "map" else None
        if found is not None:
            return found
    return None


def _rejects(rejection, entries: dict, root: Node) -> TrainerIssue:
    at = entries[rejection.key][1] if rejection.key in entries else root
    return TrainerIssue("rejects", at, f"LLaMA-Factory rejects this: {rejection.raises}: {rejection.message}",
                        None, path=(rejection.key,), raises=rejection.raises)


def _resumed(entries: dict) -> list[TrainerIssue]:
    """With `adapter_name_or_path` (and no `create_new_adapter`), adapter.py loads the saved adapter with
    PeftModel.from_pretrained: its adapter_config.json decides everything, the file's LoRA keys are not read."""
    lora_keys = [key for key in entries if key in set(_KWARG_FIELDS.values())]
    return [TrainerIssue(
        "ignores-key", entries[key][0],
        f"`{key}` has no effect: `adapter_name_or_path` resumes a saved adapter, whose own adapter_config.json sets "
        "the LoRA settings", "remove it, or set `create_new_adapter: true` to train a new adapter with these "
        "settings", path=(key,)) for key in lora_keys]


def _all_among_others(view: LoraConfigView, args: dict) -> list[TrainerIssue]:
    target = view.settings.get("target_modules")
    if target is None or target.value_node.kind != "seq" or len(args["lora_target"]) < 2:
        return []
    return [TrainerIssue(
        "ignores-key", item,
        "`all` among other entries of `lora_target` is passed to PEFT as a module name, which no module has: "
        "LLaMA-Factory scans for all linear layers only when `lora_target` is exactly `all`",
        "write `lora_target: all` alone, or list the module names", path=("lora_target",))
        for item in target.value_node.items if item.value == "all"]


def _untyped(entries: dict, written: dict, args: dict) -> list[TrainerIssue]:
    """LLaMA-Factory converts no types: what a value of the wrong type turns into on its way to LoraConfig."""
    found = []
    rank = written.get("lora_rank")
    if "lora_rank" in entries and not written.get("lora_alpha") and type(rank) is not int:
        found.append(TrainerIssue(
            "coerces", entries["lora_rank"][1],
            f"`lora_alpha` defaults to `lora_rank * 2`, and LLaMA-Factory converts no types: {rank!r} * 2 is "
            f"{args['lora_alpha']!r}", "write `lora_rank` as a plain integer, e.g. `lora_rank: 8`",
            path=("lora_rank",)))
    for key in _BOOL_FIELDS:
        value = written.get(key)
        if key in entries and type(value) is not bool and value is not None:
            state = "on" if value else "off"
            found.append(TrainerIssue(
                "coerces", entries[key][1],
                f"`{key}` is {value!r}, not a boolean: LLaMA-Factory passes it as written and Python reads it as "
                f"{bool(value)}, so it is {state}", f"write `{key}: true` or `{key}: false`, unquoted",
                path=(key,)))
    return found


def split_target(value_node: Node, items: list[str]) -> Node:
    """`lora_target: q_proj, v_proj` as the list LLaMA-Factory makes of it, each entry at its place in the string
    (a one-line scalar; else each entry at the whole value). The nodes have no text of their own to edit."""
    text = value_node.text
    start = value_node.span.start
    one_line = value_node.kind == "scalar" and value_node.span.start.line == value_node.span.end.line \
        and "," in text and "\\" not in text
    offset = 1 if value_node.quoted else 0
    nodes, search = [], 0
    for item in items:
        span = value_node.span
        where = text.find(item, search) if one_line and item else -1
        if where >= 0:
            column = start.column + offset + where
            span = Span(Position(start.line, column), Position(start.line, column + len(item)))
            search = where + len(item)
        nodes.append(Node("scalar", span, value=item, text=item))
    return Node("seq", value_node.span, text=value_node.text, items=nodes)


def _view(root: Node, entries: dict, written: dict, args: dict, issues: list, kwargs_known: bool) -> LoraConfigView:
    from lora_lint.trainers.llamafactory.arguments import lora_kwargs, scans_all

    settings: dict[str, Setting] = {}
    view = LoraConfigView(NAME, root, settings, {}, model_class=MODEL_CLASS, issues=issues,
                          kwargs_known=kwargs_known, vocabulary=dict(VOCABULARY))
    if "model_name_or_path" in entries:
        key_node, value_node = entries["model_name_or_path"]
        view.model_ref = Setting("model_name_or_path", key_node, value_node)
    if "trust_remote_code" in entries:
        view.extras["trust_remote_code"] = Setting("trust_remote_code", *entries["trust_remote_code"])
    if not kwargs_known:
        return view
    kwargs = lora_kwargs(args)
    for kwarg, value in kwargs.items():
        field = _KWARG_FIELDS.get(kwarg)
        if kwarg == "target_modules" and scans_all(value):
            view.defaults[kwarg] = None  # the model decides (from_model)
            continue
        if field not in entries or (kwarg == "lora_alpha" and not written.get("lora_alpha")):
            view.defaults[kwarg] = value  # a falsy `lora_alpha` is replaced by `lora_rank * 2` too
            continue
        key_node, value_node = entries[field]
        if kwarg == "target_modules" and value_node.kind == "scalar":
            node = split_target(value_node, value)
        elif kwarg == "modules_to_save" and value_node.kind == "scalar" and isinstance(value, list):
            node = split_target(value_node, value)
        else:
            node = coerced_node(value_node, value)
        settings[kwarg] = Setting(kwarg, key_node, node)
    view.from_model = partial(set_model_targets, view, args=args, written=entries.get("lora_target"))
    return view


def set_model_targets(view: LoraConfigView, inventory: dict, args: dict, written: tuple | None) -> None:
    """The `target_modules` adapter.py computes on this model, at the `lora_target` value when the file has one;
    nothing changes when it passes `lora_target` as split (a plain model, no `all`)."""
    from lora_lint.trainers.llamafactory.arguments import scans_all
    from lora_lint.trainers.llamafactory.targets import COMPOSITE_MODELS, model_targets

    if not scans_all(args["lora_target"]) and inventory.get("model_type") not in COMPOSITE_MODELS:
        return
    targets = model_targets(inventory, args)
    if not targets and scans_all(args["lora_target"]):
        classes = sorted({m["class"] for m in inventory["modules"] if m.get("lora_kind") and "lm_head" not in m["name"]}
                         - {"Embedding"})
        view.issues.append(TrainerIssue(
            "coerces", written[1] if written is not None else view.anchor,
            "`lora_target: all` finds no layer in this model: LLaMA-Factory's scan keeps only modules whose class "
            f"name contains `Linear`, and this model's layers are {', '.join(classes) or 'of other classes'}; "
            "LoraConfig gets `target_modules=[]`", "list the module names (`lora-lint modules MODEL` prints them)",
            path=("lora_target",)))
    if written is None:
        view.defaults["target_modules"] = targets
        return
    key_node, value_node = written
    items = [Node("scalar", value_node.span, value=name, text=name) for name in targets]
    view.defaults.pop("target_modules", None)
    view.settings["target_modules"] = Setting("target_modules", key_node,
                                              Node("seq", value_node.span, text=value_node.text, items=items))


def json_schema(lora_section: dict) -> dict:
    """The LoRA keys of a LLaMA-Factory file (FinetuningArguments), flat at the top level."""
    return {
        "type": "object",
        "properties": {
            "model_name_or_path": {"type": "string"},
            "finetuning_type": {"enum": ["lora", "oft", "freeze", "full"]},
            "lora_rank": {"type": "integer"},
            "lora_alpha": {"type": ["integer", "null"]},
            "lora_dropout": {"type": "number"},
            "lora_target": {"type": "string", "description": "comma-separated module names, or `all`"},
            "additional_target": {"type": ["string", "null"]},
            "use_rslora": {"type": "boolean"},
            "use_dora": {"type": "boolean"},
            "pissa_init": {"type": "boolean"},
        },
    }
