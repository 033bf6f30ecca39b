"""LLaMA-Factory's v1 layout: `model:` and `peft_config: {name: lora, ...}` (v1/plugins/model_plugins/peft.py
`get_lora_model`). It passes seven keys of `peft_config` to LoraConfig with its own defaults (r 8, lora_alpha 16,
lora_dropout 0.05), validates none of them, ignores the rest, and does not comma-split: `target_modules: all` is its
own scan (class name contains `Linear`, not `Embedding`; names containing `lm_head`, `output_layer` or `output`
skipped), any other string becomes a one-entry list.
"""

from __future__ import annotations

from functools import partial

from lora_lint.config import LoraConfigView, Setting, TrainerIssue, TrainerReading, coerced_node
from lora_lint.source import Node

_DEFAULTS = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "use_rslora": False, "use_dora": False,
             "target_modules": "all", "modules_to_save": None}
# Keys get_lora_model reads besides the LoRA kwargs.
_OTHER_KEYS = {"name", "adapter_name_or_path", "export_dir", "export_size", "export_hub_model_id", "infer_dtype",
               "export_legacy_format"}


def read_v1(root: Node, section: Node) -> TrainerReading:
    from lora_lint.suggest import did_you_mean
    from lora_lint.trainers.llamafactory import MODEL_CLASS, NAME, PINS, omegaconf_value

    entries = {str(k.value) if k.kind == "scalar" else k.text: (k, v) for k, v in section.pairs}
    issues = []
    for key, (key_node, _) in entries.items():
        if key not in _DEFAULTS and key not in _OTHER_KEYS:
            issues.append(TrainerIssue(
                "ignores-key", key_node, f"unknown key `{key}` in `peft_config`: LLaMA-Factory v1 reads only its "
                "own keys of the LoRA plugin and ignores it", did_you_mean(key, sorted(_DEFAULTS)),
                path=("peft_config", key)))
    resumed = "adapter_name_or_path" in entries and omegaconf_value(entries["adapter_name_or_path"][1])
    view = LoraConfigView(NAME, section, {}, {}, section_key=root.key_node("peft_config"),
                          model_class=MODEL_CLASS, issues=issues, kwargs_known=not resumed)
    model = root.get("model")
    if model is not None:
        view.model_ref = Setting("model", root.key_node("model"), model)
    view.defaults.update(task_type="CAUSAL_LM", inference_mode=False)
    for kwarg, default in _DEFAULTS.items():
        if kwarg not in entries:
            view.defaults[kwarg] = default
            continue
        key_node, value_node = entries[kwarg]
        value = omegaconf_value(value_node)
        if kwarg == "target_modules" and value == "all":
            view.defaults[kwarg] = None
            continue
        if kwarg == "target_modules" and isinstance(value, str):
            value_node = Node("seq", value_node.span, text=value_node.text,
                              items=[Node("scalar", value_node.span, value=value, text=value)])
            value = [value]
        view.settings[kwarg] = Setting(kwarg, key_node, coerced_node(value_node, value))
    target = entries.get("target_modules")
    if target is None or omegaconf_value(target[1]) == "all":
        view.from_model = partial(_set_all_linear, view)
    return TrainerReading(NAME, [view], 1, dict(PINS))


def _set_all_linear(view: LoraConfigView, inventory: dict) -> None:
    view.defaults["target_modules"] = _all_linear(inventory)


def _all_linear(inventory: dict) -> list[str]:
    from lora_lint.trainers.llamafactory.targets import linear_leaf_names

    return linear_leaf_names(inventory, ("lm_head", "output_layer", "output"))
