"""Predict, without torch, what PEFT's ``get_peft_model`` does with a LoRA config on a model.

The input is a model *inventory* (plain data: the module tree of a transformers model, see
``lora_lint.model.inventory``) and the ``LoraConfig`` keyword arguments as the user wrote them. ``match`` replays
PEFT's injection on a small simulated module tree: the same regexes, in the same order, with the same in-place
rewrites of the config, so that quirks (plain-suffix ``modules_to_save``, fan_in_fan_out flips, the v4->v5 MoE
rewrite, the target-list condensation, ...) come out exactly as PEFT has them.

Semantics follow PEFT 0.21; where a behaviour changed between 0.13 and 0.21 the code branches on the version
(``self.version >= (0, x)`` comparisons) and says which release changed it. Options whose effect is not replayed
(DoRA, layer replication, weight-tying adapters, trainable tokens) are reported as ``unmodelled_option`` warnings. This module must not import torch, transformers or
peft: the linter runs where none of them is installed.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = [
    "MatchResult",
    "PeftErrorInfo",
    "PeftWarningInfo",
    "match",
    "modules_matched_by_entry",
    "layer_index",
    "pattern_key_for",
    "TASK_HEAD_MODULES",
]

ADAPTER_NAME = "default"

# peft/utils/constants.py TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as of 0.21; the second element is the
# first release that knew the model type (older ones raise "Please specify `target_modules`").
_DEFAULT_TARGET_MODULES: dict[str, tuple[list[str] | str, tuple[int, ...]]] = {
    "t5": (["q", "v"], (0, 13)),
    "mt5": (["q", "v"], (0, 13)),
    "bart": (["q_proj", "v_proj"], (0, 13)),
    "gpt2": (["c_attn"], (0, 13)),
    "bloom": (["query_key_value"], (0, 13)),
    "blip-2": (["q", "v", "q_proj", "v_proj"], (0, 13)),
    "opt": (["q_proj", "v_proj"], (0, 13)),
    "gptj": (["q_proj", "v_proj"], (0, 13)),
    "gpt_neox": (["query_key_value"], (0, 13)),
    "gpt_neo": (["q_proj", "v_proj"], (0, 13)),
    "bert": (["query", "value"], (0, 13)),
    "roberta": (["query", "value"], (0, 13)),
    "xlm-roberta": (["query", "value"], (0, 13)),
    "electra": (["query", "value"], (0, 13)),
    "deberta-v2": (["query_proj", "value_proj"], (0, 13)),
    "deberta": (["in_proj"], (0, 13)),
    "layoutlm": (["query", "value"], (0, 13)),
    "llama": (["q_proj", "v_proj"], (0, 13)),
    "llama4": (["q_proj", "v_proj"], (0, 16)),
    "chatglm": (["query_key_value"], (0, 13)),
    "gpt_bigcode": (["c_attn"], (0, 13)),
    "mpt": (["Wqkv"], (0, 13)),
    "RefinedWebModel": (["query_key_value"], (0, 13)),
    "RefinedWeb": (["query_key_value"], (0, 13)),
    "falcon": (["query_key_value"], (0, 13)),
    "btlm": (["c_proj", "c_attn"], (0, 13)),
    "codegen": (["qkv_proj"], (0, 13)),
    "mistral": (["q_proj", "v_proj"], (0, 13)),
    "mixtral": (["q_proj", "v_proj"], (0, 13)),
    "stablelm": (["q_proj", "v_proj"], (0, 13)),
    "phi": (["q_proj", "v_proj", "fc1", "fc2"], (0, 13)),
    "gemma": (["q_proj", "v_proj"], (0, 13)),
    "gemma2": (["q_proj", "v_proj"], (0, 13)),
    "gemma3_text": (["q_proj", "v_proj"], (0, 16)),
    "gemma4": (r".*language_model\..*\.(q_proj|v_proj)", (0, 19)),
    "qwen2": (["q_proj", "v_proj"], (0, 13)),
    "qwen3": (["q_proj", "v_proj"], (0, 16)),
    "nemotron_h": (["q_proj", "k_proj", "v_proj", "o_proj"], (0, 20)),
    "rwkv": (["key", "value", "receptance", "output"], (0, 18)),
    "rwkv7": (["r_proj", "k_proj", "v_proj", "o_proj", "key", "value"], (0, 18)),
}

EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")
SEQ_CLS_HEAD_NAMES = ("score", "classifier")
INCLUDE_LINEAR_LAYERS_SHORTHAND = "all-linear"
MIN_TARGET_MODULES_FOR_OPTIMIZATION = 20
TASK_TYPES = ("SEQ_CLS", "SEQ_2_SEQ_LM", "CAUSAL_LM", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION")
# PeftModelFor{SequenceClassification,TokenClassification,QuestionAnswering} append these to modules_to_save:
# SEQ_CLS before building the tuner (so LoRA keeps off the head), the other two only after it (so all-linear or a
# regex can put LoRA on the head, and wrapping it then fails).
_HEADS_ADDED_BEFORE_TUNER = ("SEQ_CLS",)
TASK_HEAD_MODULES = {
    "SEQ_CLS": ["classifier", "score"],
    "TOKEN_CLS": ["classifier", "score"],
    "QUESTION_ANS": ["qa_outputs"],
}
# PeftModelForCausalLM / PeftModelForSeq2SeqLM read `prepare_inputs_for_generation` off the base model.
_GENERATION_TASKS = ("CAUSAL_LM", "SEQ_2_SEQ_LM")
_MAMBA_MODEL_TYPES = ("falcon_h1", "mamba", "mamba2", "falcon_mamba", "nemotron_h")
_MAMBA_INCOMPATIBLE_TARGETS = ("out_proj", "conv1d")

# transformers >= 5 fused the MoE experts of these model types into 3-d parameters; PEFT >= 0.19 rewrites v4-style
# expert targets into `target_parameters` (peft/utils/transformers_weight_conversion.py). Model types: those of
# transformers 5.24 whose conversion pattern (`_MODEL_TO_CONVERSION_PATTERN`, plus PEFT's own "mixtral" entry) is one
# of the two bases below and that have a checkpoint conversion mapping.
_MOE_CONVERSION_BASE = {
    **dict.fromkeys(["mixtral", "minimax", "minimax_m2"], "mixtral"),
    **dict.fromkeys(
        [
            "Dots3NoteTextModel", "UnlimitedOcrTextModel", "afmoe", "beam", "cohere2_moe", "deepseek_v2",
            "deepseek_v3", "deepseek_v32", "dots1", "ernie4_5_moe", "exaone_moe", "flex_olmo", "glm4_moe",
            "glm4_moe_lite", "glm4v_moe", "glm_moe_dsa", "hunyuan_v1_moe", "longcat_flash", "mellum", "olmoe",
            "qwen3_moe", "qwen3_next", "qwen3_omni_moe", "qwen3_omni_moe_text", "qwen3_omni_moe_thinker",
            "sarvam_mla", "solar_open",
        ],
        "qwen2_moe",
    ),
}  # fmt: skip
_MOE_TARGET_MODULE_MAPPING = {
    "mixtral": {"gate": "gate.weight", "w1": "gate_up_proj", "w3": "gate_up_proj", "w2": "down_proj"},
    "qwen2_moe": {
        "gate": "gate.weight",
        "gate_proj": "gate_up_proj",
        "up_proj": "gate_up_proj",
        "down_proj": "down_proj",
    },
}
_MOE_FUSED_TARGETS = {
    "mixtral": {"gate_up_proj": ["w1", "w3"]},
    "qwen2_moe": {"gate_up_proj": ["gate_proj", "up_proj"]},
}

# LoraConfig fields and the release that introduced them: older releases reject them as unexpected keywords.
_FIELD_SINCE = {
    "exclude_modules": (0, 14),
    "lora_bias": (0, 14),
    "trainable_token_indices": (0, 15),
    "target_parameters": (0, 17),
    "ensure_weight_tying": (0, 18),
}
# Options that change targets, shapes or trainable parameters in ways the replay does not model.
_UNMODELLED_OPTIONS = ("use_dora", "layer_replication", "ensure_weight_tying", "trainable_token_indices")

# torch container classes that ModulesToSaveWrapper.check_module refuses.
_CONTAINER_CLASSES = ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict")
_LINEAR_KINDS = ("linear", "conv1d_gpt")


# --------------------------------------------------------------------------------------------------- result types


@dataclass
class PeftErrorInfo:
    """The exception PEFT raises: Python exception class name, a stable machine-readable kind, a message."""

    type: str
    kind: str
    message: str


@dataclass
class PeftWarningInfo:
    """A warning PEFT emits. ``modules`` / ``keys`` name what it is about (module names, pattern keys)."""

    kind: str
    message: str
    modules: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass
class MatchResult:
    """What ``get_peft_model`` builds. When ``error`` is set, the other fields describe the state PEFT had reached
    when it raised (e.g. the targets matched before an unsupported module stopped the injection)."""

    targets: list[str]
    target_parameters: list[str]
    modules_to_save: list[str]
    rank: dict[str, int]
    alpha: dict[str, float]
    error: Optional[PeftErrorInfo]
    warnings: list[PeftWarningInfo]
    trainable_parameters: int
    # The config after PEFT's in-place rewrites (default targets, all-linear, MoE conversion, task heads).
    effective_target_modules: Any
    effective_target_parameters: Optional[list[str]]
    effective_modules_to_save: Optional[list[str]]


class _PeftRaise(Exception):
    """Raised inside the replay where PEFT raises; carries the error PEFT would show."""

    def __init__(self, type_: str, kind: str, message: str):
        super().__init__(message)
        self.info = PeftErrorInfo(type_, kind, message)


# ------------------------------------------------------------------------------------------------ version helpers


def _version_tuple(version: str) -> tuple[int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]


# ------------------------------------------------------------------------------------- simulated torch module tree


class _Param:
    __slots__ = ("numel", "trainable")

    def __init__(self, numel: int, trainable: bool = False):
        self.numel = numel
        self.trainable = trainable


class _Module:
    """A node standing in for an ``nn.Module``. ``role`` is None for model modules, "lora" for LoRA layers
    (BaseTunerLayer), "mts" for ModulesToSaveWrapper; ``info`` is the inventory record of model modules."""

    __slots__ = ("cls", "role", "info", "params", "children", "r", "alpha")

    def __init__(self, cls: str, role: Optional[str] = None, info: Optional[dict] = None):
        self.cls = cls
        self.role = role
        self.info = info
        self.params: dict[str, _Param] = {}
        self.children: dict[str, _Module] = {}
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
        params: dict[int, _Param] = {}
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

    def getattr(self, name: str) -> "_Module":
        if name in self.children:
            return self.children[name]
        if self.role == "mts":  # AuxiliaryTrainingWrapper.__getattr__ forwards to the active copy
            return self.children["modules_to_save"].children[ADAPTER_NAME].getattr(name)
        raise AttributeError(name)

    def get_submodule(self, path: str) -> "_Module":
        module = self
        if path:
            for atom in path.split("."):
                module = module.getattr(atom)
        return module


def _get_submodules(root: _Module, key: str) -> tuple[_Module, _Module, str]:
    parent = root.get_submodule(".".join(key.split(".")[:-1]))
    return parent, root.get_submodule(key), key.split(".")[-1]


def _set_trainable_all(module: _Module, trainable: bool) -> None:
    for param in module.unique_params():
        param.trainable = trainable


def _module_dict(entries: dict[str, _Module]) -> _Module:
    module = _Module("ModuleDict")
    module.children.update(entries)
    return module


def _prod(shape) -> int:
    return math.prod(shape) if shape else 0


def _build_tree(inventory: dict) -> _Module:
    """The model as a module tree. Parameters are frozen from the start: PEFT freezes every base parameter when it
    injects the first adapter. Each ``tied_parameters`` group (names of one shared tensor) is one object."""
    shared: dict[str, _Param] = {}
    for group in inventory.get("tied_parameters") or []:
        param = _Param(0)
        shared.update(dict.fromkeys(group, param))
    by_name: dict[str, _Module] = {}
    for record in inventory["modules"]:
        name = record["name"]
        node = by_name[name] = _Module(record["class"], info=record)
        if name:
            parent_name, _, child_name = name.rpartition(".")
            by_name[parent_name].children[child_name] = node
        # "parameters" counts the module's own parameters: weight, bias and the extra ones.
        extra = {param_name: _prod(shape) for param_name, shape in (record.get("extra_parameters") or {}).items()}
        weight = _prod(record.get("weight_shape"))
        own = {"weight": weight} if record.get("weight_shape") is not None else {}
        bias = (record.get("parameters") or 0) - weight - sum(extra.values())
        if bias > 0:
            own["bias"] = bias
        own.update(extra)
        for param_name, numel in own.items():
            param = shared.get(f"{name}.{param_name}" if name else param_name) or _Param(numel)
            param.numel = numel
            node.params[param_name] = param
    return by_name[""]


def _modules_tied_to_input_embedding(inventory: dict) -> list[str]:
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


def _param_names(root: _Module) -> list[str]:
    """``model.named_parameters()`` names (deduplicated, first occurrence wins)."""
    names, seen = [], set()
    for module_name, module in root.named_modules():
        for param_name, param in module.params.items():
            if id(param) not in seen:
                seen.add(id(param))
                names.append(f"{module_name}.{param_name}" if module_name else param_name)
    return names


# ------------------------------------------------------------------------------------------- config replication


class _Config:
    """The mutable LoraConfig PEFT threads through the injection (PEFT rewrites it in place)."""

    def __init__(self, lora: dict, version: tuple[int, int, int]):
        self.version = version
        self.given = set(lora)
        self.r = lora.get("r", 8)
        self.lora_alpha = lora.get("lora_alpha", 8)
        self.lora_dropout = lora.get("lora_dropout", 0.0)
        self.fan_in_fan_out = bool(lora.get("fan_in_fan_out", False))
        self.bias = lora.get("bias", "none")
        self.lora_bias = bool(lora.get("lora_bias", False))
        self.use_dora = bool(lora.get("use_dora", False))
        self.task_type = lora.get("task_type")
        self.target_modules = lora.get("target_modules")
        self.exclude_modules = lora.get("exclude_modules")
        self.target_parameters = lora.get("target_parameters")
        self.layers_to_transform = lora.get("layers_to_transform")
        self.layers_pattern = lora.get("layers_pattern")
        self.rank_pattern = dict(lora.get("rank_pattern") or {})
        self.alpha_pattern = dict(lora.get("alpha_pattern") or {})
        mts = lora.get("modules_to_save")
        self.modules_to_save = list(mts) if mts is not None else None
        self.inference_mode = bool(lora.get("inference_mode", False))
        self._post_init()

    def _post_init(self) -> None:
        """PeftConfig.__post_init__ + LoraConfig.__post_init__ validation (peft/tuners/lora/config.py)."""
        for name, since in _FIELD_SINCE.items():
            if name in self.given and self.version < since:
                raise _PeftRaise(
                    "TypeError",
                    "unknown_field",
                    f"LoraConfig.__init__() got an unexpected keyword argument '{name}'",
                )
        if self.task_type is not None and self.task_type not in TASK_TYPES:
            raise _PeftRaise(
                "ValueError",
                "invalid_task_type",
                f"Invalid task type: '{self.task_type}'. Must be one of the following task types: "
                f"{', '.join(TASK_TYPES)}.",
            )
        if isinstance(self.target_modules, list):
            self.target_modules = set(self.target_modules)
        if isinstance(self.exclude_modules, list):
            self.exclude_modules = set(self.exclude_modules)
        if isinstance(self.target_parameters, str) and self.version >= (0, 17):
            raise _PeftRaise(
                "TypeError", "target_parameters_str", "`target_parameters` must be a list of strings or None."
            )
        if isinstance(self.target_modules, str) and self.layers_to_transform is not None:
            raise _PeftRaise(
                "ValueError",
                "layers_to_transform_with_regex",
                "`layers_to_transform` cannot be used when `target_modules` is a str.",
            )
        if isinstance(self.target_modules, str) and self.layers_pattern is not None:
            raise _PeftRaise(
                "ValueError",
                "layers_pattern_with_regex",
                "`layers_pattern` cannot be used when `target_modules` is a str.",
            )
        if self.layers_pattern and self.layers_to_transform is None:
            raise _PeftRaise(
                "ValueError",
                "layers_pattern_without_layers_to_transform",
                "When `layers_pattern` is specified, `layers_to_transform` must also be specified. ",
            )


class _ExcludedModule:
    """check_target_module_exists' falsy marker for excluded modules."""

    def __bool__(self) -> bool:
        return False


