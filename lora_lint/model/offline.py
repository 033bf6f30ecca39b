"""`--offline` for the whole process: no connection leaves it, whatever library would open one.

huggingface_hub (and transformers through it) read HF_HUB_OFFLINE once, when imported, so the variable is set
before they are, and their constant is set too when they already are. That alone leaves code paths that connect
anyway (a repository's own code fetched for trust_remote_code, telemetry), so an audit hook also refuses every
Internet connection while offline mode is on.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator

_ENVIRONMENT = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_INTERNET = (socket.AF_INET, socket.AF_INET6)
_state = {"offline": False, "hooked": False}


class OfflineConnectionRefused(ConnectionRefusedError):
    """A connection attempted while offline mode is on."""


@contextlib.contextmanager
def offline_mode(enabled: bool = True) -> Iterator[None]:
    """Within this block (a whole command-line run), nothing connects to the network."""
    if not enabled or _state["offline"]:
        yield
        return
    saved = {name: os.environ.get(name) for name in _ENVIRONMENT}
    os.environ.update(dict.fromkeys(_ENVIRONMENT, "1"))
    _set_hub_constant(True)
    if not _state["hooked"]:
        sys.addaudithook(_refuse_connections)  # cannot be removed: it checks the flag
        _state["hooked"] = True
    _state["offline"] = True
    try:
        yield
    finally:
        _state["offline"] = False
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _set_hub_constant(any(_true(value) for value in saved.values()))


def offline_in_environment() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set true: offline as if --offline were given."""
    return any(_true(os.environ.get(name)) for name in _ENVIRONMENT)


def _set_hub_constant(value: bool) -> None:
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = value


def _true(value: str | None) -> bool:
    return (value or "").upper() in ("1", "ON", "YES", "TRUE")


def _refuse_connections(event: str, args: tuple) -> None:
    if not _state["offline"] or event not in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        return
    sock = args[0]
    if getattr(sock, "family", None) in _INTERNET:
        raise OfflineConnectionRefused(f"offline mode: lora-lint does not connect to {args[1]!r}")
