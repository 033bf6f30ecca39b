"""The replay of ``get_peft_model``: PeftModel around BaseTuner.inject_adapter, then the checks PEFT runs on the
result and the trainable flags it sets."""

from __future__ import annotations

from typing import Optional

from lora_lint.matcher.config import Config, version_tuple
from lora_lint.matcher.constants import (
    EMBEDDING_LAYER_NAMES,
    DEFAULT_TARGET_MODULES,
    GENERATION_TASKS,
    HEADS_ADDED_BEFORE_TUNER,
    INCLUDE_LINEAR_LAYERS_SHORTHAND,
    LINEAR_KINDS,
    MIN_TARGET_MODULES_FOR_OPTIMIZATION,
    SEQ_CLS_HEAD_NAMES,
    TASK_HEAD_MODULES,
    UNMODELLED_OPTIONS,
)
from lora_lint.matcher.lora_layers import create_and_replace, inject_parameters
from lora_lint.matcher.modules_to_save import set_trainable, wrap_module_to_save
from lora_lint.matcher.moe import convert_moe_config
from lora_lint.matcher.patterns import pattern_key_regex
from lora_lint.matcher.regexes import config_match
from lora_lint.matcher.results import PeftRaise, PeftWarningInfo
from lora_lint.matcher.targets import ExcludedModule, check_target_module_exists, find_minimal_target_modules
from lora_lint.matcher.tree import Module, build_tree, modules_tied_to_input_embedding


