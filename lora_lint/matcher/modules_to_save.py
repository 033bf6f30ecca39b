"""``modules_to_save``: utils/other.py ``_set_trainable`` and ``ModulesToSaveWrapper``."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING

from lora_lint.matcher.constants import ADAPTER_NAME, CONTAINER_CLASSES
from lora_lint.matcher.results import PeftRaise
from lora_lint.matcher.tree import Module, module_dict, set_trainable_all

if TYPE_CHECKING:
    from lora_lint.matcher.replay import Replay


def set_trainable(replay: Replay, root: Module, module_names: list[str], strip_prefix: str = "") -> None:
    if not module_names:
        return
    keys = [key for key, _ in root.named_modules(remove_duplicate=False)]
    for key in keys:
        if any(key.endswith(name) for name in module_names):
            wrap_module_to_save(replay, root, key, check_module=True, report_prefix=strip_prefix)

def wrap_module_to_save(replay: Replay, root: Module, key: str, check_module: bool, report_prefix: str = "") -> None:
    atoms = key.split(".")
    parent = root.get_submodule(".".join(atoms[:-1]))
    try:
        grandparent = root.get_submodule(".".join(atoms[:-2]))
    except AttributeError:
        grandparent = None
    target = root.get_submodule(key)
    if check_module and grandparent is not None and grandparent.role == "lora":
        raise PeftRaise(
            "ValueError",
            "modules_to_save_inside_lora_layer",
            f"You are trying to target a module with ModulesToSaveWrapper ('{key}') that is a child of a LoRA "
            f"layer. Please ensure that the adapter name, '{ADAPTER_NAME}', does not conflict with any of the "
            "targeted modules.",
        )
    if check_module and grandparent is not None and grandparent.role == "mts":
        return
    if target.role == "mts":
        return
    if check_module and (target.cls in CONTAINER_CLASSES or target.role == "lora"):
        raise PeftRaise(
            "TypeError",
            "modules_to_save_invalid_type",
            f"modules_to_save cannot be applied to modules of type {target.cls} ('{key}')",
        )
    copy_ = copy.deepcopy(target)
    set_trainable_all(target, False)
    set_trainable_all(copy_, True)
    wrapper = Module("ModulesToSaveWrapper", role="mts")
    wrapper.children["original_module"] = target
    wrapper.children["modules_to_save"] = module_dict({ADAPTER_NAME: copy_})
    parent.children[atoms[-1]] = wrapper
    # Report the wrapped module under its model name, whatever wrapper it was reached through.
    name = re.sub(r"\.(modules_to_save\.default|original_module)(?=\.|$)", "", key)
    replay.wrapped.append(name.removeprefix(report_prefix))

