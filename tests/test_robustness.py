"""Whatever values a config holds, lora-lint reports them and never crashes (exit 0 or 1, nothing on stderr)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lora_lint.peft_schema import FIELD_TYPES

KEYS = sorted(FIELD_TYPES) + ["lora_aplha", "dropout"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 80), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["q_proj", "v_proj", ".*q_proj", "all-linear", "CAUSAL_LM", "layers", "h",
                                     "lm_head", "classifier", "", "c_attn", "1e-4", "decoder.block"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(["q_proj", "a", "1"]), inner,
                                                                       max_size=3)), max_leaves=8)
CONFIGS = st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1, max_size=6)
MODELS = st.sampled_from(["openai-community/gpt2", "meta-llama/Llama-3.2-1B", "google-t5/t5-small",
                          "distilbert/distilbert-base-uncased", "mistralai/Mixtral-8x7B-v0.1"])


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lora=CONFIGS, model=MODELS, toolkit=st.booleans())
def test_arbitrary_values_never_crash(lora, model, toolkit, lint, tmp_path):
    if toolkit:
        document = {"model": {"hf_model_ckpt": model}, "lora": lora}
    else:
        document = {**lora, "r": lora.get("r", 8), "base_model_name_or_path": model}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    result = lint("check", path, "--output-format", "json")
    assert result.err == ""
    assert result.code in (0, 1)
    assert len(result.json["files"]) == 1
    assert "LL009" not in result.codes()  # an internal error is reported on the file, not by the exit code