class Replay:
    def __init__(self, inventory: dict, lora: dict, version: tuple[int, int, int]):
        self.inventory = inventory
        self.lora = lora
        self.version = version
        self.root = build_tree(inventory)
        self.records = {record["name"]: record for record in inventory["modules"]}
        self.targets: list[str] = []
        self.target_parameters: list[str] = []
        self.wrapped: list[str] = []
        self.rank: dict[str, int] = {}
        self.alpha: dict[str, float] = {}
        self.warnings: list[PeftWarningInfo] = []
        self.config: Optional[Config] = None
        self.peft_model: Optional[Module] = None  # set once the tuner is built

    def warn(self, kind: str, message: str, modules=(), keys=()) -> None:
        self.warnings.append(PeftWarningInfo(kind, message, list(modules), list(keys)))

    # -- get_peft_model / PeftModel ------------------------------------------------------------------------------

    def run(self) -> None:
        self.config = config = Config(self.lora, self.version)
        unmodelled = [option for option in UNMODELLED_OPTIONS if self.lora.get(option)]
        if unmodelled:
            self.warn(
                "unmodelled_option",
                f"lora-lint does not replay {', '.join(unmodelled)}: targets and parameter counts may differ.",
                keys=unmodelled,
            )
        task_heads = TASK_HEAD_MODULES.get(config.task_type)
        if task_heads and config.task_type in HEADS_ADDED_BEFORE_TUNER:
            config.modules_to_save = (config.modules_to_save or []) + task_heads
        self.inject_adapter()
        if task_heads and config.task_type not in HEADS_ADDED_BEFORE_TUNER:
            config.modules_to_save = (config.modules_to_save or []) + task_heads
        peft_model = Module("PeftModel")
        tuner = Module("LoraModel")
        tuner.children["model"] = self.root
        peft_model.children["base_model"] = tuner
        self.peft_model = peft_model
        if task_heads:
            # Then _set_trainable once more, on the PeftModel itself (names prefixed with "base_model.model.").
            set_trainable(self, peft_model, config.modules_to_save, strip_prefix="base_model.model.")
        if config.task_type in GENERATION_TASKS and not self.inventory.get("can_generate"):
            raise PeftRaise(
                "AttributeError",
                "model_cannot_generate",
                f"'{self.inventory['class']}' object has no attribute 'prepare_inputs_for_generation'",
            )

    # -- BaseTuner.inject_adapter ---------------------------------------------------------------------------------

    def inject_adapter(self) -> None:
        config = self.config
        version = self.version
        if version >= (0, 19) and version_tuple(self.inventory.get("transformers_version") or "0") >= (5, 0):
            convert_moe_config(self)
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
            condensed = find_minimal_target_modules(config.target_modules, names_no_target)
            if len(condensed) < len(config.target_modules):
                config.target_modules = condensed

        excluded, unmatched = [], []
        for key in key_list:
            if not key:
                continue
            if version < (0, 16) and config.modules_to_save and any(key.endswith(m) for m in config.modules_to_save):
                # Before 0.16 modules_to_save was wrapped inline, and such modules were never LoRA targets.
                wrap_module_to_save(self, self.root, key, check_module=False)
                continue
            result = check_target_module_exists(config, key)
            if isinstance(result, ExcludedModule):
                excluded.append(key)
            elif not result:
                unmatched.append(key)
            else:
                self.targets.append(key)
                create_and_replace(self, key)

        if version >= (0, 17) and config.target_parameters:
            inject_parameters(self)
        if version < (0, 18):
            tied_targets = [t for t in self.targets if t.split(".")[-1] in EMBEDDING_LAYER_NAMES]
            if tied_targets and modules_tied_to_input_embedding(self.inventory):
                self.warn(
                    "tied_embedding_adapted",
                    f"Model with `tie_word_embeddings=True` and the {tied_targets=} are part of the adapter.",
                    modules=tied_targets,
                )
        self.check_injection_result(excluded, unmatched)
        self.mark_only_adapters_as_trainable()
        if version >= (0, 16) and config.modules_to_save is not None:
            set_trainable(self, self.root, config.modules_to_save)

    def prepare_adapter_config(self) -> None:
        config = self.config
        if config.target_modules is not None:
            return
        model_type = self.inventory.get("model_type")
        entry = DEFAULT_TARGET_MODULES.get(model_type)
        default = entry[0] if entry and self.version >= entry[1] else None
        if default is not None:
            config.target_modules = default if isinstance(default, str) else set(default)
        elif self.version >= (0, 17) and config.target_parameters:
            return
        elif self.version >= (0, 17):
            raise PeftRaise(
                "ValueError",
                "no_default_target_modules",
                "Please specify `target_modules` or `target_parameters`in `peft_config`",
            )
        else:
            raise PeftRaise("ValueError", "no_default_target_modules", "Please specify `target_modules` in `peft_config`")

    def include_all_linear_layers(self) -> None:
        """_maybe_include_all_linear_layers: 'all-linear' (any case) -> every Linear/Conv1D but the output layer."""
        config = self.config
        if not (
            isinstance(config.target_modules, str) and config.target_modules.lower() == INCLUDE_LINEAR_LAYERS_SHORTHAND
        ):
            return
        config.target_modules = self.all_linear_names(config.task_type)

    def all_linear_names(self, task_type) -> set[str]:
        names = {record["name"] for record in self.inventory["modules"] if record.get("lora_kind") in LINEAR_KINDS}
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

    # -- tied embeddings (BaseTuner._check_tied_modules, 0.18+) ---------------------------------------------------

    def check_tied_modules(self) -> None:
        config = self.config
        is_embedding_to_save = any(m.split(".")[-1] in EMBEDDING_LAYER_NAMES for m in config.modules_to_save or [])
        if isinstance(config.target_modules, str):
            is_embedding_in_target = any(config_match(config.target_modules, config.target_modules, m, full=True)
                                         for m in EMBEDDING_LAYER_NAMES)
        else:
            is_embedding_in_target = any(
                m.split(".")[-1] in EMBEDDING_LAYER_NAMES for m in config.target_modules or []
            )
        tied = modules_tied_to_input_embedding(self.inventory)
        if (is_embedding_to_save or is_embedding_in_target) and tied:
            self.warn(
                "tied_embedding_adapted",
                "Model has `tie_word_embeddings=True` and a tied layer is part of the adapter, but "
                "`ensure_weight_tying` is not set to True.",
                modules=tied,
            )

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
                raise PeftRaise(
                    error_type,
                    "target_modules_not_found",
                    f"Target modules {config.target_modules} not found in the base model.",
                )
            if excluded and not unmatched:
                raise PeftRaise(
                    error_type,
                    "all_modules_excluded",
                    "All modules were excluded. This is likely unintended. Check your `target_modules`, "
                    "`exclude_modules` and `modules_to_save` configuration.",
                )
            if not excluded and unmatched and not config.target_modules and version >= (0, 17):
                raise PeftRaise(
                    error_type,
                    "no_target_modules_or_parameters",
                    "No `target_modules` passed but also no `target_parameters` found. Please check the values for "
                    "these arguments.",
                )
            if not excluded and unmatched:
                raise PeftRaise(
                    error_type,
                    "target_modules_not_found",
                    f"Target modules {config.target_modules} not found in the base model. Please check the target "
                    "modules and try again." + layer_note,
                )
            raise PeftRaise(
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
                    if not any(config_match(key, pattern_key_regex(key, version), name) for name in self.targets)
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
            raise PeftRaise("NotImplementedError", "invalid_bias", f"Requested bias: {bias}, is not implemented.")

