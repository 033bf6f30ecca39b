"""Inputs that used to crash the whole run (exit 2, "internal error", no report): each now gets a diagnostic.

Numbers Python will not convert (PyYAML, json.load and tomllib raise on them), a rank whose parameter count has
thousands of digits, model ids too long for any file system, settings tables of the wrong type, and cache entries
that parse but have the wrong shape."""

from __future__ import annotations

import gzip
import json

import pytest

from lora_lint import base_model
from lora_lint.cli import main
from lora_lint.model.cache import cache_key, get_or_build
from lora_lint.model.inventory import FORMAT_VERSION, dump_inventory
from lora_lint.model.resolve import resolve_model


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)

    def lint(name: str, text: str, *args: str, output_format: str = "json"):
        (tmp_path / name).write_text(text)
        base_model._resolve.cache_clear()
        code = main(["check", name, "--output-format", output_format, *args])
        captured = capsys.readouterr()
        assert "internal error" not in captured.err and '"ruleId": "LL009"' not in captured.out
        assert output_format == "sarif" or "lora-lint failed on this file" not in captured.out  # SARIF has the docs
        return code, captured

    return lint


def diagnostics(captured) -> list[tuple[str, int, int, str]]:
    return [(d["code"], d["line"], d["column"], d["message"]) for d in json.loads(captured.out)["files"][0]
            ["diagnostics"]]


@pytest.mark.parametrize("literal, reason", [
    ("0b_", "invalid literal for int() with base 2"),
    ("0x_", "invalid literal for int() with base 16"),
    ("1" * 5000, "Exceeds the limit (4300 digits)"),
    ("0x" + "f" * 5000, "an integer of 20,000 bits is too large to be a config value"),
])
def test_numbers_pyyaml_cannot_load_are_syntax_errors(run, literal, reason):
    code, captured = run("c.yml", f"lora:\n  r: {literal}\n")
    assert code == 1
    [(rule, line, column, message)] = [d for d in diagnostics(captured) if d[0] == "LL001"]
    assert (rule, line, column) == ("LL001", 2, 6) and message.startswith("unreadable number: ")
    assert reason in message


def test_json_integer_over_4300_digits(run):
    code, captured = run("adapter_config.json", '{"peft_type": "LORA",\n "r": ' + "7" * 4301 + "}")
    assert code == 1
    [(rule, line, column, message)] = diagnostics(captured)
    assert (rule, line, column) == ("LL001", 2, 7) and "json.load raises ValueError" in message


def test_toml_integer_over_4300_digits(run, tmp_path):
    (tmp_path / ".lora-lint.toml").write_text("select = [" + "1" * 5000 + "]\n")
    code, captured = run("c.yml", "lora:\n  r: 8\n")
    assert code == 2 and "invalid TOML: ValueError: Exceeds the limit (4300 digits)" in captured.err


def test_hub_config_json_with_a_huge_integer(tmp_path):
    snapshot = tmp_path / "models--someone--huge" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"model_type": "gpt2", "n_layer": ' + "9" * 5000 + "}")
    (tmp_path / "models--someone--huge" / "refs").mkdir()
    (tmp_path / "models--someone--huge" / "refs" / "main").write_text("a" * 40)
    result = resolve_model("someone/huge", offline=True, hf_cache_dir=tmp_path)
    assert not result.resolved
    assert "HF cache: cannot read" in result.tried[-2] and "Exceeds the limit (4300 digits)" in result.tried[-2]


@pytest.mark.parametrize("output_format", ["full", "concise", "json", "github", "sarif"])
def test_rank_of_4300_digits_reports_in_every_format(run, output_format):
    code, captured = run("c.yml", "lora:\n  r: " + "1" * 4300 + "\n  target_modules: [q_proj]\n",
                         output_format=output_format)
    assert code in (0, 1)
    if output_format == "full":
        assert "trainable parameters" in captured.out and "about 10^4,3" in captured.out
    if output_format == "json":
        entry = json.loads(captured.out)["files"][0]
        assert entry["trainable_parameters"] is None and "LL312" in {d["code"] for d in entry["diagnostics"]}  # rank-too-large


@pytest.mark.parametrize("reference", ["a" * 300, "someone/" + "b" * 300, "x" * 5000 + "/y", "a\\0b"])
def test_model_id_too_long_for_a_path_or_with_a_nul(run, reference):
    code, captured = run("c.yml", f'model:\n  hf_model_ckpt: "{reference}"\nlora:\n  r: 8\n', output_format="full")
    assert code == 0
    assert "LL201 [model-unresolved] cannot resolve base model" in captured.out


