"""The on-disk inventory cache: hits, keys, corrupt entries rebuilt with a note, concurrent writers."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import time
from pathlib import Path

import pytest

from lora_lint.model.cache import cache_key, default_cache_dir, get_or_build
from lora_lint.model.inventory import FORMAT_VERSION, load_inventory

CONFIG = {"model_type": "gpt2", "n_layer": 2}


def fake_inventory(label: str = "built") -> dict:
    return {
        "format": FORMAT_VERSION, "model_type": "gpt2", "class": "GPT2LMHeadModel", "is_encoder_decoder": False,
        "can_generate": True, "transformers_version": "5.24.0", "total_parameters": 1, "output_embedding": None,
        "tied_parameters": [], "layer_containers": [],
        "modules": [{"name": "", "class": label, "lora_kind": None, "weight_shape": None, "in_features": None,
                     "out_features": None, "parameters": 0}],
    }


class CountingBuild:
    def __init__(self, label: str = "built"):
        self.calls = 0
        self.label = label

    def __call__(self) -> dict:
        self.calls += 1
        return fake_inventory(self.label)


def entry_path(cache_dir: Path) -> Path:
    return cache_dir / "inventories" / f"{cache_key(CONFIG, 'AutoModel', '5.24.0')}.json.gz"


def test_miss_builds_and_stores_then_hits(tmp_path):
    build = CountingBuild()
    first = get_or_build(CONFIG, "AutoModel", "5.24.0", build, tmp_path)
    second = get_or_build(CONFIG, "AutoModel", "5.24.0", build, tmp_path)
    assert (first.hit, second.hit, build.calls) == (False, True, 1)
    assert first.inventory == second.inventory == fake_inventory()
    assert first.note is None and second.note is None
    assert load_inventory(entry_path(tmp_path).read_bytes()) == fake_inventory()


def test_key_covers_config_class_and_versions(monkeypatch):
    import lora_lint

    base = cache_key(CONFIG, "AutoModel", "5.24.0")
    assert cache_key(dict(reversed(list(CONFIG.items()))), "AutoModel", "5.24.0") == base  # canonical JSON
    assert cache_key({**CONFIG, "n_layer": 3}, "AutoModel", "5.24.0") != base
    assert cache_key(CONFIG, "AutoModelForCausalLM", "5.24.0") != base
    assert cache_key(CONFIG, "AutoModel", "5.25.0") != base
    monkeypatch.setattr(lora_lint, "__version__", "99.0.0")
    assert cache_key(CONFIG, "AutoModel", "5.24.0") != base


@pytest.mark.parametrize("damage", [
    b"",
    b"garbage, not gzip",
    "truncated",
    gzip.compress(b"{not json"),
    gzip.compress(json.dumps({"format": 0}).encode()),
])
def test_corrupt_entry_is_rebuilt_with_a_note(tmp_path, damage):
    get_or_build(CONFIG, "AutoModel", "5.24.0", CountingBuild("old"), tmp_path)
    path = entry_path(tmp_path)
    path.write_bytes(path.read_bytes()[:20] if damage == "truncated" else damage)

    build = CountingBuild("rebuilt")
    result = get_or_build(CONFIG, "AutoModel", "5.24.0", build, tmp_path)
    assert build.calls == 1 and not result.hit
    assert result.inventory == fake_inventory("rebuilt")
    assert "unreadable" in result.note and "rebuilt" in result.note and str(path) in result.note
    again = get_or_build(CONFIG, "AutoModel", "5.24.0", build, tmp_path)
    assert again.hit and again.note is None and again.inventory == fake_inventory("rebuilt")


def test_build_failure_stores_nothing(tmp_path):
    def failing_build() -> dict:
        raise RuntimeError("no model")

    with pytest.raises(RuntimeError):
        get_or_build(CONFIG, "AutoModel", "5.24.0", failing_build, tmp_path)
    assert not entry_path(tmp_path).exists()


def test_unwritable_cache_location_still_returns_the_inventory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = get_or_build(CONFIG, "AutoModel", "5.24.0", CountingBuild(), blocker)
    assert result.inventory == fake_inventory() and "could not write" in result.note


def write_concurrently(cache_dir: str, label: str, start_at: float) -> dict:
    """One of several processes building and storing the same key at once."""
    def slow_build() -> dict:
        time.sleep(0.05)  # hold every writer inside the build so that they all store together
        return fake_inventory(label)

    time.sleep(max(0.0, start_at - time.time()))
    result = get_or_build(CONFIG, "AutoModel", "5.24.0", slow_build, Path(cache_dir))
    return {"inventory": result.inventory, "note": result.note}


def test_concurrent_writers_leave_one_valid_entry(tmp_path):
    context = multiprocessing.get_context("spawn")
    writers = 6
    with context.Pool(writers) as pool:
        start_at = time.time() + 1.5  # after every spawned interpreter has started
        results = pool.starmap(write_concurrently,
                               [(str(tmp_path), f"writer {n}", start_at) for n in range(writers)])

    assert all(result["note"] is None for result in results)
    labels = {result["inventory"]["modules"][0]["class"] for result in results}
    assert labels <= {f"writer {n}" for n in range(writers)}
    stored = load_inventory(entry_path(tmp_path).read_bytes())
    assert stored["modules"][0]["class"] in labels
    assert [path.name for path in (tmp_path / "inventories").iterdir()] == [entry_path(tmp_path).name]


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "lora-lint"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "lora-lint"
