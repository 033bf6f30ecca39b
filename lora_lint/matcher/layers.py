"""The layer index PEFT reads from a module name for ``layers_to_transform`` / ``layers_pattern``."""

from __future__ import annotations

import re
from typing import Optional

from lora_lint.matcher.regexes import config_match


def layer_regex(pattern: str, version: tuple[int, int, int]) -> str:
    """The regex PEFT builds around one ``layers_pattern`` entry; the index is group ``idx`` (0.21+) or 1."""
    if version >= (0, 21):
        # 0.21: lazy prefix (first numbered segment), and the pattern may start the key.
        return rf"(?:^|.*?\.){pattern}\.(?P<idx>\d+)\."
    # Before 0.20 the prefix was greedy, picking the *last* numbered segment (e.g. the expert index of a v4 MoE
    # layer).
    lazy = "?" if version >= (0, 20) else ""
    return rf".*{lazy}\.{pattern}\.(\d+)\."


def layer_index_match(key: str, layers_pattern, version: tuple[int, int, int]) -> Optional[str]:
    """The layer index PEFT reads from ``key`` when layers_to_transform is set (None: no index found)."""
    if layers_pattern is None or len(layers_pattern) == 0:
        lazy = "?" if version >= (0, 20) else ""
        match = re.match(r".*?\.[^.]*\.(?P<idx>\d+)\." if version >= (0, 21) else rf".*{lazy}\.[^.]*\.(\d+)\.", key)
    else:
        for pattern in [layers_pattern] if isinstance(layers_pattern, str) else layers_pattern:
            match = config_match(pattern, layer_regex(pattern, version), key)
            if match is not None:
                break
    if match is None:
        return None
    return match.groupdict().get("idx") if version >= (0, 21) else match.group(1)