@pytest.mark.parametrize("pyproject, message", [
    ("tool = 5\n", "`tool` must be a table ([tool.lora-lint]), not int"),
    ('tool = "x"\n', "`tool` must be a table ([tool.lora-lint]), not str"),
    ("[tool]\nlora-lint = [1]\n", "`tool.lora-lint` must be a table, not list"),
    ("[tool.lora-lint]\npeft-version = 0.10\n", "peft-version must be a quoted string: TOML reads the bare number "
                                                "as the float 0.1"),
    ("[tool.lora-lint]\npeft-version = 1\n", "peft-version must be a quoted string"),
])
def test_settings_of_the_wrong_type_are_usage_errors(run, tmp_path, pyproject, message):
    (tmp_path / "pyproject.toml").write_text(pyproject)
    code, captured = run("c.yml", "lora:\n  r: 8\n")
    assert code == 2 and message in captured.err and captured.out == ""


def test_quoted_peft_version_keeps_its_zero(run, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lora-lint]\npeft-version = "0.10"\n')
    code, captured = run("c.yml", "r: 8\nlora_bias: true\ntarget_modules: [q_proj]\n", output_format="concise")
    assert code == 1 and "`lora_bias` needs PEFT 0.14.0 or newer; this PEFT is 0.10\n" in captured.out


# -- cache entries -----------------------------------------------------------------------------------------------

CONFIG = {"model_type": "gpt2", "n_layer": 2}


def inventory(label: str = "built") -> dict:
    return {
        "format": FORMAT_VERSION, "model_type": "gpt2", "class": "GPT2LMHeadModel", "is_encoder_decoder": False,
        "can_generate": True, "transformers_version": "5.24.0", "total_parameters": 1, "output_embedding": None,
        "tied_parameters": [], "layer_containers": [{"path": "h", "length": 2, "stack": "decoder"}],
        "modules": [{"name": "", "class": label, "lora_kind": None, "weight_shape": None, "in_features": None,
                     "out_features": None, "parameters": 0}],
    }


def broken(**changes) -> dict:
    entry = inventory("stale")
    for key, value in changes.items():
        if key.startswith("module_"):
            entry["modules"][0][key.removeprefix("module_")] = value
        elif key.startswith("container_"):
            entry["layer_containers"][0][key.removeprefix("container_")] = value
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize("entry, reason", [
    (broken(modules=[1]), "modules[0] is not an object"),
    (broken(modules=[{}]), "modules[0] has no name"),
    (broken(module_name=5), "modules[0].name is a int"),
    (broken(module_parameters=True), "modules[0].parameters is a bool"),
    (broken(module_weight_shape=["4096"]), "weight_shape is not a list of integers"),
    (broken(module_extra_parameters=[1]), "extra_parameters is not a table of shapes"),
    (broken(layer_containers=[["h", 2]]), "layer_containers[0] is not an object"),
    (broken(container_length="2"), "layer_containers[0].length is a str"),
    (broken(tied_parameters=[5]), "tied_parameters is not a list of lists of names"),
    (broken(total_parameters=None), "inventory.total_parameters is a NoneType"),
])
def test_well_formed_cache_entry_of_the_wrong_shape_is_rebuilt(tmp_path, entry, reason):
    path = tmp_path / "inventories" / f"{cache_key(CONFIG, 'AutoModel', '5.24.0')}.json.gz"
    path.parent.mkdir()
    path.write_bytes(dump_inventory(entry))
    first = get_or_build(CONFIG, "AutoModel", "5.24.0", inventory, tmp_path)
    assert not first.hit and first.inventory == inventory()
    assert reason in first.note and first.note.endswith("rebuilt it")
    second = get_or_build(CONFIG, "AutoModel", "5.24.0", inventory, tmp_path)
    assert second.hit and second.note is None  # the rebuilt entry replaced the bad one


def test_cache_entry_that_decompresses_without_bound_is_rebuilt(tmp_path):
    path = tmp_path / "inventories" / f"{cache_key(CONFIG, 'AutoModel', '5.24.0')}.json.gz"
    path.parent.mkdir()
    with gzip.open(path, "wb", compresslevel=1) as bomb:  # 80 MiB of spaces in about 300 KB
        chunk = b" " * (1 << 20)
        for _ in range(80):
            bomb.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    result = get_or_build(CONFIG, "AutoModel", "5.24.0", inventory, tmp_path)
    assert not result.hit and "decompresses to more than" in result.note

    path.write_bytes(dump_inventory(inventory()) + gzip.compress(b" " * 1024))  # a second member hides more
    result = get_or_build(CONFIG, "AutoModel", "5.24.0", inventory, tmp_path)
    assert not result.hit and "more than one gzip member" in result.note