_EXCLUDED = _ExcludedModule()


def _layer_index_match(key: str, layers_pattern, version: tuple[int, int, int]) -> Optional[str]:
    """The layer index PEFT reads from ``key`` when layers_to_transform is set (None: no index found)."""
    if version >= (0, 21):
        # 0.21: lazy prefix (first numbered segment), and the pattern may start the key.
        if layers_pattern is None or len(layers_pattern) == 0:
            match = re.match(r".*?\.[^.]*\.(?P<idx>\d+)\.", key)
        else:
            for pattern in [layers_pattern] if isinstance(layers_pattern, str) else layers_pattern:
                match = re.match(rf"(?:^|.*?\.){pattern}\.(?P<idx>\d+)\.", key)
                if match is not None:
                    break
        return match.groupdict().get("idx") if match else None
    # Before 0.21 the first group is the index; before 0.20 the prefix was greedy, picking the *last* numbered
    # segment (e.g. the expert index of a v4 MoE layer).
    lazy = "?" if version >= (0, 20) else ""
    if layers_pattern is None or len(layers_pattern) == 0:
        match = re.match(rf".*{lazy}\.[^.]*\.(\d+)\.", key)
    else:
        for pattern in [layers_pattern] if isinstance(layers_pattern, str) else layers_pattern:
            match = re.match(rf".*{lazy}\.{pattern}\.(\d+)\.", key)
            if match is not None:
                break
    return match.group(1) if match else None


