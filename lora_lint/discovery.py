"""Which files `check` lints: files named on the command line as given, directories walked for config files."""

from __future__ import annotations

import os
from pathlib import Path

from lora_lint.cli import usage_error

CONFIG_SUFFIXES = (".yml", ".yaml", ".json")


def discover(paths: list[str], settings_for, force_exclude: bool):
    """Yield (file, named explicitly) pairs."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "node_modules")
                for filename in sorted(filenames):
                    candidate = Path(folder) / filename
                    if candidate.suffix.lower() in CONFIG_SUFFIXES and candidate not in seen:
                        seen.add(candidate)
                        if not settings_for(candidate).excluded(candidate):
                            yield candidate, False
        elif path.exists():
            if path not in seen and not (force_exclude and settings_for(path).excluded(path)):
                seen.add(path)
                yield path, True
        else:
            raise usage_error(f"{raw}: no such file or directory")
