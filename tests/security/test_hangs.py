"""Inputs that used to hang a run or read without end: FIFOs and devices (named, walked, or in a cache),
exclude globs that backtrack. Each run is a subprocess with a wall-clock timeout and an address-space limit, so a
regression fails the test instead of hanging the suite."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from lora_lint.model.cache import cache_key, get_or_build
from lora_lint.model.resolve import resolve_model

REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 2 * 1024**3  # reading /dev/zero to the end would pass this
BAD = "lora:\n  r: 0\n"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "lora_lint", "check", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=60, preexec_fn=limit_memory)


def test_fifo_and_device_named_or_walked(tmp_path):
    os.mkfifo(tmp_path / "pipe.yml")
    os.symlink("/dev/zero", tmp_path / "zero.yml")
    walked = tmp_path / "configs"
    walked.mkdir()
    os.mkfifo(walked / "pipe.yaml")
    os.symlink("/dev/zero", walked / "zero.json")
    (walked / "real.yml").write_text(BAD)
    result = run_cli(tmp_path, "pipe.yml", "zero.yml", "configs", "--output-format", "json")
    assert result.returncode == 1, result.stderr
    files = {entry["path"]: entry["diagnostics"] for entry in json.loads(result.stdout)["files"]}
    assert [d["message"] for d in files["pipe.yml"]] == ["cannot read file: not a regular file (a FIFO)"]
    assert [d["message"] for d in files["zero.yml"]] == ["cannot read file: not a regular file (a device)"]
    assert set(files) == {"pipe.yml", "zero.yml", "configs/real.yml"}  # walked pipes and devices are skipped


def test_oversized_file_is_read_only_up_to_the_cap(tmp_path):
    with open(tmp_path / "huge.yml", "wb") as huge:
        huge.truncate(3 * 1024**3)  # sparse: 3 GB that cost no disk
    result = run_cli(tmp_path, "huge.yml", "--output-format", "concise")
    assert result.returncode == 1, result.stderr
    assert "LL003 [unreadable-file] file is over 10 MiB" in result.stdout


def test_settings_file_that_is_a_fifo_is_not_read(tmp_path):
    os.mkfifo(tmp_path / ".lora-lint.toml")
    (tmp_path / "c.yml").write_text(BAD)
    assert run_cli(tmp_path, "c.yml").returncode == 1


def test_hf_cache_entries_that_are_fifos_or_devices(tmp_path):
    repo = tmp_path / "models--someone--model"
    (repo / "snapshots" / ("a" * 40)).mkdir(parents=True)
    os.symlink("/dev/zero", repo / "snapshots" / ("a" * 40) / "config.json")
    (repo / "refs").mkdir()
    os.mkfifo(repo / "refs" / "main")
    os.symlink("/dev/zero", repo / "refs" / "v2")
    main = resolve_model("someone/model", offline=True, hf_cache_dir=tmp_path)
    assert "HF cache: cannot read ref 'main' of someone/model: not a regular file (a FIFO)" in main.tried
    v2 = resolve_model("someone/model", "v2", offline=True, hf_cache_dir=tmp_path)
    assert "HF cache: cannot read ref 'v2' of someone/model: v2 points outside the cache" in v2.tried
    commit = resolve_model("someone/model", "a" * 40, offline=True, hf_cache_dir=tmp_path)
    assert any("config.json" in line for line in commit.tried) and not commit.resolved


def test_inventory_cache_entries_that_are_fifos_or_devices(tmp_path):
    config = {"model_type": "gpt2"}
    path = tmp_path / "inventories" / f"{cache_key(config, 'AutoModel', '5.24.0')}.json.gz"
    path.parent.mkdir()
    from test_crash_inputs import inventory  # the same well-formed inventory

    for make in (os.mkfifo, lambda target: os.symlink("/dev/zero", target)):
        make(path)
        result = get_or_build(config, "AutoModel", "5.24.0", inventory, tmp_path)
        assert not result.hit and "not a regular file" in result.note and result.note.endswith("rebuilt it")
        assert get_or_build(config, "AutoModel", "5.24.0", inventory, tmp_path).hit  # replaced by a real entry
        path.unlink()


def test_exclude_globs_with_repeated_wildcards_do_not_backtrack(tmp_path):
    """`**/` sixteen times took hours with the old regex translation (1.4 s at eight); the matcher is linear."""
    deep = tmp_path.joinpath(*["d"] * 30)
    deep.mkdir(parents=True)
    (deep / "c.yml").write_text(BAD)
    patterns = ["**/" * 16 + "x", "*a" * 30 + "b", "/**/**/**/**/**/**/**/**/**/**/**/**/y"]
    (tmp_path / ".lora-lint.toml").write_text(f"exclude = {json.dumps(patterns)}\n"
                                              f'[per-file-ignores]\n"{"*d" * 30}z" = ["LL103"]\n')
    result = run_cli(tmp_path, ".", "--output-format", "concise")
    assert result.returncode == 1, result.stderr
    assert "LL103" in result.stdout