def _check_target_module_exists(config: _Config, key: str):
    """peft.tuners.tuners_utils.check_target_module_exists."""
    version = config.version
    if version >= (0, 14) and config.exclude_modules:
        if isinstance(config.exclude_modules, str):
            if re.fullmatch(config.exclude_modules, key):
                return _EXCLUDED
        elif key in config.exclude_modules or any(key.endswith(f".{e}") for e in config.exclude_modules):
            return _EXCLUDED
    # 0.16: modules_to_save entries, used as *regexes*, keep LoRA off the saved modules and everything below them.
    if version >= (0, 16) and config.modules_to_save:
        if any(re.match(rf"(^|.*\.){m}($|\..*)", key) for m in config.modules_to_save):
            return _EXCLUDED
    if version >= (0, 17) and config.target_modules is None and config.target_parameters is not None:
        return False

    if isinstance(config.target_modules, str):
        return re.fullmatch(config.target_modules, key)
    if key in config.target_modules:
        # An exact full-name entry bypasses layers_to_transform.
        return True
    found = any(key.endswith(f".{target_key}") for target_key in config.target_modules)
    layer_indexes = config.layers_to_transform
    using_layer_indexes = layer_indexes is not None and (
        len(layer_indexes) != 0 if isinstance(layer_indexes, list) else True
    )
    if using_layer_indexes and found:
        index = _layer_index_match(key, config.layers_pattern, version)
        if index is None:
            return False
        if isinstance(layer_indexes, int):
            return int(index) == layer_indexes
        return int(index) in layer_indexes
    return found


