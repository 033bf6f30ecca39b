"""``rank_pattern`` / ``alpha_pattern``: which key applies to a module, and the rank and alpha it gets."""

from __future__ import annotations

from lora_lint.matcher.config import Config
from lora_lint.matcher.regexes import config_match


def pattern_key_regex(key: str, version: tuple[int, int, int]) -> str:
    # 0.15 made the leading dotted prefix optional, so a pattern can match a top-level name.
    return rf"(.*\.)?({key})$" if version >= (0, 15) else rf".*\.{key}$"


def get_pattern_key(pattern_keys, key_to_match: str, version: tuple[int, int, int]) -> str:
    """peft.utils.other.get_pattern_key: the first key (in dict order) whose regex matches wins."""
    for key in pattern_keys:
        if config_match(key, pattern_key_regex(key, version), key_to_match):
            return key
    return key_to_match


def rank_and_alpha(config: Config, key: str) -> tuple[int, float]:
    if config.version < (0, 14):
        # 0.13 looked up one key in rank_pattern + alpha_pattern (chained) and used it for both.
        pattern_key = get_pattern_key(list(config.rank_pattern) + list(config.alpha_pattern), key, config.version)
        return (
            config.rank_pattern.get(pattern_key, config.r),
            config.alpha_pattern.get(pattern_key, config.lora_alpha),
        )
    r_key = get_pattern_key(config.rank_pattern.keys(), key, config.version)
    alpha_key = get_pattern_key(config.alpha_pattern.keys(), key, config.version)
    return config.rank_pattern.get(r_key, config.r), config.alpha_pattern.get(alpha_key, config.lora_alpha)

