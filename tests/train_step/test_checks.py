"""Each check of the step fails on a config made to fail it, at the config line that causes it, and passes on the
config that fixes it. Expectations come from what PEFT and the model do (see each rule's documentation)."""

from tests.train_step.conftest import codes_and_lines

GPT2 = "base_model_name_or_path: distilbert/distilgpt2\ntask_type: CAUSAL_LM\nr: 8\nfan_in_fan_out: true\n" \
       "target_modules: [c_attn]\n"


def _failed_checks(entry):
    return sorted(check["name"] for check in entry["train_step"]["checks"] if not check["passed"])


def test_clean_config_passes_every_check(step, write):
    code, entry = step(write("a.yaml", GPT2))
    assert code == 0 and codes_and_lines(entry) == []
    step_report = entry["train_step"]
    assert step_report["status"] == "passed" and step_report["mode"] == "miniature"
    assert [c["name"] for c in step_report["checks"]] == ["loss-finite", "gradients", "frozen-unchanged",
                                                         "lora-b-moved", "trainable-count", "adapter-reload"]
    # The miniature keeps the real model's names: 6 layers, c_attn in each.
    assert step_report["lora_modules"] == 6
    assert step_report["shape"]["n_embd"] == {"full": 768, "miniature": 64}
    assert step_report["trainable_parameters"] == step_report["predicted_trainable_parameters"] > 0
    assert step_report["loss"] > 0 and step_report["seconds"] > 0


def test_modules_to_save_copy_without_gradient(step, write):
    # T5 runs encoder.embed_tokens and decoder.embed_tokens, tied to `shared`; the copy of `shared` never runs.
    content = "base_model_name_or_path: google-t5/t5-small\ntask_type: SEQ_2_SEQ_LM\nr: 8\ntarget_modules: [q, v]\n" \
              "modules_to_save: [shared]\n"
    code, entry = step(write("a.yaml", content))
    assert ("LL403", 5) in codes_and_lines(entry)
    [finding] = [d for d in entry["diagnostics"] if d["code"] == "LL403"]
    assert "`shared`" in finding["message"] and finding["column"] == 19
    assert _failed_checks(entry) == ["gradients"]
    assert code == 1


def test_lora_target_the_forward_pass_never_calls(step, write):
    # BartForCausalLM keeps the decoder's cross-attention, which runs only with an encoder.
    content = "base_model_name_or_path: facebook/bart-large\ntask_type: CAUSAL_LM\nr: 4\n" \
              "target_modules: [self_attn.q_proj, encoder_attn.v_proj]\nlayers_to_transform: [0, 1]\n"
    code, entry = step(write("a.yaml", content))
    [finding] = [d for d in entry["diagnostics"] if d["code"] == "LL403"]
    # On the `encoder_attn.v_proj` entry, not on `self_attn.q_proj`, whose LoRA trains.
    assert (finding["line"], finding["column"]) == (4, content.splitlines()[3].index("encoder_attn") + 1)
    assert "2 modules" in finding["message"] and "encoder_attn.v_proj" in finding["message"]
    assert code == 1


def test_adapter_overflow_makes_the_loss_nan(step, write):
    content = GPT2 + "lora_alpha: 1.0e+30\ninit_lora_weights: false\n"
    code, entry = step(write("a.yaml", content))
    assert codes_and_lines(entry) == [("LL402", 6)]
    assert "without it" in entry["diagnostics"][0]["message"]
    assert entry["train_step"]["status"] == "failed" and code == 1


TOOLKIT_ZERO_LEARNING_RATE = """\
ablation:
  use_ablate: false
data:
  file_type: huggingface
  path: yahma/alpaca-cleaned
  prompt: "### Instruction: {instruction}"
  prompt_stub: "{output}"
model:
  hf_model_ckpt: distilbert/distilgpt2
  bitsandbytes:
    bnb_4bit_compute_dtype: bfloat16
lora:
  r: 8
  fan_in_fan_out: true
  target_modules: [c_attn]
training:
  training_args:
    learning_rate: 0.0
  sft_args: {}
inference: {}
qa: {}
"""


def test_zero_learning_rate_leaves_lora_b_at_zero(step, write):
    # A whole toolkit file, as `llmtune run` accepts it: only then does its learning rate reach the step.
    content = TOOLKIT_ZERO_LEARNING_RATE
    code, entry = step(write("a.yml", content))
    assert codes_and_lines(entry) == [("LL404", 18)]
    assert _failed_checks(entry) == ["lora-b-moved"]
    # The toolkit's own preparation ran before get_peft_model.
    assert entry["train_step"]["preparation"] == ["use_cache_off", "gradient_checkpointing_enable",
                                                  "prepare_model_for_kbit_training"]
    assert code == 1


def test_dora_magnitudes_are_not_in_the_static_count(step, write):
    code, entry = step(write("a.yaml", GPT2 + "use_dora: true\n"))
    assert codes_and_lines(entry) == [("LL405", 6)]
    report = entry["train_step"]
    # One magnitude per output feature of each c_attn (3 × 64 in the miniature) on top of A and B.
    assert report["trainable_parameters"] - report["predicted_trainable_parameters"] == 6 * 3 * 64
    assert code == 0  # a warning


def test_randomised_pissa_does_not_reload_to_the_trained_model(step, write):
    content = "base_model_name_or_path: facebook/opt-125m\ntask_type: CAUSAL_LM\nr: 8\n" \
              "target_modules: [q_proj, v_proj]\ninit_lora_weights: pissa_niter_4\n"
    code, entry = step(write("a.yaml", content))
    assert codes_and_lines(entry) == [("LL406", 5)]
    assert _failed_checks(entry) == ["adapter-reload"]
    assert code == 1


def test_failure_in_the_first_forward_pass_is_a_finding(step, write):
    code, entry = step(write("a.yaml", GPT2 + "init_lora_weights: olora\n"))
    assert codes_and_lines(entry) == [("LL401", 6)]
    assert "raised RuntimeError" in entry["diagnostics"][0]["message"]
    assert entry["train_step"]["status"] == "error" and code == 1


def test_peft_failure_on_get_peft_model_is_a_finding(step, write):
    # PEFT replicates layers only in Llama, BERT and Falcon layouts; GPT-2's `transformer.h` is none of them.
    code, entry = step(write("a.yaml", GPT2 + "layer_replication: [[0, 4], [2, 6]]\n"))
    assert ("LL401", 6) in codes_and_lines(entry)
    assert "Could not locate the layers attribute" in entry["diagnostics"][-1]["message"] or \
        any("layers attribute" in d["message"] for d in entry["diagnostics"])
    assert code == 1


def test_step_findings_can_be_suppressed(step, write):
    content = GPT2 + "use_dora: true  # lora-lint: ignore[trainable-count-mismatch]\n"
    code, entry = step(write("a.yaml", content))
    assert codes_and_lines(entry) == [] and code == 0
    assert entry["train_step"]["status"] == "failed"  # the check itself still failed; the finding is suppressed
