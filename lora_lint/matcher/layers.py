"""The layer index PEFT reads from a module name for ``layers_to_transform`` / ``layers_pattern``."""

from __future__ import annotations

import re
from typing import Optional


def layer_index_match(key: str, layers_pattern, version: tuple[int, int, int]) -> Optional[str]:
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

