"""Model resolution from each source, in order (local, catalogue, HF cache, hub), the model class a trainer loads,
and get_inventory's choice between shipped, cached and built inventories."""

from __future__ import annotations

import hashlib
import http.server
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lora_lint.model import hub as hub_download
from lora_lint.model import resolve
from lora_lint.model.catalog import inventories_transformers_version, lookup
from lora_lint.model.resolve import choose_model_class, default_hf_cache_dir, get_inventory, resolve_model

REPO = Path(__file__).resolve().parents[2]
TINY_GPT2 = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": 2, "n_embd": 32, "n_head": 2,
             "vocab_size": 100, "n_positions": 64}
COMMIT_MAIN = "a" * 40
COMMIT_V2 = "b" * 40


@pytest.fixture(autouse=True)
def no_hub(monkeypatch):
    """No test here may reach out by accident: the Hub step is exercised only against a local server."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def fake_hf_cache(root: Path, model_id: str, snapshots: dict[str, dict], refs: dict[str, str]) -> Path:
    """The layout huggingface_hub leaves: models--org--name/refs/<revision> and snapshots/<commit>/config.json."""
    repo = root / ("models--" + model_id.replace("/", "--"))
    for commit, config in snapshots.items():
        (repo / "snapshots" / commit).mkdir(parents=True)
        (repo / "snapshots" / commit / "config.json").write_text(json.dumps(config))
    (repo / "refs").mkdir(parents=True)
    for revision, commit in refs.items():
        (repo / "refs" / revision).write_text(commit)
    return root


# -- local -------------------------------------------------------------------------------------------------------


def test_local_directory_and_config_file(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(TINY_GPT2))
    by_directory = resolve_model(str(tmp_path))
    assert (by_directory.source, by_directory.config, by_directory.model_id) == ("local", TINY_GPT2, str(tmp_path))
    assert by_directory.config_path == tmp_path / "config.json"

    named = tmp_path / "base-model.json"
    named.write_text(json.dumps(TINY_GPT2))
    by_file = resolve_model(str(named))
    assert by_file.source == "local" and by_file.config == TINY_GPT2


def test_local_directory_without_config_stops_there(tmp_path):
    gpt2 = tmp_path / "gpt2"  # a directory named like a catalogued model: the trainer would load the directory
    gpt2.mkdir()
    result = resolve_model(str(gpt2))
    assert not result.resolved and result.source is None
    assert result.tried == [f"local: directory {str(gpt2)!r} has no config.json"]


def test_local_config_that_is_not_json(tmp_path):
    (tmp_path / "config.json").write_text("{broken")
    result = resolve_model(str(tmp_path))
    assert not result.resolved and result.tried[0].startswith("local: cannot read")


# -- catalogue ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["openai-community/gpt2", "gpt2", "OpenAI-Community/GPT2"])
def test_catalogue_by_id_alias_and_case(reference):
    result = resolve_model(reference)
    assert result.source == "catalog" and result.model_id == "openai-community/gpt2"
    assert result.config == lookup("gpt2").config() and result.catalog_entry is lookup("gpt2")
    assert result.tried == [f"local: no directory or file {reference!r}"]


def test_catalogue_wins_over_hf_cache_but_not_for_another_revision(tmp_path):
    other = {**TINY_GPT2, "n_layer": 7}
    cache = fake_hf_cache(tmp_path, "openai-community/gpt2", {COMMIT_MAIN: other, COMMIT_V2: other},
                          {"main": COMMIT_MAIN, "v2": COMMIT_V2})
    assert resolve_model("openai-community/gpt2", hf_cache_dir=cache).source == "catalog"

    at_v2 = resolve_model("openai-community/gpt2", "v2", hf_cache_dir=cache)
    assert at_v2.source == "cache" and at_v2.config == other
    assert "catalogue: skipped, it holds revision 'main' and 'v2' was asked for" in at_v2.tried


# -- Hugging Face cache ------------------------------------------------------------------------------------------


def test_hf_cache_honours_revision_and_commit(tmp_path):
    v2 = {**TINY_GPT2, "n_layer": 4}
    cache = fake_hf_cache(tmp_path, "someone/tiny-gpt2", {COMMIT_MAIN: TINY_GPT2, COMMIT_V2: v2},
                          {"main": COMMIT_MAIN, "v2": COMMIT_V2})

    main = resolve_model("someone/tiny-gpt2", hf_cache_dir=cache)
    assert (main.source, main.config, main.model_id) == ("cache", TINY_GPT2, "someone/tiny-gpt2")
    assert main.config_path == cache / "models--someone--tiny-gpt2" / "snapshots" / COMMIT_MAIN / "config.json"
    assert resolve_model("someone/tiny-gpt2", "v2", hf_cache_dir=cache).config == v2
    assert resolve_model("someone/tiny-gpt2", COMMIT_V2, hf_cache_dir=cache).config == v2

    missing = resolve_model("someone/tiny-gpt2", "v3", hf_cache_dir=cache)
    assert not missing.resolved
    assert "HF cache: someone/tiny-gpt2 is cached, but not at revision 'v3'" in missing.tried


def test_hf_cache_location_from_environment(tmp_path, monkeypatch):
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_hf_cache_dir() == tmp_path / "home" / ".cache" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    assert default_hf_cache_dir() == tmp_path / "hf-home" / "hub"

    cache = fake_hf_cache(tmp_path / "hub-cache", "someone/tiny-gpt2", {COMMIT_MAIN: TINY_GPT2}, {"main": COMMIT_MAIN})
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert resolve_model("someone/tiny-gpt2").source == "cache"


def test_hf_cache_snapshot_without_config(tmp_path):
    cache = fake_hf_cache(tmp_path, "someone/tiny-gpt2", {}, {"main": COMMIT_MAIN})
    result = resolve_model("someone/tiny-gpt2", hf_cache_dir=cache)
    assert f"HF cache: snapshot {COMMIT_MAIN} of someone/tiny-gpt2 has no config.json" in result.tried


# -- hub ---------------------------------------------------------------------------------------------------------


class FakeHub(http.server.ThreadingHTTPServer):
    """Serves `/<repo>/resolve/<revision>/config.json` with the headers huggingface_hub needs (X-Repo-Commit and
    ETag on HEAD; the body on GET), and the X-Error-Code it maps to its exceptions."""

    def __init__(self, files: dict[tuple[str, str], tuple[str, dict]]):
        self.files = files  # (repo id, revision) -> (commit, config)
        self.requests: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), FakeHubHandler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeHubHandler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.answer(send_body=False)

    def do_GET(self):
        self.answer(send_body=True)

    def answer(self, send_body: bool):
        self.server.requests.append((self.command, self.path))
        repo, separator, rest = self.path.lstrip("/").partition("/resolve/")
        revision, _, filename = rest.partition("/")
        repos = {repo_id for repo_id, _ in self.server.files}
        if not separator or repo not in repos:
            return self.fail("RepoNotFound")
        if (repo, revision) not in self.server.files:
            return self.fail("RevisionNotFound")
        if filename != "config.json":
            return self.fail("EntryNotFound")
        commit, config = self.server.files[(repo, revision)]
        body = json.dumps(config).encode()
        self.send_response(200)
        self.send_header("X-Repo-Commit", commit)
        self.send_header("ETag", f'"{hashlib.sha1(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def fail(self, error_code: str):
        self.send_response(404)
        self.send_header("X-Error-Code", error_code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HUB_SCENARIOS = """
