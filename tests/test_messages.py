"""Messages that must say what PEFT really does (checked with --peft-dry-run against the installed PEFT)."""

import pytest

pytest.importorskip("peft")

MODEL = "model:\n  hf_model_ckpt: facebook/opt-125m\n"


def messages(lint, path, code):
    result = lint("check", path, "--output-format", "json", "--peft-dry-run")
    diagnostics = result.json["files"][0]["diagnostics"]
    raised = [d["message"] for d in diagnostics if d["code"] == "LL320"]
    return [d["message"] for d in diagnostics if d["code"] == code], raised


def test_ll301_names_the_layer_filter_when_it_removed_the_matches(lint, write):
    path = write("a.yml", MODEL + "lora:\n  target_modules: [q_proj, qkv]\n  layers_to_transform: [40]\n")
    [message], raised = messages(lint, path, "LL301")
    assert raised and "PEFT raised NoMatchingPeftModuleError" in raised[0]
    assert "no entry matches anything" not in message
    assert "outside the layers `layers_to_transform` keeps" in message and "NoMatchingPeftModuleError" in message


def test_ll301_says_no_entry_matches_when_none_does(lint, write):
    path = write("a.yml", MODEL + "lora:\n  target_modules: [qkv, attn]\n")
    found, raised = messages(lint, path, "LL301")
    assert raised and len(found) == 2
    assert all("no entry matches anything, so PEFT raises NoMatchingPeftModuleError" in m for m in found)


@pytest.mark.parametrize("layers, raises", [("[3, 40]", False), ("[40]", True)])
def test_ll303_says_skip_or_raise_as_peft_does(lint, write, layers, raises):
    path = write("a.yml", MODEL + f"lora:\n  target_modules: [q_proj]\n  layers_to_transform: {layers}\n")
    [message], raised = messages(lint, path, "LL303")
    assert bool(raised) is raises
    if raises:
        assert "PEFT silently skips" not in message and "so PEFT raises NoMatchingPeftModuleError" in message
    else:
        assert message.endswith("PEFT silently skips it")
