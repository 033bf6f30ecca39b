"""The mutable LoraConfig PEFT threads through the injection, with its ``__post_init__`` validation."""

from __future__ import annotations

import re

from lora_lint.matcher.constants import FIELD_SINCE, TASK_TYPES
from lora_lint.matcher.results import PeftRaise


def version_tuple(version: str) -> tuple[int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]



class Config:
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
        for name, since in FIELD_SINCE.items():
            if name in self.given and self.version < since:
                raise PeftRaise(
                    "TypeError",
                    "unknown_field",
                    f"LoraConfig.__init__() got an unexpected keyword argument '{name}'",
                )
        if self.task_type is not None and self.task_type not in TASK_TYPES:
            raise PeftRaise(
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
            raise PeftRaise(
                "TypeError", "target_parameters_str", "`target_parameters` must be a list of strings or None."
            )
        if isinstance(self.target_modules, str) and self.layers_to_transform is not None:
            raise PeftRaise(
                "ValueError",
                "layers_to_transform_with_regex",
                "`layers_to_transform` cannot be used when `target_modules` is a str.",
            )
        if isinstance(self.target_modules, str) and self.layers_pattern is not None:
            raise PeftRaise(
                "ValueError",
                "layers_pattern_with_regex",
                "`layers_pattern` cannot be used when `target_modules` is a str.",
            )
        if self.layers_pattern and self.layers_to_transform is None:
            raise PeftRaise(
                "ValueError",
                "layers_pattern_without_layers_to_transform",
                "When `layers_pattern` is specified, `layers_to_transform` must also be specified. ",
            )