def _get_pattern_key(pattern_keys, key_to_match: str, version: tuple[int, int, int]) -> str:
    """peft.utils.other.get_pattern_key: the first key (in dict order) whose regex matches wins."""
    for key in pattern_keys:
        # 0.15 made the leading dotted prefix optional, so a pattern can match a top-level name.
        regex = rf"(.*\.)?({key})$" if version >= (0, 15) else rf".*\.{key}$"
        if re.match(regex, key_to_match):
            return key
    return key_to_match


def _rank_and_alpha(config: _Config, key: str) -> tuple[int, float]:
    if config.version < (0, 14):
        # 0.13 looked up one key in rank_pattern + alpha_pattern (chained) and used it for both.
        pattern_key = _get_pattern_key(list(config.rank_pattern) + list(config.alpha_pattern), key, config.version)
        return (
            config.rank_pattern.get(pattern_key, config.r),
            config.alpha_pattern.get(pattern_key, config.lora_alpha),
        )
    r_key = _get_pattern_key(config.rank_pattern.keys(), key, config.version)
    alpha_key = _get_pattern_key(config.alpha_pattern.keys(), key, config.version)
    return config.rank_pattern.get(r_key, config.r), config.alpha_pattern.get(alpha_key, config.lora_alpha)


def _find_minimal_target_modules(target_modules, other_module_names) -> set[str]:
    """peft.tuners.tuners_utils._find_minimal_target_modules (only reached with >= 20 entries)."""
    target_modules = set(target_modules)
    if "" in target_modules:
        raise _PeftRaise("ValueError", "empty_target_module", "target_modules should not contain an empty string.")
    other_module_names = set(other_module_names)
    if not target_modules.isdisjoint(other_module_names):
        raise _PeftRaise(
            "ValueError",
            "target_modules_overlap",
            "target_modules and other_module_names contain common elements, this should not happen",
        )

    def generate_suffixes(s):
        parts = s.split(".")
        return [".".join(parts[i:]) for i in range(len(parts))][::-1]

    other_suffixes = {suffix for item in other_module_names for suffix in generate_suffixes(item)}
    required: set[str] = set()
    for item, suffixes in sorted({t: generate_suffixes(t) for t in target_modules}.items(), key=lambda kv: kv[1]):
        for suffix in suffixes:
            if suffix in required or suffix in other_suffixes:
                continue
            if not any(item.endswith("." + req) for req in required):
                required.add(suffix)
                break
    return required if required else set(target_modules)


# --------------------------------------------------------------------------------------------------- the replay


