"""Download a model's config.json from the Hugging Face Hub, within bounds, into the Hugging Face cache.

huggingface_hub's own download has no size cap, no deadline for the whole exchange (a body trickled a byte at a
time never times out) and retries a dropped body. A linter may wait seconds, never minutes: one GET (plus a few
redirects), a deadline that covers connecting, headers and body, a size cap checked before and while reading, and
no retry. What it downloads is stored in the cache layout huggingface_hub uses, so later runs, and the trainer,
find it there.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path
import urllib.request
from urllib.parse import quote, unquote, urljoin, urlsplit

import lora_lint
from lora_lint.files import read_regular_file, write_atomically

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT_SECONDS = 5.0  # also for each read: an unreachable Hub must not stall a pre-commit run
DEADLINE_SECONDS = 20.0  # the whole exchange, however the server paces it
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 5
_COMMIT_HASH = re.compile(r"[0-9a-f]{40}")


class HubError(Exception):
    """The download failed; `kind` says how (repo, revision, entry, gated, size, deadline, network, http)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def download_config(model_id: str, revision: str | None, cache_dir: Path) -> Path:
    """Download config.json of `model_id` (a validated repo id) at `revision` (a validated revision, or None for
    main) and store it in `cache_dir`. Returns the stored file's path. Raises HubError."""
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    url = f"{endpoint}/{model_id}/resolve/{quote(revision or 'main', safe='')}/config.json"
    body, commit = _get(url, urlsplit(endpoint).netloc, time.monotonic() + DEADLINE_SECONDS, MAX_CONFIG_BYTES)
    return _store(cache_dir, model_id, revision or "main", commit, body)


def _get(url: str, endpoint_host: str, deadline: float, max_bytes: int) -> tuple[bytes, str]:
    token = _token()
    commit = ""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        headers = {"User-Agent": f"lora-lint/{lora_lint.__version__}", "Accept-Encoding": "identity"}
        if token and parts.netloc == endpoint_host:  # never hand the token to another host
            headers["Authorization"] = f"Bearer {token}"
        status, response_headers, body = _exchange(parts, headers, deadline, max_bytes)
        commit = commit or response_headers.get("x-repo-commit", "")  # the Hub's answer has it, a CDN's not
        if status in (301, 302, 303, 307, 308) and response_headers.get("location"):
            url = urljoin(url, response_headers["location"])
            continue
        if status == 200:
            if not _COMMIT_HASH.fullmatch(commit):
                raise HubError("http", "the Hub's answer names no commit (X-Repo-Commit)")
            return body, commit
        raise _status_error(status, response_headers.get("x-error-code", ""))
    raise HubError("http", f"more than {MAX_REDIRECTS} redirects")


def _exchange(parts, headers: dict, deadline: float, max_bytes: int) -> tuple[int, dict, bytes]:
    """One request, all of it (connect, headers, body) before `deadline`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise HubError("deadline", "the Hub did not answer in time")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HubError("http", f"redirected to a {parts.scheme or 'relative'} URL")
    connection, target = _connection(parts, headers, min(CONNECT_TIMEOUT_SECONDS, remaining))
    expired = threading.Event()
    sockets = []  # the connected socket: the response keeps reading it after the connection lets go of it

    def cut_off():
        expired.set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked on a server that trickles
            except OSError:
                pass

    timer = threading.Timer(remaining, cut_off)
    timer.daemon = True
    timer.start()
    try:
        connection.connect()
        sockets.append(connection.sock)
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        response_headers = {key.lower(): value for key, value in response.getheaders()}
        declared = response_headers.get("content-length", "")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
            raise HubError("size", f"config.json is {declared} bytes, more than the {max_bytes:,} lora-lint "
                                   "downloads")
        body = b""
        if response.status == 200:
            chunks, size = [], 0
            while chunk := response.read(min(1 << 16, max_bytes + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise HubError("size", f"config.json is more than the {max_bytes:,} bytes lora-lint downloads")
            body = b"".join(chunks)
            if expired.is_set():  # the cut-off ends a read as an early end of file
                raise HubError("deadline", "the Hub did not send config.json in time")
            if declared.isdigit() and size != int(declared):
                raise HubError("network", f"the answer was cut short: {size:,} of {int(declared):,} bytes")
        return response.status, response_headers, body
    except HubError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            raise HubError("deadline", "the Hub did not send config.json in time") from None
        raise HubError("network", f"{type(exc).__name__}: {exc}") from None
    finally:
        timer.cancel()
        connection.close()


def _connection(parts, headers: dict, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection for `parts` and the request target, through the proxy the environment names (HTTPS_PROXY,
    HTTP_PROXY, NO_PROXY), as huggingface_hub's client would use it."""
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname):
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                               context=ssl.create_default_context()), path
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout), path
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    proxy_headers = {}
    if via.username:
        credentials = f"{unquote(via.username)}:{unquote(via.password or '')}".encode()
        proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    if parts.scheme == "https":  # a CONNECT tunnel: the proxy sees neither the request nor the token
        connection = http.client.HTTPSConnection(via.hostname, via.port or 8080, timeout=timeout,
                                                 context=ssl.create_default_context())
        connection.set_tunnel(parts.hostname, parts.port or 443, headers=proxy_headers)
        return connection, path
    headers.update(proxy_headers)
    return http.client.HTTPConnection(via.hostname, via.port or 8080, timeout=timeout), parts.geturl()


def _status_error(status: int, error_code: str) -> HubError:
    if error_code == "GatedRepo":
        return HubError("gated", "gated")
    if error_code == "RepoNotFound" or (status == 401 and not error_code):
        return HubError("repo", "no repository")
    if error_code == "RevisionNotFound":
        return HubError("revision", "no revision")
    if error_code == "EntryNotFound" or status == 404:
        return HubError("entry", "no config.json")
    return HubError("http", f"the Hub answered HTTP {status}")


def _token() -> str | None:
    """The user's Hub token, where huggingface_hub looks for it: HF_TOKEN, else the file `hf auth login` wrote."""
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        return token.strip()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    path = os.environ.get("HF_TOKEN_PATH") or os.path.join(os.path.expanduser(home), "token")
    try:
        return read_regular_file(path, 4096).decode("utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _store(cache_dir: Path, model_id: str, revision: str, commit: str, body: bytes) -> Path:
    """Write the file where huggingface_hub would (snapshots/<commit>/config.json, refs/<revision>); a cache that
    cannot be written is not an error: the downloaded file is still used, from a temporary directory."""
    repo = cache_dir / ("models--" + model_id.replace("/", "--"))
    target = repo / "snapshots" / commit / "config.json"
    try:
        write_atomically(target, body)
        if revision != commit:
            write_atomically(repo / "refs" / revision, commit.encode("ascii"))
        return target
    except OSError:
        fallback = Path(tempfile.mkdtemp(prefix="lora-lint-hub-")) / "config.json"
        fallback.write_bytes(body)
        return fallback

