"""Versions of installed packages, cheaply.

importlib.metadata imports the email package and parses a METADATA file per lookup, about 25 ms on the pre-commit
path; the version is also in the name of the `<name>-<version>.dist-info` folder that pip installs on sys.path.
Distributions installed without one (old eggs) read as not installed.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache


@lru_cache(maxsize=None)
def installed_version(package: str) -> str | None:
    prefix = re.sub(r"[-_.]+", "_", package).lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and name.lower().startswith(prefix):
                return name[len(prefix):-len(".dist-info")]
    return None