class _Replay:
    def __init__(self, inventory: dict, lora: dict, version: tuple[int, int, int]):
        self.inventory = inventory
        self.lora = lora
        self.version = version
        self.root = _build_tree(inventory)
        self.records = {record["name"]: record for record in inventory["modules"]}
        self.targets: list[str] = []
        self.target_parameters: list[str] = []
        self.wrapped: list[str] = []
        self.rank: dict[str, int] = {}
        self.alpha: dict[str, float] = {}
        self.warnings: list[PeftWarningInfo] = []
        self.config: Optional[_Config] = None
        self.peft_model: Optional[_Module] = None  # set once the tuner is built

    def warn(self, kind: str, message: str, modules=(), keys=()) -> None:
        self.warnings.append(PeftWarningInfo(kind, message, list(modules), list(keys)))

    # -- get_peft_model / PeftModel ------------------------------------------------------------------------------

    def run(self) -> None:
        self.config = config = _Config(self.lora, self.version)
        unmodelled = [option for option in _UNMODELLED_OPTIONS if self.lora.get(option)]
        if unmodelled:
            self.warn(
                "unmodelled_option",
                f"lora-lint does not replay {', '.join(unmodelled)}: targets and parameter counts may differ.",
                keys=unmodelled,
            )
        task_heads = TASK_HEAD_MODULES.get(config.task_type)
        if task_heads and config.task_type in _HEADS_ADDED_BEFORE_TUNER:
            config.modules_to_save = (config.modules_to_save or []) + task_heads
        self.inject_adapter()
        if task_heads and config.task_type not in _HEADS_ADDED_BEFORE_TUNER:
            config.modules_to_save = (config.modules_to_save or []) + task_heads
        peft_model = _Module("PeftModel")
        tuner = _Module("LoraModel")
        tuner.children["model"] = self.root
        peft_model.children["base_model"] = tuner
        self.peft_model = peft_model
        if task_heads:
            # Then _set_trainable once more, on the PeftModel itself (names prefixed with "base_model.model.").
            self.set_trainable(peft_model, config.modules_to_save, strip_prefix="base_model.model.")
        if config.task_type in _GENERATION_TASKS and not self.inventory.get("can_generate"):
            raise _PeftRaise(
                "AttributeError",
                "model_cannot_generate",
                f"'{self.inventory['class']}' object has no attribute 'prepare_inputs_for_generation'",
            )

    # -- BaseTuner.inject_adapter ---------------------------------------------------------------------------------

    def inject_adapter(self) -> None:
        config = self.config
        version = self.version
        if version >= (0, 19) and _version_tuple(self.inventory.get("transformers_version") or "0") >= (5, 0):
            self.convert_moe_config()
        if version >= (0, 18):
            self.check_tied_modules()
        self.prepare_adapter_config()

        key_list = [record["name"] for record in self.inventory["modules"]]
        self.include_all_linear_layers()
        if isinstance(config.target_modules, (list, set)) and len(config.target_modules) >= (
            MIN_TARGET_MODULES_FOR_OPTIMIZATION
        ):
            # PEFT condenses long target lists to suffixes. Full-name entries then turn into suffixes, which
            # (unlike exact names) are filtered by layers_to_transform.
            suffixes = tuple("." + suffix for suffix in config.target_modules)
            names_no_target = [
                name for name in key_list if name not in config.target_modules and not name.endswith(suffixes)
            ]
            condensed = _find_minimal_target_modules(config.target_modules, names_no_target)
            if len(condensed) < len(config.target_modules):
                config.target_modules = condensed

        excluded, unmatched = [], []
        for key in key_list:
            if not key:
                continue
            if version < (0, 16) and config.modules_to_save and any(key.endswith(m) for m in config.modules_to_save):
                # Before 0.16 modules_to_save was wrapped inline, and such modules were never LoRA targets.
                self.wrap_module_to_save(self.root, key, check_module=False)
                continue
            result = _check_target_module_exists(config, key)
            if isinstance(result, _ExcludedModule):
                excluded.append(key)
            elif not result:
                unmatched.append(key)
            else:
                self.targets.append(key)
                self.create_and_replace(key)

        if version >= (0, 17) and config.target_parameters:
            self.inject_parameters()
        if version < (0, 18):
            tied_targets = [t for t in self.targets if t.split(".")[-1] in EMBEDDING_LAYER_NAMES]
            if tied_targets and _modules_tied_to_input_embedding(self.inventory):
                self.warn(
                    "tied_embedding_adapted",
                    f"Model with `tie_word_embeddings=True` and the {tied_targets=} are part of the adapter.",
                    modules=tied_targets,
                )
        self.check_injection_result(excluded, unmatched)
        self.mark_only_adapters_as_trainable()
        if version >= (0, 16) and config.modules_to_save is not None:
            self.set_trainable(self.root, config.modules_to_save)

    def prepare_adapter_config(self) -> None:
        config = self.config
        if config.target_modules is not None:
            return
        model_type = self.inventory.get("model_type")
        entry = _DEFAULT_TARGET_MODULES.get(model_type)
        default = entry[0] if entry and self.version >= entry[1] else None
        if default is not None:
            config.target_modules = default if isinstance(default, str) else set(default)
        elif self.version >= (0, 17) and config.target_parameters:
            return
        elif self.version >= (0, 17):
            raise _PeftRaise(
                "ValueError",
                "no_default_target_modules",
                "Please specify `target_modules` or `target_parameters`in `peft_config`",
            )
        else:
            raise _PeftRaise("ValueError", "no_default_target_modules", "Please specify `target_modules` in `peft_config`")

    def include_all_linear_layers(self) -> None:
        """_maybe_include_all_linear_layers: 'all-linear' (any case) -> every Linear/Conv1D but the output layer."""
        config = self.config
        if not (
            isinstance(config.target_modules, str) and config.target_modules.lower() == INCLUDE_LINEAR_LAYERS_SHORTHAND
        ):
            return
        config.target_modules = self.all_linear_names(config.task_type)

    def all_linear_names(self, task_type) -> set[str]:
        names = {record["name"] for record in self.inventory["modules"] if record.get("lora_kind") in _LINEAR_KINDS}
        exclude = set()
        output_embedding = self.inventory.get("output_embedding")
        if output_embedding is not None:
            exclude.add(output_embedding)
        elif task_type == "SEQ_CLS":
            # Only a top-level attribute called score/classifier counts (getattr(model, name)).
            for head in SEQ_CLS_HEAD_NAMES:
                if head in self.records:
                    exclude.add(head)
                    break
        if self.version < (0, 15):
            # Before 0.15 all-linear collected leaf names (so the exclusion only works for a top-level head).
            return {name.rpartition(".")[2] for name in names} - exclude
        return names - exclude

    # -- transformers v5 MoE rewrite (peft/utils/transformers_weight_conversion.py) -------------------------------

    def convert_moe_config(self) -> None:
        config = self.config
        base = _MOE_CONVERSION_BASE.get(self.inventory.get("model_type"))
        if base is None:
            return
        mapping = _MOE_TARGET_MODULE_MAPPING[base]
        fused = _MOE_FUSED_TARGETS[base]
        if isinstance(config.target_modules, str):
            if self.version >= (0, 21):
                resolved = self.resolve_string_target_modules(mapping)
                if not resolved:
                    return
                config.target_modules = resolved
            else:
                # 0.19/0.20 called set() on the string: a set of its characters.
                config.target_modules = set(config.target_modules)
        config.target_parameters = set(config.target_parameters or [])
        config.target_modules = set(config.target_modules or [])
        new_target_parameters = set(config.target_parameters)
        remaining = set()
        matched: dict[str, set[str]] = {new_name: set() for new_name in fused}
        for target in config.target_modules:
            mapped = next(
                ((old, new) for old, new in mapping.items() if target == old or target.endswith(f".{old}")), None
            )
            if mapped is None:
                remaining.add(target)
                continue
            old_name, new_name = mapped
            new_target_parameters.add(new_name)
            if new_name in fused:
                matched.setdefault(new_name, set()).add(old_name)
        for new_name, required in fused.items():
            present = matched.get(new_name, set())
            if 0 < len(present) < len(required):
                raise _PeftRaise(
                    "ValueError",
                    "moe_partial_fused_target",
                    f"Cannot convert PEFT target(s) {', '.join(sorted(present))} without also targeting "
                    f"{', '.join(sorted(set(required) - present))} because they are fused into {new_name}.",
                )
            if len(present) == len(required) and len(required) > 1:
                config.rank_pattern[rf".*\.{re.escape(new_name)}"] = config.r * len(required)
                config.alpha_pattern[rf".*\.{re.escape(new_name)}"] = config.lora_alpha * len(required)
        config.target_parameters = new_target_parameters
        config.target_modules = remaining

    def resolve_string_target_modules(self, mapping: dict[str, str]) -> set[str]:
        config = self.config
        if config.target_modules.lower() == INCLUDE_LINEAR_LAYERS_SHORTHAND:
            return {name.rsplit(".", 1)[-1] for name in self.all_linear_names(config.task_type)} | mapping.keys()
        module_keys = [record["name"] for record in self.inventory["modules"]]
        param_keys = _param_names(self.root)
        matched = {key.rsplit(".", 1)[-1] for key in module_keys + param_keys if _check_target_module_exists(config, key)}
        containers: dict[str, set[str]] = {}
        for name in param_keys:
            container, _, leaf = name.rpartition(".")
            containers.setdefault(leaf, set()).add(container)
        for old_name, new_name in mapping.items():
            if old_name in matched:
                continue
            for container in containers.get(new_name, ()):
                if _check_target_module_exists(config, f"{container}.{old_name}"):
                    matched.add(old_name)
                    break
        return matched

    # -- tied embeddings (BaseTuner._check_tied_modules, 0.18+) ---------------------------------------------------

    def check_tied_modules(self) -> None:
        config = self.config
        is_embedding_to_save = any(m.split(".")[-1] in EMBEDDING_LAYER_NAMES for m in config.modules_to_save or [])
        if isinstance(config.target_modules, str):
            is_embedding_in_target = any(re.fullmatch(config.target_modules, m) for m in EMBEDDING_LAYER_NAMES)
        else:
            is_embedding_in_target = any(
                m.split(".")[-1] in EMBEDDING_LAYER_NAMES for m in config.target_modules or []
            )
        tied = _modules_tied_to_input_embedding(self.inventory)
        if (is_embedding_to_save or is_embedding_in_target) and tied:
            self.warn(
                "tied_embedding_adapted",
                "Model has `tie_word_embeddings=True` and a tied layer is part of the adapter, but "
                "`ensure_weight_tying` is not set to True.",
                modules=tied,
            )

    # -- creating LoRA layers (LoraModel._create_and_replace, lora/layer.py dispatch_default) ----------------------

    def create_and_replace(self, key: str) -> None:
        config = self.config
        parent, target, target_name = _get_submodules(self.root, key)
        if self.inventory.get("model_type") in _MAMBA_MODEL_TYPES and target_name in _MAMBA_INCOMPATIBLE_TARGETS:
            raise _PeftRaise(
                "ValueError",
                "mamba_incompatible_target",
                f"[PEFT:LORA] Module '{target_name}' is incompatible with Mamba-based models.",
            )
        r, alpha = _rank_and_alpha(config, key)
        kind = target.info.get("lora_kind") if target.info else None
        if kind is None:
            raise _PeftRaise(
                "ValueError",
                "unsupported_target_module",
                f"Target module {target.cls}() ('{key}') is not supported. Currently, only the following modules are "
                "supported: `torch.nn.Linear`, `torch.nn.Embedding`, `torch.nn.Conv1d`, `torch.nn.Conv2d`, "
                "`torch.nn.Conv3d`, `transformers.pytorch_utils.Conv1D`, `torch.nn.MultiheadAttention.`.",
            )
        if kind == "linear" and config.fan_in_fan_out:
            self.warn(
                "fan_in_fan_out_disabled",
                "fan_in_fan_out is set to True but the target module is `torch.nn.Linear`. "
                "Setting fan_in_fan_out to False.",
                modules=[key],
            )
            config.fan_in_fan_out = False
        elif kind == "conv1d_gpt" and not config.fan_in_fan_out:
            self.warn(
                "fan_in_fan_out_enabled",
                "fan_in_fan_out is set to False but the target module is `Conv1D`. Setting fan_in_fan_out to True.",
                modules=[key],
            )
            config.fan_in_fan_out = True
        if kind == "embedding" and config.lora_bias:
            raise _PeftRaise(
                "ValueError", "lora_bias_unsupported", "lora_bias=True is not supported for Embedding."
            )
        if r <= 0:
            raise _PeftRaise(
                "ValueError", "invalid_rank", f"`r` should be a positive integer value but the value passed is {r}"
            )
        if config.lora_bias and kind != "embedding" and "bias" not in target.params:
            self.warn(
                "lora_bias_without_base_bias",
                f"`lora_bias=True` was passed but the targeted layer of type {target.cls} has no bias.",
                modules=[key],
            )
        parent.children[target_name] = self.lora_layer(target, kind, r)
        self.rank[key] = r
        self.alpha[key] = alpha

    def lora_layer(self, base: _Module, kind: str, r: int) -> _Module:
        """A LoRA layer around ``base`` with its sub-modules in PEFT's registration order."""
        info = base.info
        in_features, out_features = info.get("in_features"), info.get("out_features")
        layer = _Module("lora." + kind, role="lora")
        dropout = _Module("Dropout" if self.config.lora_dropout > 0 else "Identity")
        lora_a, lora_b = {}, {}
        embedding_a, embedding_b = _Module("ParameterDict"), _Module("ParameterDict")
        if kind == "embedding":
            embedding_a.params[ADAPTER_NAME] = _Param(r * in_features, True)
            embedding_b.params[ADAPTER_NAME] = _Param(out_features * r, True)
        else:
            kernel = info["weight_shape"][2:] if kind in ("conv1d", "conv2d", "conv3d") else []
            groups = in_features // info["weight_shape"][1] if kernel else 1
            lora_a[ADAPTER_NAME] = _Module("Linear")
            lora_a[ADAPTER_NAME].params["weight"] = _Param(r * in_features * _prod(kernel or [1]), True)
            lora_b[ADAPTER_NAME] = _Module("Linear")
            lora_b[ADAPTER_NAME].params["weight"] = _Param(out_features * (r // groups), True)
            if self.config.lora_bias:
                lora_b[ADAPTER_NAME].params["bias"] = _Param(out_features, True)
        layer.children.update(
            base_layer=base,
            lora_dropout=_module_dict({ADAPTER_NAME: dropout}),
            lora_A=_module_dict(lora_a),
            lora_B=_module_dict(lora_b),
            lora_embedding_A=embedding_a,
            lora_embedding_B=embedding_b,
            lora_magnitude_vector=_module_dict({}),
        )
        layer.r = r
        return layer

    # -- target_parameters (BaseTuner._inject_parameters, 0.17+) --------------------------------------------------

    def inject_parameters(self) -> None:
        config = self.config
        target_names = sorted(set(config.target_parameters))
        snapshot = [(name, list(module.params)) for name, module in self.root.named_modules()]
        for module_name, param_names in snapshot:
            unwrapped_name = module_name
            while ".base_layer" in unwrapped_name:
                prefix, _, suffix = unwrapped_name.rpartition(".base_layer")
                unwrapped_name = prefix + suffix
            for param_name in param_names:
                key = f"{unwrapped_name}.{param_name}"
                if key in target_names or any(key.endswith(f".{t}") for t in target_names):
                    self.wrap_parameter(module_name, unwrapped_name, key, param_name)
                    self.target_parameters.append(key)

    def wrap_parameter(self, module_name: str, unwrapped_name: str, key: str, param_name: str) -> None:
        config = self.config
        if module_name == "":
            raise _PeftRaise(
                "ValueError",
                "top_level_parameter",
                f"Targeting an nn.Parameter on the top-level module is not supported (parameter '{param_name}'). ",
            )
        parent, target, target_name = _get_submodules(self.root, module_name)
        unwrapped = self.root.get_submodule(unwrapped_name)
        if unwrapped.role == "lora" and unwrapped.cls != "lora.param":
            raise _PeftRaise(
                "ValueError",
                "parameter_of_lora_layer",
                f"Trying to wrap an `nn.Parameter` of layer '{unwrapped_name}' of type {target.cls}, which is not "
                "a valid target. Make sure that this layer is not also targeted with `target_modules`.",
            )
        for option, active in (
            ("lora_dropout != 0", bool(config.lora_dropout)),
            ("fan_in_fan_out", config.fan_in_fan_out),
            ("lora_bias=True", config.lora_bias),
            ("use_dora=True", config.use_dora),
        ):
            if active:
                raise _PeftRaise(
                    "ValueError", "param_wrapper_option", f"lora.ParamWrapper does not work with {option}."
                )
        r, alpha = _rank_and_alpha(config, key)
        if r <= 0:
            raise _PeftRaise(
                "ValueError", "invalid_rank", f"`r` should be a positive integer value but the value passed is {r}"
            )
        base = target
        while base.role == "lora":
            base = base.children["base_layer"]
        shape = (base.info.get("extra_parameters") or {}).get(param_name) or base.info.get("weight_shape")
        if len(shape) in (2, 3):
            num_experts = shape[0] if len(shape) == 3 else 1
        else:
            raise _PeftRaise(
                "ValueError",
                "param_wrapper_dims",
                f"lora.ParamWrapper was initialized with {len(shape)} dimensional Parameter, but only 2d and 3d "
                "are supported.",
            )
        layer = _Module("lora.param", role="lora")
        lora_a, lora_b = _Module("Linear"), _Module("Linear")
        # A 3-d (experts, a, b) parameter gets lora_A b x (r * experts) and lora_B (r * experts) x a (in/out are
        # swapped unless the experts are transposed, which does not change the count); a 2-d one (out, in) the usual.
        lora_a.params["weight"] = _Param(r * num_experts * shape[-1], True)
        lora_b.params["weight"] = _Param(r * num_experts * shape[-2], True)
        layer.children.update(
            base_layer=target,
            lora_dropout=_module_dict({ADAPTER_NAME: _Module("Identity")}),
            lora_A=_module_dict({ADAPTER_NAME: lora_a}),
            lora_B=_module_dict({ADAPTER_NAME: lora_b}),
            lora_embedding_A=_Module("ParameterDict"),
            lora_embedding_B=_Module("ParameterDict"),
            lora_magnitude_vector=_module_dict({}),
        )
        parent.children[target_name] = layer
        self.rank[key] = r
        self.alpha[key] = alpha

    # -- errors and warnings after matching -----------------------------------------------------------------------

    def check_injection_result(self, excluded: list[str], unmatched: list[str]) -> None:
        config = self.config
        version = self.version
        error_type = "NoMatchingPeftModuleError" if version >= (0, 21) else "ValueError"
        layer_note = ""
        if config.layers_to_transform is not None:
            layer_note += f" Note: You specified 'layers_to_transform': {config.layers_to_transform}."
        if config.layers_pattern is not None:
            layer_note += f" You also specified 'layers_pattern': {config.layers_pattern}."
        if not self.targets and not self.target_parameters:
            if version < (0, 14):
                raise _PeftRaise(
                    error_type,
                    "target_modules_not_found",
                    f"Target modules {config.target_modules} not found in the base model.",
                )
            if excluded and not unmatched:
                raise _PeftRaise(
                    error_type,
                    "all_modules_excluded",
                    "All modules were excluded. This is likely unintended. Check your `target_modules`, "
                    "`exclude_modules` and `modules_to_save` configuration.",
                )
            if not excluded and unmatched and not config.target_modules and version >= (0, 17):
                raise _PeftRaise(
                    error_type,
                    "no_target_modules_or_parameters",
                    "No `target_modules` passed but also no `target_parameters` found. Please check the values for "
                    "these arguments.",
                )
            if not excluded and unmatched:
                raise _PeftRaise(
                    error_type,
                    "target_modules_not_found",
                    f"Target modules {config.target_modules} not found in the base model. Please check the target "
                    "modules and try again." + layer_note,
                )
            raise _PeftRaise(
                error_type,
                "no_modules_targeted",
                "No modules were targeted for adaptation. This might be caused by a combination of mismatched "
                "target modules and excluded modules." + layer_note,
            )
        if version >= (0, 14) and config.exclude_modules and not excluded:
            self.warn(
                "exclude_modules_unused",
                f"You have passed exclude_modules={config.exclude_modules} but no modules were excluded.",
                keys=sorted(config.exclude_modules) if not isinstance(config.exclude_modules, str) else [],
            )
        elif version >= (0, 17):
            if config.target_modules and not self.targets:
                self.warn(
                    "target_modules_unmatched",
                    f"target_modules={config.target_modules} were set but no module was matched.",
                )
            elif config.target_parameters and not self.target_parameters:
                self.warn(
                    "target_parameters_unmatched",
                    f"target_parameters={config.target_parameters} were set but no parameter was matched.",
                )
        if version >= (0, 21):
            for attribute in ("rank_pattern", "alpha_pattern"):
                patterns = getattr(config, attribute)
                # Only module targets count: keys aimed at target_parameters (incl. PEFT's own MoE keys) warn.
                unmatched_keys = sorted(
                    key
                    for key in patterns
                    if not any(re.match(rf"(.*\.)?({key})$", name) for name in self.targets)
                )
                if unmatched_keys:
                    self.warn(
                        f"{attribute}_keys_unmatched",
                        f"The following {attribute} keys did not match any targeted module and were ignored: "
                        f"{unmatched_keys}.",
                        keys=unmatched_keys,
                    )

    def mark_only_adapters_as_trainable(self) -> None:
        bias = self.config.bias
        if bias == "none":
            return
        if bias == "all":
            for _, module in self.root.named_modules():
                if "bias" in module.params:
                    module.params["bias"].trainable = True
        elif bias == "lora_only":
            for _, module in self.root.named_modules():
                if module.role == "lora" and "bias" in module.children["base_layer"].params:
                    module.children["base_layer"].params["bias"].trainable = True
        else:
            raise _PeftRaise("NotImplementedError", "invalid_bias", f"Requested bias: {bias}, is not implemented.")

    # -- modules_to_save (utils/other.py _set_trainable, ModulesToSaveWrapper) ------------------------------------

    def set_trainable(self, root: _Module, module_names: list[str], strip_prefix: str = "") -> None:
        if not module_names:
            return
        keys = [key for key, _ in root.named_modules(remove_duplicate=False)]
        for key in keys:
            if any(key.endswith(name) for name in module_names):
                self.wrap_module_to_save(root, key, check_module=True, report_prefix=strip_prefix)

    def wrap_module_to_save(self, root: _Module, key: str, check_module: bool, report_prefix: str = "") -> None:
        atoms = key.split(".")
        parent = root.get_submodule(".".join(atoms[:-1]))
        try:
            grandparent = root.get_submodule(".".join(atoms[:-2]))
        except AttributeError:
            grandparent = None
        target = root.get_submodule(key)
        if check_module and grandparent is not None and grandparent.role == "lora":
            raise _PeftRaise(
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
        if check_module and (target.cls in _CONTAINER_CLASSES or target.role == "lora"):
            raise _PeftRaise(
                "TypeError",
                "modules_to_save_invalid_type",
                f"modules_to_save cannot be applied to modules of type {target.cls} ('{key}')",
            )
        copy_ = copy.deepcopy(target)
        _set_trainable_all(target, False)
        _set_trainable_all(copy_, True)
        wrapper = _Module("ModulesToSaveWrapper", role="mts")
        wrapper.children["original_module"] = target
        wrapper.children["modules_to_save"] = _module_dict({ADAPTER_NAME: copy_})
        parent.children[atoms[-1]] = wrapper
        # Report the wrapped module under its model name, whatever wrapper it was reached through.
        name = re.sub(r"\.(modules_to_save\.default|original_module)(?=\.|$)", "", key)
        self.wrapped.append(name.removeprefix(report_prefix))


# ----------------------------------------------------------------------------------------------------- public API


def match(inventory: dict, lora: dict, peft_version: str) -> MatchResult:
    """Replay ``get_peft_model(model, LoraConfig(**lora))`` of PEFT ``peft_version`` on the inventoried model."""
    replay = _Replay(inventory, lora, _version_tuple(peft_version))
    error = None
    try:
        replay.run()
    except _PeftRaise as raised:
        error = raised.info
    except re.error as raised:
        # An invalid regex in target_modules, exclude_modules, modules_to_save, layers_pattern or a pattern key.
        error = PeftErrorInfo("error", "invalid_regex", f"{raised} (pattern {raised.pattern!r})")
    root = replay.peft_model or replay.root
    config = replay.config
    return MatchResult(
        targets=sorted(replay.targets),
        target_parameters=sorted(replay.target_parameters),
        modules_to_save=sorted(set(replay.wrapped)),
        rank=replay.rank,
        alpha=replay.alpha,
        error=error,
        warnings=replay.warnings,
        trainable_parameters=sum(p.numel for p in root.unique_params() if p.trainable),
        effective_target_modules=(
            sorted(config.target_modules) if isinstance(config.target_modules, set) else config.target_modules
        )
        if config
        else None,
        effective_target_parameters=sorted(config.target_parameters)
        if config and config.target_parameters is not None
        else None,
        effective_modules_to_save=list(config.modules_to_save) if config and config.modules_to_save is not None else None,
    )


def modules_matched_by_entry(inventory: dict, entry: str) -> list[str]:
    """Module names a single ``target_modules`` list entry selects (exact full name or dotted suffix)."""
    return [
        record["name"]
        for record in inventory["modules"]
        if record["name"] and (record["name"] == entry or record["name"].endswith(f".{entry}"))
    ]


def layer_index(module_name: str, layers_pattern, peft_version: str) -> Optional[int]:
    """The layer index PEFT reads from ``module_name`` for ``layers_to_transform`` (None: the module is never
    selected when layers_to_transform is set)."""
    index = _layer_index_match(module_name, layers_pattern, _version_tuple(peft_version))
    return int(index) if index is not None else None


def pattern_key_for(pattern_keys, module_name: str, peft_version: str) -> Optional[str]:
    """The ``rank_pattern`` / ``alpha_pattern`` key PEFT applies to ``module_name`` (the first matching one), or
    None when no key matches."""
    key = _get_pattern_key(list(pattern_keys), module_name, _version_tuple(peft_version))
    return key if key in pattern_keys else None
