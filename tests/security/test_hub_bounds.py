"""The Hub download is bounded: size (declared or sent), one deadline for the whole exchange, redirects, no
retry. Each scenario is a local 127.0.0.1 server that misbehaves in one way; every request loop is bounded and the
server stops by itself."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from lora_lint.model import hub
from lora_lint.model.resolve import resolve_model

COMMIT = "c" * 40
CONFIG = json.dumps({"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2}).encode()
HEADERS = f"X-Repo-Commit: {COMMIT}\r\nConnection: close\r\n".encode()
DEADLINE = 2.0  # the tests' deadline; the product's is hub.DEADLINE_SECONDS


def trickle(data: bytes, gap: float):
    def send(connection, stop):
        for byte in data:
            if stop.wait(gap):
                return
            connection.sendall(bytes([byte]))
    return send


SCENARIOS = {
    "ok": lambda c, stop: c.sendall(b"HTTP/1.1 200 OK\r\n" + HEADERS + b"Content-Length: %d\r\n\r\n" % len(CONFIG)
                                    + CONFIG),
    "declares 2 GB": lambda c, stop: c.sendall(b"HTTP/1.1 200 OK\r\n" + HEADERS + b"Content-Length: 2147483648\r\n\r\n"
                                               + b"{" * 65536),
    "endless body": lambda c, stop: [c.sendall(b"HTTP/1.1 200 OK\r\n" + HEADERS + b"\r\n")]
    + [c.sendall(b" " * 65536) for _ in range(400) if not stop.is_set()],
    "endless headers": lambda c, stop: [c.sendall(b"HTTP/1.1 200 OK\r\n")]
    + [c.sendall(b"X-Pad: " + b"a" * 1000 + b"\r\n") for _ in range(20000) if not stop.is_set()],
    "huge header line": lambda c, stop: [c.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")]
    + [c.sendall(b"a" * 65536) for _ in range(400) if not stop.is_set()],
    "trickled body": lambda c, stop: [c.sendall(b"HTTP/1.1 200 OK\r\n" + HEADERS + b"Content-Length: %d\r\n\r\n"
                                                % len(CONFIG))] + [trickle(CONFIG, 0.5)(c, stop)],
    "trickled headers": trickle(b"HTTP/1.1 200 OK\r\n" + HEADERS + b"\r\n" + CONFIG, 0.5),
    "dropped chunked body": lambda c, stop: c.sendall(b"HTTP/1.1 200 OK\r\n" + HEADERS
                                                      + b"Transfer-Encoding: chunked\r\n\r\n400\r\n{\"model_"),
    "ok without commit": lambda c, stop: c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
                                                   % len(CONFIG) + CONFIG),
    "redirect loop": lambda c, stop: c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again/resolve/main/config.json\r\n"
                                               b"Content-Length: 0\r\nConnection: close\r\n\r\n"),
}


class MisbehavingHub:
    def __init__(self, scenario: str):
        self.behave = SCENARIOS[scenario]
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.requests = 0
        self.request_lines: list[bytes] = []
        self.authorized: list[bool] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def serve(self):
        deadline = time.monotonic() + 60  # stops by itself
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            self.requests += 1
            with connection:
                try:
                    request = connection.recv(65536)
                    self.request_lines.append(request.split(b"\r\n")[0])
                    self.authorized.append(b"\r\nauthorization: bearer hf_test\r\n" in request.lower())
                    self.behave(connection, self.stop)
                except OSError:  # the client hung up, as it should
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.server.close()


@pytest.fixture
def hub_with(monkeypatch, tmp_path):
    servers = []

    def start(scenario: str):
        server = MisbehavingHub(scenario)
        servers.append(server)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_TOKEN", "hf_test")
        monkeypatch.setattr(hub, "DEADLINE_SECONDS", DEADLINE)
        return server

    yield start
    for server in servers:
        server.close()


def resolve(tmp_path):
    started = time.monotonic()
    result = resolve_model("someone/model", hf_cache_dir=tmp_path / "cache")
    return result, time.monotonic() - started


def test_a_well_behaved_hub_still_works(hub_with, tmp_path):
    server = hub_with("ok")
    result, _ = resolve(tmp_path)
    assert result.source == "hub" and result.config["n_layer"] == 2
    assert (tmp_path / "cache" / "models--someone--model" / "refs" / "main").read_text() == COMMIT
    assert resolve(tmp_path)[0].source == "cache" and server.requests == 1


@pytest.mark.parametrize("scenario, reason", [
    ("declares 2 GB", "config.json is 2147483648 bytes, more than the 16,777,216 lora-lint downloads"),
    ("endless body", "config.json is more than the 16,777,216 bytes lora-lint downloads"),
    ("endless headers", "got more than 100 headers"),
    ("huge header line", "LineTooLong"),
    ("trickled body", "the Hub did not send config.json in time"),
    ("trickled headers", "the Hub did not send config.json in time"),
    ("dropped chunked body", "IncompleteRead"),
    ("redirect loop", f"more than {hub.MAX_REDIRECTS} redirects"),
])
def test_a_misbehaving_hub_is_cut_off(hub_with, tmp_path, scenario, reason):
    server = hub_with(scenario)
    result, elapsed = resolve(tmp_path)
    assert not result.resolved
    assert result.tried[-1].startswith("hub: ") and reason in result.tried[-1], result.tried[-1]
    # Bounded: the deadline plus scheduling slack on a loaded machine, never the minutes the server would take
    # (trickling 80 bytes at 0.5 s each takes 40 s; the endless streams are 26 MB and 20 MB).
    assert elapsed < DEADLINE + 8
    assert server.requests == (hub.MAX_REDIRECTS + 1 if scenario == "redirect loop" else 1)  # never retried
    assert not (tmp_path / "cache" / "models--someone--model" / "snapshots").exists()


def test_the_environment_proxy_is_used_like_huggingface_hub_would(hub_with, tmp_path, monkeypatch):
    proxy = hub_with("ok")
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")  # reachable only through the proxy
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.endpoint)
    result, _ = resolve(tmp_path)
    assert result.source == "hub", result.tried
    assert proxy.request_lines == [b"GET http://hub.invalid/someone/model/resolve/main/config.json HTTP/1.1"]


def test_a_redirect_to_another_host_gets_no_token(hub_with, tmp_path, monkeypatch):
    cdn = hub_with("ok without commit")
    monkeypatch.setitem(SCENARIOS, "redirect to cdn", lambda c, stop: c.sendall(
        b"HTTP/1.1 307 Temporary Redirect\r\nX-Repo-Commit: " + COMMIT.encode() + b"\r\nLocation: " +
        cdn.endpoint.encode() + b"/blob\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
    hub_server = hub_with("redirect to cdn")  # the endpoint now
    result, _ = resolve(tmp_path)
    assert result.source == "hub", result.tried
    assert hub_server.authorized == [True] and cdn.authorized == [False]
    assert cdn.request_lines == [b"GET /blob HTTP/1.1"]
