"""Real mode (--weights DIR): a checkpoint the test saves first, a few rows of real data, the adapter kept where
--save-adapter says and nothing written anywhere else; broken checkpoints are findings, never crashes."""

import json

import pytest
import torch

from lora_lint.model import catalog
from lora_lint.train_step.miniature import build_miniature, miniature_config
from tests.train_step.conftest import codes_and_lines


def _checkpoint(directory, *, nan=False, bin_file=False):
    """A 2-layer Llama checkpoint (miniature widths, random weights) with a word-level tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    config = dict(catalog.lookup("meta-llama/Llama-2-7b-hf").config(), num_hidden_layers=2)
    model = build_miniature(miniature_config(config)[0], "LlamaForCausalLM")
    if nan:
        with torch.no_grad():
            model.model.norm.weight.fill_(float("nan"))
    model.to(torch.bfloat16).save_pretrained(directory)  # config.json records the dtype: bfloat16
    if bin_file:
        for weights in directory.glob("*.safetensors"):
            weights.unlink()
        torch.save(model.state_dict(), directory / "pytorch_model.bin")
    vocab = {f"w{i}": i for i in range(240)} | {"[UNK]": 240, "[PAD]": 241}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                            eos_token="[PAD]").save_pretrained(directory)
    return directory


def _config(write, directory):
    return write("lora.yaml", f"base_model_name_or_path: {directory}\ntask_type: CAUSAL_LM\nr: 4\n"
                              "target_modules: [q_proj, v_proj]\n")


@pytest.mark.parametrize("bin_file", [False, True], ids=["safetensors", "bin"])
def test_real_weights_real_data_saved_adapter(step, write, tmp_path, monkeypatch, bin_file):
    weights = _checkpoint(tmp_path / "ckpt", bin_file=bin_file)
    data = write("rows.jsonl", "\n".join(json.dumps({"instruction": f"w{i} w{i + 1} w{i + 2}", "output": f"w{i}"})
                                         for i in range(6)) + "\n")
    config = _config(write, weights)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, entry = step(config, "--weights", weights, "--device", "cpu", "--data", data,
                       "--save-adapter", tmp_path / "adapter")
    assert code == 0 and codes_and_lines(entry) == [], entry
    report = entry["train_step"]
    assert (report["status"], report["mode"], report["device"], report["dtype"]) == \
        ("passed", "real", "cpu", "bfloat16")  # the dtype the checkpoint's config names
    assert report["lora_modules"] == 4
    saved = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert sorted(saved["target_modules"]) == ["q_proj", "v_proj"]
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert {p.parts[0] for p in set(after) - set(before)} == {"adapter"}  # nothing else written


def test_nan_weights_are_a_finding_on_the_model_line(step, write, tmp_path):
    weights = _checkpoint(tmp_path / "ckpt", nan=True)
    code, entry = step(_config(write, weights), "--weights", weights)
    assert codes_and_lines(entry) == [("LL402", 1)]
    assert "before the adapter changes anything" in entry["diagnostics"][0]["message"]
    assert code == 1


def test_missing_weights_directory(step, write, tmp_path):
    weights = _checkpoint(tmp_path / "ckpt")
    code, entry = step(_config(write, weights), "--weights", tmp_path / "nowhere")
    assert codes_and_lines(entry) == [("LL401", 1)]
    assert "no checkpoint directory" in entry["diagnostics"][0]["message"]
    assert code == 1


def test_corrupt_weights_file(step, write, tmp_path):
    weights = _checkpoint(tmp_path / "ckpt")
    for file in weights.glob("*.safetensors"):
        file.write_bytes(b"\x00garbage" * 100)
    code, entry = step(_config(write, weights), "--weights", weights)
    assert codes_and_lines(entry) == [("LL401", 1)]
    assert "cannot load the checkpoint" in entry["diagnostics"][0]["message"]
    assert code == 1


def test_checkpoint_of_another_model(step, write, tmp_path):
    weights = _checkpoint(tmp_path / "ckpt")
    config = write("lora.yaml", "base_model_name_or_path: distilbert/distilgpt2\ntask_type: CAUSAL_LM\nr: 4\n"
                                "fan_in_fan_out: true\ntarget_modules: [c_attn]\n")
    code, entry = step(config, "--weights", weights)
    assert codes_and_lines(entry) == [("LL401", 1)]
    assert code == 1
