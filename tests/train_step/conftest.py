import json

import pytest

pytest.importorskip("peft")


@pytest.fixture
def step(lint):
    """Run `lora-lint train-step` on a file; returns (exit code, the file's JSON entry)."""

    def run(path, *args):
        result = lint("train-step", path, "--output-format", "json", *args)
        assert result.err == "" or "Traceback" not in result.err, result.err
        return result.code, result.json["files"][0]

    return run


@pytest.fixture
def model_dir(tmp_path):
    """A local model directory holding this config.json (the catalogue's config with some keys changed)."""

    def make(config, name="model"):
        directory = tmp_path / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
        return directory

    return make


def codes_and_lines(entry):
    return [(d["code"], d["line"]) for d in entry["diagnostics"]]
