"""axolotl 0.21.0, read the way `axolotl train` reads a file.

`load_cfg` reads the file with `yaml.safe_load`, `validate_config` validates it with pydantic (lax mode, unknown
keys dropped, then `model_dump(exclude_none=True)`: a key the file leaves out reads as None), and
`loaders/adapter.py:_build_peft_lora_config` builds LoraConfig from its own keys (kwargs.py): `lora_r` and
`lora_alpha` have no default and reach PEFT as None, `bias` is always `none`, the task type follows the model class,
`lora_target_linear: true` adds axolotl's own scan of the model's Linear modules (linear.py), and with
`lora_model_dir` the saved adapter is loaded instead, so the LoRA keys of the file do nothing.
"""

from __future__ import annotations

from lora_lint.config import LoraConfigView, Setting, TrainerIssue, TrainerReading
from lora_lint.source import Node

NAME = "axolotl"
VERSION = "0.21.0"
# What `pip install axolotl==0.21.0` installs (its wheel's Requires-Dist).
PINS = {"peft": "==0.21.2", "transformers": "==5.20.1"}
MODEL_CLASS = "AutoModelForCausalLM"

_ADAPTERS = ("lora", "qlora")
# Keys only axolotl's layout has, next to `adapter: lora|qlora`.
_AXOLOTL_KEYS = ("base_model", "lora_r", "lora_alpha", "lora_target_modules", "lora_target_linear", "lora_dropout",
                 "lora_model_dir", "micro_batch_size", "sequence_len")


def looks_like(root: Node) -> bool:
    """`adapter:` (even empty: a full fine-tune that keeps its LoRA keys) beside axolotl's keys, or `base_model`
    beside `lora_*` keys."""
    keys = {str(key.value) for key, _ in root.pairs if key.kind == "scalar"}
    if "adapter" in keys:
        return bool(keys & set(_AXOLOTL_KEYS))
    return "base_model" in keys and any(key.startswith("lora_") for key in keys)


def read(root: Node, force: bool) -> TrainerReading | None:
    if not (force or looks_like(root)):
        return None
    from lora_lint.trainers.axolotl.kwargs import build_view
    from lora_lint.trainers.axolotl.validate import check, unknown_keys
    from lora_lint.trainers.llmtune.values import python_value

    data = python_value(root)
    cfg, issues = check(data, root)
    issues = unknown_keys(root) + issues
    if cfg is not None and cfg.get("adapter") not in _ADAPTERS:
        issues.append(_no_lora(root, cfg))
    elif cfg is not None and cfg.get("lora_model_dir"):
        issues.append(_adapter_loaded(root, cfg))
    elif cfg is not None:
        issues += _fails_in_peft(root, cfg)
    for issue in issues:
        issue.runs = (1,)
    view = build_view(root, cfg, issues)
    return TrainerReading(NAME, [view], 1, dict(PINS), failure=next((i for i in issues if i.blocking), None))


def _no_lora(root: Node, cfg: dict) -> TrainerIssue:
    from lora_lint.trainers.axolotl.kwargs import LORA_KEYS

    written = [key for key in LORA_KEYS if root.get(key) is not None]
    adapter = cfg.get("adapter")
    what = ("without an `adapter` axolotl fine-tunes every weight of the model" if not adapter else
            f"`adapter: {adapter}` is not LoRA")
    return TrainerIssue(
        "ignores-key", root.key_node("adapter") or (root.key_node(written[0]) if written else root),
        f"{what}: {', '.join(f'`{key}`' for key in written) or 'the LoRA keys'} do nothing",
        "write `adapter: lora` (or `qlora` with `load_in_4bit: true`) to train a LoRA adapter", path=("adapter",))


def _adapter_loaded(root: Node, cfg: dict) -> TrainerIssue:
    from lora_lint.trainers.axolotl.kwargs import LORA_KEYS

    written = [key for key in LORA_KEYS if root.get(key) is not None]
    moot = f": {', '.join(f'`{key}`' for key in written)} do nothing" if written else ""
    return TrainerIssue(
        "ignores-key", root.get("lora_model_dir"),
        f"with `lora_model_dir` axolotl loads the saved adapter (`PeftModel.from_pretrained`) and its "
        f"adapter_config.json decides the LoRA settings{moot}",
        "remove `lora_model_dir` to train a new adapter with these settings, or the LoRA keys to say what trains",
        path=("lora_model_dir",))


def _fails_in_peft(root: Node, cfg: dict) -> list[TrainerIssue]:
    """What axolotl's validation lets through and PEFT then stops on, after the model has loaded."""
    at = root.key_node("adapter") or root
    found = []
    for key, error in (("lora_r", "'<=' not supported between 'NoneType' and 'int'"),
                       ("lora_alpha", "unsupported operand type(s) for /: 'NoneType' and 'int'")):
        if cfg.get(key) is None:
            found.append(TrainerIssue(
                "missing-section", root.key_node(key) or at,
                f"`{key}` is required in practice: axolotl has no default for it and passes None to LoraConfig, "
                f"so `get_peft_model` fails after the model has loaded (TypeError: {error})",
                f"write `{key}:` with an integer, e.g. `{key}: {16 if key == 'lora_r' else 32}`", path=(key,),
                raises="TypeError"))
    return found


def model_ref(root: Node) -> Setting | None:
    key_node, value_node = root.key_node("base_model"), root.get("base_model")
    return Setting("base_model", key_node, value_node) if key_node is not None else None


def json_schema(lora_section: dict) -> dict:
    """An axolotl config: its own flat keys (`lora_r`, `lora_target_modules`, ...) and `base_model`."""
    from lora_lint.trainers.axolotl.kwargs import FROM_FILE

    properties = {key: lora_section["properties"][peft_key]
                  for key, peft_key in FROM_FILE.items() if peft_key in lora_section["properties"]}
    properties["base_model"] = {"type": "string"}
    properties["adapter"] = {"enum": list(_ADAPTERS)}
    return {"type": "object", "properties": properties}
