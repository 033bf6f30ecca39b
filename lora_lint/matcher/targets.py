"""Which modules ``target_modules`` / ``exclude_modules`` select (check_target_module_exists), and PEFT's
condensation of long target lists."""

from __future__ import annotations

from lora_lint.matcher.config import Config
from lora_lint.matcher.layers import layer_index_match
from lora_lint.matcher.regexes import config_match
from lora_lint.matcher.results import PeftRaise


class ExcludedModule:
    """check_target_module_exists' falsy marker for excluded modules."""

    def __bool__(self) -> bool:
        return False


EXCLUDED = ExcludedModule()


def modules_to_save_regex(entry: str) -> str:
    return rf"(^|.*\.){entry}($|\..*)"


def check_target_module_exists(config: Config, key: str):
    """peft.tuners.tuners_utils.check_target_module_exists."""
    version = config.version
    if version >= (0, 14) and config.exclude_modules:
        if isinstance(config.exclude_modules, str):
            if config_match(config.exclude_modules, config.exclude_modules, key, full=True):
                return EXCLUDED
        elif key in config.exclude_modules or any(key.endswith(f".{e}") for e in config.exclude_modules):
            return EXCLUDED
    # 0.16: modules_to_save entries, used as *regexes*, keep LoRA off the saved modules and everything below them.
    if version >= (0, 16) and config.modules_to_save:
        if any(config_match(m, modules_to_save_regex(m), key) for m in config.modules_to_save):
            return EXCLUDED
    if version >= (0, 17) and config.target_modules is None and config.target_parameters is not None:
        return False

    if isinstance(config.target_modules, str):
        return config_match(config.target_modules, config.target_modules, key, full=True)
    if key in config.target_modules:
        # An exact full-name entry bypasses layers_to_transform.
        return True
    found = any(key.endswith(f".{target_key}") for target_key in config.target_modules)
    layer_indexes = config.layers_to_transform
    using_layer_indexes = layer_indexes is not None and (
        len(layer_indexes) != 0 if isinstance(layer_indexes, list) else True
    )
    if using_layer_indexes and found:
        index = layer_index_match(key, config.layers_pattern, version)
        if index is None:
            return False
        if isinstance(layer_indexes, int):
            return int(index) == layer_indexes
        return int(index) in layer_indexes
    return found



def find_minimal_target_modules(target_modules, other_module_names) -> set[str]:
    """peft.tuners.tuners_utils._find_minimal_target_modules (only reached with >= 20 entries)."""
    target_modules = set(target_modules)
    if "" in target_modules:
        raise PeftRaise("ValueError", "empty_target_module", "target_modules should not contain an empty string.")
    other_module_names = set(other_module_names)
    if not target_modules.isdisjoint(other_module_names):
        raise PeftRaise(
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
            # PEFT asks `any(item.endswith("." + req) for req in required)`: a required entry ending `item` at a dot
            # is one of its proper suffixes, so look those up instead of scanning `required` (quadratic).
            if not any(proper in required for proper in suffixes[:-1]):
                required.add(suffix)
                break
    return required if required else set(target_modules)

