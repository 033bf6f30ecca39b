"""A simulated torch module tree: modules, (tied) parameters, the inventory turned into a tree."""

from __future__ import annotations

import math
from typing import Optional

from lora_lint.matcher.constants import ADAPTER_NAME


class Param:
    __slots__ = ("numel", "trainable")

    def __init__(self, numel: int, trainable: bool = False):
        self.numel = numel
        self.trainable = trainable


class Module:
    """A node standing in for an ``nn.Module``. ``role`` is None for model modules, "lora" for LoRA layers
    (BaseTunerLayer), "mts" for ModulesToSaveWrapper; ``info`` is the inventory record of model modules."""

    __slots__ = ("cls", "role", "info", "params", "children", "r", "alpha")

    def __init__(self, cls: str, role: Optional[str] = None, info: Optional[dict] = None):
        self.cls = cls
        self.role = role
        self.info = info
        self.params: dict[str, Param] = {}
        self.children: dict[str, Module] = {}
        self.r: Optional[int] = None
        self.alpha: Optional[float] = None

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True):
        """torch's pre-order walk, iterative: recursive generators cost O(depth) per module on deep trees."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            stack.extend(reversed([(f"{name}.{child_name}" if name else child_name, child)
                                   for child_name, child in module.children.items()]))

    def unique_params(self):
        """Each parameter once (tied ones are one object), in no particular order: callers only sum or set them.
        A plain loop, without the names named_modules builds, since this runs over the whole adapted tree."""
        seen_modules: set[int] = set()
        params: dict[int, Param] = {}
        stack = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen_modules:
                continue
            seen_modules.add(id(module))
            for param in module.params.values():
                params.setdefault(id(param), param)
            stack.extend(module.children.values())
        return params.values()

    def getattr(self, name: str) -> "Module":
        if name in self.children:
            return self.children[name]
        if self.role == "mts":  # AuxiliaryTrainingWrapper.__getattr__ forwards to the active copy
            return self.children["modules_to_save"].children[ADAPTER_NAME].getattr(name)
        raise AttributeError(name)

    def get_submodule(self, path: str) -> "Module":
        module = self
        if path:
            for atom in path.split("."):
                module = module.getattr(atom)
        return module


def get_submodules(root: Module, key: str) -> tuple[Module, Module, str]:
    parent = root.get_submodule(".".join(key.split(".")[:-1]))
    return parent, root.get_submodule(key), key.split(".")[-1]


def set_trainable_all(module: Module, trainable: bool) -> None:
    for param in module.unique_params():
        param.trainable = trainable


def module_dict(entries: dict[str, Module]) -> Module:
    module = Module("ModuleDict")
    module.children.update(entries)
    return module


def prod(shape) -> int:
    return math.prod(shape) if shape else 0


def build_tree(inventory: dict) -> Module:
    """The model as a module tree. Parameters are frozen from the start: PEFT freezes every base parameter when it
    injects the first adapter. Each ``tied_parameters`` group (names of one shared tensor) is one object."""
    shared: dict[str, Param] = {}
    for group in inventory.get("tied_parameters") or []:
        param = Param(0)
        shared.update(dict.fromkeys(group, param))
    by_name: dict[str, Module] = {}
    for record in inventory["modules"]:
        name = record["name"]
        node = by_name[name] = Module(record["class"], info=record)
        if name:
            parent_name, _, child_name = name.rpartition(".")
            by_name[parent_name].children[child_name] = node
        # "parameters" counts the module's own parameters: weight, bias and the extra ones.
        extra = {param_name: prod(shape) for param_name, shape in (record.get("extra_parameters") or {}).items()}
        weight = prod(record.get("weight_shape"))
        own = {"weight": weight} if record.get("weight_shape") is not None else {}
        bias = (record.get("parameters") or 0) - weight - sum(extra.values())
        if bias > 0:
            own["bias"] = bias
        own.update(extra)
        for param_name, numel in own.items():
            param = shared.get(f"{name}.{param_name}" if name else param_name) or Param(numel)
            param.numel = numel
            node.params[param_name] = param
    return by_name[""]


def modules_tied_to_input_embedding(inventory: dict) -> list[str]:
    """PEFT's ``_get_module_names_tied_with_embedding``: the modules sharing the input embedding's weight, but only
    for models whose class declares tied weights. The inventory does not record that declaration; a tied output
    embedding is the sign of it (e.g. BartForSequenceClassification shares its encoder/decoder embeddings but
    declares nothing, so PEFT sees no tie there)."""
    output_embedding = inventory.get("output_embedding")
    order = {record["name"]: position for position, record in enumerate(inventory["modules"])}
    for group in inventory.get("tied_parameters") or []:
        if output_embedding is not None and f"{output_embedding}.weight" in group:
            modules = sorted({name.rpartition(".")[0] for name in group}, key=lambda module: order.get(module, 0))
            return sorted(modules[1:])
    return []


def param_names(root: Module) -> list[str]:
    """``model.named_parameters()`` names (deduplicated, first occurrence wins)."""
    names, seen = [], set()
    for module_name, module in root.named_modules():
        for param_name, param in module.params.items():
            if id(param) not in seen:
                seen.add(id(param))
                names.append(f"{module_name}.{param_name}" if module_name else param_name)
    return names

