"""A config under lint must never make lora-lint read, and so print, a file outside the model caches.

Every config value that reaches a path is tried: the revision (toolkit, flat PEFT and adapter_config.json
spellings), the model reference (each dialect's key, the settings' `models` mapping and --model), and the contents
of the Hugging Face cache itself (a ref holding a path, snapshot files symlinked out of the cache). Each run checks
all five output formats for the secret.
"""

from __future__ import annotations

import json
import os

import pytest

from lora_lint import base_model
from lora_lint.cli import main
from lora_lint.report import RENDERERS

SECRET = "SECRET-7f3a9c-do-not-print"
COMMIT = "a" * 40
TINY_GPT2 = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": 2, "n_embd": 32, "n_head": 2,
             "vocab_size": 100, "n_positions": 64}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A secret outside the cache, an HF cache holding a snapshot of someone/model, offline."""
    secrets = tmp_path / "private"
    secrets.mkdir()
    (secrets / "secret.txt").write_text(SECRET + "\n")
    (secrets / "secret.json").write_text(json.dumps({**TINY_GPT2, "model_type": SECRET}))
    cache = tmp_path / "hf-cache"
    repo = cache / "models--someone--model"
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "config.json").write_text(json.dumps(TINY_GPT2))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    base_model._resolve.cache_clear()
    yield tmp_path, secrets, repo
    base_model._resolve.cache_clear()


def lint_all_formats(capsys, monkeypatch, *args) -> dict[str, str]:
    """One real command-line run, its reports rendered in every format."""
    seen = []
    json_renderer = RENDERERS["json"]
    monkeypatch.setitem(RENDERERS, "json", lambda reports, color=False: seen.append(reports) or json_renderer(reports))
    base_model._resolve.cache_clear()
    code = main(["check", "--offline", "--no-cache", "--output-format", "json", *map(str, args)])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    outputs = {name: render(seen[0]) for name, render in RENDERERS.items() if name != "json"}
    outputs["json"] = captured.out
    outputs["stderr"] = captured.err
    json.loads(outputs["json"]), json.loads(outputs["sarif"])  # still parse
    return outputs


def assert_not_disclosed(outputs: dict[str, str]) -> None:
    for output_format, text in outputs.items():
        assert SECRET not in text, f"{output_format} output discloses the secret"


TRAVERSALS = [
    "{secrets}/secret.txt",  # an absolute path: joining it replaces the whole cache path
    "../../../private/secret.txt",
    "refs/../../../../private/secret.txt",
    "main/../../../../../private/secret.txt",
    "..",
    "main\x00",
    "main.lock",
]

REVISION_CONFIGS = {
    "llmtune": ("config.yml", "model:\n  hf_model_ckpt: someone/model\nlora:\n  r: 8\n  revision: {revision}\n"),
    "peft": ("config.yml", "base_model_name_or_path: someone/model\nrevision: {revision}\nr: 8\n"
                           "target_modules: [c_attn]\n"),
    "adapter_config.json": ("adapter_config.json", None),
}


@pytest.mark.parametrize("dialect", REVISION_CONFIGS)
@pytest.mark.parametrize("traversal", TRAVERSALS)
def test_revision_traversal_is_refused(world, capsys, monkeypatch, dialect, traversal):
    root, secrets, _ = world
    revision = traversal.format(secrets=secrets)
    name, template = REVISION_CONFIGS[dialect]
    if template is None:
        text = json.dumps({"peft_type": "LORA", "base_model_name_or_path": "someone/model", "revision": revision,
                           "r": 8, "target_modules": ["c_attn"]})
    else:
        text = template.format(revision=json.dumps(revision))
    (root / name).write_text(text)
    outputs = lint_all_formats(capsys, monkeypatch, root / name)
    assert_not_disclosed(outputs)
    revision_line = next(i for i, line in enumerate(text.splitlines(), 1) if "revision" in line)
    diagnostics = json.loads(outputs["json"])["files"][0]["diagnostics"]
    if dialect == "llmtune":
        # The toolkit's `lora:` schema has no `revision`: it drops the key, so no revision reaches the model lookup.
        assert [(d["code"], d["line"]) for d in diagnostics if d["code"] in ("LL134", "LL201")] == [
            ("LL134", revision_line)]
        return
    [diagnostic] = [d for d in diagnostics if d["code"] == "LL201"]
    assert "is not a branch, tag or commit name" in diagnostic["message"]
    assert diagnostic["line"] == revision_line


def test_a_valid_revision_still_resolves_from_the_cache(world, capsys, monkeypatch):
    root, _, repo = world
    (repo / "refs" / "refs" / "pr").mkdir(parents=True)
    (repo / "refs" / "refs" / "pr" / "3").write_text(COMMIT)
    (root / "config.yml").write_text("base_model_name_or_path: someone/model\nrevision: refs/pr/3\nr: 8\n"
                                     "target_modules: [c_attn]\n")
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml")
    report = json.loads(outputs["json"])["files"][0]
    assert report["model"]["source"] == "cache" and report["model"]["id"] == "someone/model"


MODEL_REFERENCES = [
    "{secrets}/secret.txt",  # a file that is not a model's .json config is never parsed
    "{secrets}/../private/secret.txt",
    "someone/../../private",
    "models--someone--model/../../private",
    "../" * 12 + "{secrets}",
]


@pytest.mark.parametrize("where", ["llmtune", "peft", "settings models", "--model"])
@pytest.mark.parametrize("reference", MODEL_REFERENCES)
def test_model_reference_traversal_is_refused(world, capsys, monkeypatch, where, reference):
    root, secrets, _ = world
    reference = reference.format(secrets=secrets)
    args = []
    if where == "llmtune":
        text = f"model:\n  hf_model_ckpt: {json.dumps(reference)}\nlora:\n  r: 8\n"
    elif where == "peft":
        text = f"base_model_name_or_path: {json.dumps(reference)}\nr: 8\ntarget_modules: [c_attn]\n"
    else:
        text = "r: 8\nlora_alpha: 16\ntarget_modules: [c_attn]\n"
        if where == "settings models":
            (root / ".lora-lint.toml").write_text(f'[models]\n"*.yml" = {json.dumps(reference)}\n')
        else:
            args = ["--model", reference]
    (root / "config.yml").write_text(text)
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml", *args)
    assert_not_disclosed(outputs)
    assert json.loads(outputs["json"])["files"][0]["model"] is None


def test_a_directory_named_as_the_model_is_read_for_its_config_json_only(world, capsys, monkeypatch):
    root, secrets, _ = world
    (root / "config.yml").write_text(f"base_model_name_or_path: {json.dumps(str(secrets))}\nr: 8\n")
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml")
    assert_not_disclosed(outputs)
    assert "has no config.json" in outputs["full"]


def test_cache_refs_and_snapshots_cannot_point_outside_the_cache(world, capsys, monkeypatch):
    root, secrets, repo = world
    (root / "config.yml").write_text("base_model_name_or_path: someone/model\nr: 8\ntarget_modules: [c_attn]\n")

    (repo / "refs" / "main").write_text(f"../../../../private/secret.txt {SECRET}")  # a ref that is no hash
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml")
    assert_not_disclosed(outputs)
    assert "does not hold a commit hash" in outputs["full"]

    (repo / "refs" / "main").unlink()
    os.symlink(secrets / "secret.txt", repo / "refs" / "main")  # a ref symlinked out of the cache
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml")
    assert_not_disclosed(outputs)
    assert "points outside the cache" in outputs["full"]

    (repo / "refs" / "main").unlink()
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT / "config.json"
    snapshot.unlink()
    os.symlink(secrets / "secret.json", snapshot)  # a snapshot symlinked out of the cache (real ones point to blobs)
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml")
    assert_not_disclosed(outputs)
    assert "config.json points outside the cache" in outputs["full"]

    snapshot.unlink()
    (repo / "blobs").mkdir()
    (repo / "blobs" / "0123abcd").write_text(json.dumps(TINY_GPT2))
    os.symlink("../../blobs/0123abcd", snapshot)  # huggingface_hub's own layout still works
    outputs = lint_all_formats(capsys, monkeypatch, root / "config.yml")
    assert json.loads(outputs["json"])["files"][0]["model"]["source"] == "cache"
