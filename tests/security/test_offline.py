"""--offline means no connection at all for the whole run: counted at a local server that the Hub endpoint points
to, including the trust_remote_code path that fetches a repository's own code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lora_lint.model.offline import OfflineConnectionRefused, offline_in_environment, offline_mode

REPO = Path(__file__).resolve().parents[2]
COMMIT = "a" * 40
REMOTE_CODE_CONFIG = {"model_type": "x-custom", "architectures": ["XForCausalLM"], "auto_map": {
    "AutoConfig": "configuration_x.XConfig", "AutoModelForCausalLM": "modeling_x.XForCausalLM"}}


class CountingServer:
    """Accepts connections on 127.0.0.1, counts them and answers every request with the Hub's 404."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.connections = 0
        self.requests: list[bytes] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def serve(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(5)
                try:
                    self.requests.append(connection.recv(65536).split(b"\r\n", 1)[0])
                    connection.sendall(b"HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\n"
                                       b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.socket.close()


@pytest.fixture
def server():
    hub = CountingServer()
    yield hub
    hub.close()


@pytest.fixture
def remote_code_model(tmp_path) -> Path:
    repo = tmp_path / "hf-cache" / "models--someone--remote"
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "config.json").write_text(json.dumps(REMOTE_CODE_CONFIG))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    (tmp_path / "config.yml").write_text("model:\n  hf_model_ckpt: someone/remote\nlora:\n  r: 8\n")
    (tmp_path / "uncached.yml").write_text("model:\n  hf_model_ckpt: someone/not-cached\nlora:\n  r: 8\n")
    return tmp_path


def run(tmp_path: Path, server: CountingServer, *args: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGINGFACE",
                                                                                             "TRANSFORMERS_"))}
    environment.update(PYTHONPATH=str(REPO), HF_ENDPOINT=server.endpoint, HF_HOME=str(tmp_path / "hf-home"),
                       HF_HUB_CACHE=str(tmp_path / "hf-cache"))
    return subprocess.run([sys.executable, "-m", "lora_lint", *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_offline_with_trust_remote_code_makes_no_connection(remote_code_model, server):
    args = ["check", "config.yml", "uncached.yml", "--trust-remote-code", "--no-cache", "--output-format", "json"]
    offline = run(remote_code_model, server, *args, "--offline")
    assert offline.returncode == 0, offline.stderr
    assert server.connections == 0, server.requests
    files = json.loads(offline.stdout)["files"]
    assert [d["code"] for d in files[0]["diagnostics"]] == ["LL201"]
    assert "offline" in files[1]["diagnostics"][0]["help"]

    online = run(remote_code_model, server, *args)  # the same run, online, does reach the server
    assert online.returncode == 0, online.stderr
    assert server.connections > 0


def test_offline_mode_refuses_connections_only_inside_the_block(server):
    address = ("127.0.0.1", server.socket.getsockname()[1])
    with offline_mode():
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        with pytest.raises(OfflineConnectionRefused):
            socket.create_connection(address, timeout=5)
    socket.create_connection(address, timeout=5).close()  # the rest of the process is not affected
    for _ in range(100):
        if server.connections:
            break
        threading.Event().wait(0.05)
    assert server.connections == 1


def test_hub_offline_environment_means_offline(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert not offline_in_environment()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert offline_in_environment()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "yes")
    assert offline_in_environment()