import json, os, sys
from lora_lint.model.resolve import resolve_model

def run(reference, revision=None, **options):
    result = resolve_model(reference, revision, **options)
    return {"source": result.source, "config": result.config, "tried": result.tried}

outcomes = {
    "main": run("someone/tiny-gpt2"),
    "v2": run("someone/tiny-gpt2", "v2"),
    "no repo": run("nobody/nothing"),
    "no revision": run("someone/tiny-gpt2", "v9"),
    "offline argument": run("someone/offline-one", offline=True),
    "cached after download": run("someone/tiny-gpt2"),
}
os.environ["HF_HUB_OFFLINE"] = "1"
outcomes["offline environment"] = run("someone/offline-two")
print(json.dumps(outcomes))
"""


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGINGFACE"))}
    environment.update(PYTHONPATH=str(REPO), HF_HOME=str(tmp_path / "hf-home"), **env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                          timeout=120, check=True)


def test_hub_download_honours_revision_and_offline(tmp_path):
    v2 = {**TINY_GPT2, "n_layer": 4}
    hub = FakeHub({("someone/tiny-gpt2", "main"): (COMMIT_MAIN, TINY_GPT2),
                   ("someone/tiny-gpt2", "v2"): (COMMIT_V2, v2),
                   ("someone/offline-one", "main"): (COMMIT_MAIN, TINY_GPT2),
                   ("someone/offline-two", "main"): (COMMIT_MAIN, TINY_GPT2)})
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    try:
        result = run_python(HUB_SCENARIOS, tmp_path, HF_ENDPOINT=hub.endpoint, HF_HUB_CACHE=str(tmp_path / "cache"))
    finally:
        hub.shutdown()
        hub.server_close()
    outcomes = json.loads(result.stdout)

    assert (outcomes["main"]["source"], outcomes["main"]["config"]) == ("hub", TINY_GPT2)
    assert (outcomes["v2"]["source"], outcomes["v2"]["config"]) == ("hub", v2)
    assert ("GET", "/someone/tiny-gpt2/resolve/v2/config.json") in hub.requests
    assert outcomes["no repo"]["source"] is None
    assert outcomes["no repo"]["tried"][-1].startswith("hub: no repository nobody/nothing")
    assert outcomes["no revision"]["tried"][-1] == "hub: someone/tiny-gpt2 has no revision 'v9'"
    # The download landed in the HF cache, which the next run reads without asking the Hub.
    assert outcomes["cached after download"]["source"] == "cache"
    assert outcomes["cached after download"]["config"] == TINY_GPT2
    # One GET, no HEAD, no retry; the second run reads the cache.
    assert [request for request in hub.requests if request[1] == "/someone/tiny-gpt2/resolve/main/config.json"] == [
        ("GET", "/someone/tiny-gpt2/resolve/main/config.json")]
    # Offline: the repository exists on the server, yet it is never asked.
    assert outcomes["offline argument"]["source"] is None
    assert outcomes["offline argument"]["tried"][-1] == "hub: offline (offline mode asked for)"
    assert outcomes["offline environment"]["source"] is None
    assert outcomes["offline environment"]["tried"][-1] == "hub: offline (HF_HUB_OFFLINE=1)"
    assert not any("offline-" in path for _, path in hub.requests)


def test_unreachable_hub_fails_fast(tmp_path):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    code = ("import json, time\nfrom lora_lint.model.resolve import resolve_model\nstarted = time.perf_counter()\n"
            "result = resolve_model('someone/tiny-gpt2')\n"
            "print(json.dumps([result.tried[-1], time.perf_counter() - started]))")
    result = run_python(code, tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{closed_port}",
                        HF_HUB_CACHE=str(tmp_path / "cache"))
    last_tried, elapsed = json.loads(result.stdout)
    assert last_tried.startswith("hub: could not reach the Hub for someone/tiny-gpt2")
    assert elapsed < hub_download.CONNECT_TIMEOUT_SECONDS  # not huggingface_hub's ~20 s of retries


def test_not_a_repo_id_is_not_looked_up_further(tmp_path):
    result = resolve_model(str(tmp_path / "missing" / "model"))
    assert not result.resolved
    assert result.tried[-1].endswith("is not a Hub repository id")
    assert resolve_model("  ").tried == ["no model named"]


# -- model class -------------------------------------------------------------------------------------------------


def test_choose_model_class():
    llama = lookup("meta-llama/Llama-2-7b-hf").config()
    assert choose_model_class(llama, "llmtune", "SEQ_CLS") == "AutoModelForCausalLM"
    assert choose_model_class(llama, "peft", "CAUSAL_LM") == "AutoModelForCausalLM"
    assert choose_model_class(llama, "peft", "SEQ_2_SEQ_LM") == "AutoModelForSeq2SeqLM"
    assert choose_model_class(llama, "peft", "SEQ_CLS") == "AutoModelForSequenceClassification"
    assert choose_model_class(llama, "peft", "TOKEN_CLS") == "AutoModelForTokenClassification"
    assert choose_model_class(llama, "peft", "QUESTION_ANS") == "AutoModelForQuestionAnswering"
    assert choose_model_class(llama, "peft", None) == "LlamaForCausalLM"
    assert choose_model_class(llama, "peft", "FEATURE_EXTRACTION") == "LlamaForCausalLM"
    assert choose_model_class(lookup("microsoft/deberta-v3-base").config()) == "AutoModel"
    assert choose_model_class(None) == "AutoModel"


# -- inventory ---------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue_transformers(monkeypatch):
    """The installed transformers is the one that built the catalogue (CI may install another)."""
    monkeypatch.setattr(resolve, "installed_version", lambda package: inventories_transformers_version())


def test_catalogued_model_uses_the_shipped_inventory(tmp_path, catalogue_transformers):
    result = get_inventory(resolve_model("meta-llama/Llama-3.1-70B"), "AutoModelForCausalLM", cache_dir=tmp_path)
    assert result.source == "catalog" and result.failure is None and result.notes == []
    assert result.inventory["class"] == "LlamaForCausalLM" and result.inventory["total_parameters"] == 70_553_706_496
    assert not (tmp_path / "inventories").exists()


def test_shipped_inventory_without_transformers_says_which_version(monkeypatch, tmp_path):
    monkeypatch.setattr(resolve, "installed_version", lambda package: None)
    monkeypatch.setattr(resolve, "_missing_build_requirements", lambda: ["torch", "transformers", "accelerate"])
    result = get_inventory(resolve_model("gpt2"), "GPT2LMHeadModel", cache_dir=tmp_path)
    assert result.source == "catalog" and result.inventory["class"] == "GPT2LMHeadModel"
    assert len(result.notes) == 1 and f"transformers {inventories_transformers_version()}" in result.notes[0]

    outside = get_inventory(resolve_model(str(write_config(tmp_path))), "AutoModelForCausalLM")
    assert outside.inventory is None and "lora-lint[model]" in outside.failure


def test_catalogued_model_is_rebuilt_for_another_transformers_version(monkeypatch, tmp_path):
    monkeypatch.setattr(resolve, "installed_version", lambda package: "4.99.0")
    first = get_inventory(resolve_model("gpt2"), "AutoModelForCausalLM", cache_dir=tmp_path)
    second = get_inventory(resolve_model("gpt2"), "AutoModelForCausalLM", cache_dir=tmp_path)
    assert (first.source, second.source) == ("built", "cache")
    assert first.inventory == second.inventory
    assert first.inventory["total_parameters"] == 124_439_808


def test_catalogued_model_falls_back_to_shipped_when_rebuilding_fails(monkeypatch, tmp_path):
    def failing_build(*args, **kwargs):
        raise resolve.InventoryBuildError("no such class in this version")

    monkeypatch.setattr(resolve, "installed_version", lambda package: "4.99.0")
    monkeypatch.setattr(resolve, "build_inventory", failing_build)
    result = get_inventory(resolve_model("gpt2"), "AutoModelForCausalLM", cache_dir=tmp_path)
    assert result.source == "catalog" and result.inventory["class"] == "GPT2LMHeadModel"
    assert "transformers 4.99.0 failed (no such class in this version)" in result.notes[0]


def write_config(directory: Path) -> Path:
    (directory / "config.json").write_text(json.dumps(TINY_GPT2))
    return directory


def test_model_outside_the_catalogue_is_built_then_cached(tmp_path):
    resolved = resolve_model(str(write_config(tmp_path)))
    cache_dir = tmp_path / "cache"
    first = get_inventory(resolved, "AutoModelForCausalLM", cache_dir=cache_dir)
    second = get_inventory(resolved, "AutoModelForCausalLM", cache_dir=cache_dir)
    assert (first.source, second.source) == ("built", "cache") and first.inventory == second.inventory
    assert first.inventory["class"] == "GPT2LMHeadModel"

    uncached = get_inventory(resolved, "AutoModelForSequenceClassification", cache_dir=cache_dir, use_cache=False)
    assert uncached.source == "built" and uncached.inventory["class"] == "GPT2ForSequenceClassification"
    assert len(list((cache_dir / "inventories").iterdir())) == 1


def test_inventory_failures_are_reasons_not_exceptions(tmp_path, catalogue_transformers):
    unmapped = get_inventory(resolve_model("meta-llama/Llama-2-7b-hf"), "AutoModelForSeq2SeqLM", cache_dir=tmp_path)
    assert unmapped.inventory is None
    assert unmapped.failure == (
        f"transformers {inventories_transformers_version()} has no AutoModelForSeq2SeqLM for model_type 'llama'")

    unresolved = get_inventory(resolve_model("nobody/nothing", hf_cache_dir=tmp_path), "AutoModel")
    assert unresolved.inventory is None and "not resolved" in unresolved.failure

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "not-a-model"}))
    unknown = get_inventory(resolve_model(str(tmp_path)), "AutoModel", cache_dir=tmp_path / "cache")
    installed = importlib.metadata.version("transformers")
    assert unknown.failure == f"transformers {installed} does not know model_type 'not-a-model'"
