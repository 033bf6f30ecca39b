"""Property test: fixes on generated and mutated configs edit only their own spans and leave a parseable file.

hypothesis builds toolkit, flat-PEFT and JSON configs in mixed styles (block and flow collections, plain and quoted
keys and values, comments at line ends and on their own lines, blank lines, anchors, aliases and merge keys, CRLF,
a BOM, no final line break) and mutates them with the mistakes the rules fix (a bare string target, repeated
entries, `bf16`, `causal_lm`, `"16"`, `5e-2`, key typos, `[all-linear]`, a regex `layers_pattern`, another
architecture's target names). Each case is fixed through `apply_fixes`, the function `check --fix` calls, and:

- the bytes on disk outside the edit spans each pass reported are the bytes that were there before;
- every edit stays on the lines of the finding it fixes;
- the fixed file parses (and a JSON file is still JSON), has none of the fixed findings left, and offers no further
  fix (fixing again changes nothing);
- a finding suppressed with a comment is left as it was.

Examples: LORA_LINT_FIX_EXAMPLES (default 1000, about 25 s of CPU); runs are reproducible (derandomize). The case
counts (files fixed, fixes, JSON, CRLF, anchored, suppressed) are printed with `-s`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lora_lint.fix import apply_fixes  # noqa: E402
from lora_lint.fix.engine import applicable  # noqa: E402
from lora_lint.lint import LintOptions, lint_file  # noqa: E402
from lora_lint.settings import Settings  # noqa: E402

from .checks import assert_fixed_findings_gone, assert_only_edit_spans_changed  # noqa: E402

EXAMPLES = int(os.environ.get("LORA_LINT_FIX_EXAMPLES", "1000"))
CASES = {"cases": 0, "fixed files": 0, "fixes": 0, "passes > 1": 0, "json": 0, "crlf": 0, "anchors": 0,
         "suppressed": 0}

# The catalogued models' own leaf names: lora-lint reads their inventories without torch.
NAMES = {
    "NousResearch/Llama-2-7b-hf": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "openai-community/gpt2": ["c_attn", "c_proj", "c_fc"],
    "facebook/opt-125m": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
    "google-t5/t5-small": ["q", "k", "v", "o", "wi", "wo"],
}
ALL_NAMES = sorted({name for names in NAMES.values() for name in names})
COMMENTS = ["note", "tuned on 2 GPUs", "keep: in sync", "see #12", "é ünïcode"]


# A tiny YAML writer over a tree whose every style choice hypothesis made: ("scalar", text as written),
# ("seq", [(node, comment)], flow), ("map", [(key as written, node, comment, comment before)], flow),
# ("anchor", name, node), ("alias", name).

def _flow(node) -> str:
    kind = node[0]
    if kind == "scalar":
        return node[1]
    if kind == "alias":
        return f"*{node[1]}"
    if kind == "anchor":
        return f"&{node[1]} {_flow(node[2])}"
    if kind == "seq":
        return "[" + ", ".join(_flow(item) for item, _ in node[1]) + "]"
    return "{" + ", ".join(f"{key}: {_flow(value)}" for key, value, _, _ in node[1]) + "}"


def _block_map(pairs, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value, comment, before in pairs:
        if before is not None:
            out.append(f"{pad}# {before}" if before else "")
        end = f"  # {comment}" if comment else ""
        anchor = ""
        if value[0] == "anchor":
            anchor, value = f" &{value[1]}", value[2]
        if value[0] == "map" and not value[2] and value[1]:
            out.append(f"{pad}{key}:{anchor}{end}")
            _block_map(value[1], indent + 2, out)
        elif value[0] == "seq" and not value[2] and value[1]:
            out.append(f"{pad}{key}:{anchor}{end}")
            item_pad = " " * (indent + value[3])
            out.extend(f"{item_pad}- {_flow(item)}" + (f"  # {note}" if note else "") for item, note in value[1])
        else:
            out.append(f"{pad}{key}:{anchor} {_flow(value)}{end}")


@st.composite
def _string(draw, value: str, flow_safe: bool = True):
    styles = ["plain", "single", "double"] if flow_safe else ["single", "double"]
    style = draw(st.sampled_from(styles))
    if style == "plain":
        return ("scalar", value)
    return ("scalar", f"'{value}'" if style == "single" else f'"{value}"')


@st.composite
def _key(draw, name: str):
    return draw(st.sampled_from([name, name, name, f"'{name}'", f'"{name}"']))


@st.composite
def _seq(draw, items):
    flow = draw(st.booleans())
    written = [(draw(_string(item)) if isinstance(item, str) else ("scalar", str(item)),
                None if flow else draw(st.sampled_from([None, None, *COMMENTS]))) for item in items]
    return ("seq", written, flow, draw(st.sampled_from([0, 2, 4])))


@st.composite
def _lora_pairs(draw, model: str, dialect: str, anchors: list):
    own = NAMES.get(model, NAMES["NousResearch/Llama-2-7b-hf"])
    pairs = []
    names = draw(st.lists(st.sampled_from(own + ALL_NAMES), min_size=1, max_size=5))
    form = draw(st.sampled_from(["list", "list", "string", "all-linear", "all-linear-list", "alias-item"]))
    suppress = draw(st.booleans()) and form == "string"
    if form == "string":
        target = draw(_string(names[0]))
    elif form == "all-linear":
        target = ("scalar", "all-linear")
    elif form == "all-linear-list":
        target = draw(_seq(["all-linear"]))
    else:
        target = draw(_seq(names + draw(st.lists(st.sampled_from(names), max_size=2))))
        if form == "alias-item" and anchors:
            target[1].append((("alias", anchors[0]), None))
    if form in ("list", "all-linear-list") and draw(st.booleans()):
        anchors.append(f"t{len(anchors)}")
        target = ("anchor", anchors[-1], target)
    comment = "lora-lint: ignore[LL107]" if suppress else draw(st.sampled_from([None, *COMMENTS]))
    pairs.append((draw(_key("target_modules")), target, comment, draw(st.sampled_from([None, None, "targets"]))))
    optional = {
        "r": st.sampled_from(["16", "'16'", '"16"', "16.0", "8"]),
        "lora_alpha": st.sampled_from(["32", "32.0", "'32'"]),
        "lora_dropout": st.sampled_from(["0.05", "5e-2", "1e-1", '"0.1"', "'1e-1'", "-.5"]),
        "task_type": st.sampled_from(["CAUSAL_LM", "causal_lm", "'causal_lm'", "Causal_LM", "SEQ_CLS"]),
        "bias": st.sampled_from(["none", "None", "lora", "all", "'lora_only'"]),
        "lora_aplha": st.sampled_from(["32"]),
        "alpha": st.sampled_from(["16"]),
        "dropuot": st.sampled_from(["0.1"]),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5)):
        pairs.append((draw(_key(key)), ("scalar", draw(optional[key])), draw(st.sampled_from([None, *COMMENTS])),
                      draw(st.sampled_from([None, None, "", "tuning"]))))
    if form == "list" and draw(st.booleans()):
        layers = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
        pairs.append((draw(_key("layers_to_transform")), draw(_seq(layers)), None, None))
        pattern = draw(st.sampled_from(["layers", "'model\\.layers\\.\\d+'", "'transformer\\.h\\.\\d+\\.attn'",
                                        "layer", "h", "block"]))
        pairs.append((draw(_key("layers_pattern")), ("scalar", pattern), None, None))
    if draw(st.booleans()):
        saved = draw(st.lists(st.sampled_from(["lm_head", "score"]), min_size=1, max_size=3))
        pairs.append(("modules_to_save", draw(_seq(saved)), None, None))
    order = draw(st.permutations(range(len(pairs))))
    return [pairs[i] for i in order], suppress


@st.composite
def yaml_configs(draw):
    dialect = draw(st.sampled_from(["llmtune", "peft"]))
    model = draw(st.sampled_from([None, *NAMES]))
    anchors: list[str] = []
    top = []
    if draw(st.booleans()):  # an anchored value defined before the section, used inside it
        anchors.append("shared")
        top.append(("names", ("anchor", "shared", draw(_string(draw(st.sampled_from(ALL_NAMES))))), None, None))
    merge = draw(st.booleans())
    if merge:
        top.append(("base", ("anchor", "base", ("map", [("task_type", ("scalar", "causal_lm"), None, None),
                                                        ("r", ("scalar", "'8'"), None, None)], True)), None, None))
    pairs, suppress = draw(_lora_pairs(model, dialect, anchors))
    if merge:
        pairs.insert(0, ("<<", ("alias", "base"), None, None))
    section = ("map", pairs, draw(st.booleans()) and not any(c for _, _, c, _ in pairs))
    if dialect == "llmtune":
        model_pairs = []
        if model:
            model_pairs.append(("hf_model_ckpt", ("scalar", model), None, None))
        dtype = draw(st.sampled_from([None, "bf16", "bfloat16", "fp16", "torch.float16", "float33"]))
        if dtype:
            model_pairs.append(("torch_dtype", ("scalar", dtype), draw(st.sampled_from([None, *COMMENTS])), None))
        if draw(st.booleans()):
            model_pairs.append(("bitsandbytes", ("map", [
                ("load_in_4bit", ("scalar", "true"), None, None),
                ("bnb_4bit_compute_dtype", ("scalar", draw(st.sampled_from(["bf16", "'fp16'", "float16"]))), None,
                 None)], draw(st.booleans())), None, None))
        if model_pairs:
            top.append(("model", ("map", model_pairs, False), None, draw(st.sampled_from([None, "the base model"]))))
        top.append(("lora", section, None, None))
    else:
        if model:
            pairs.append(("base_model_name_or_path", ("scalar", model), None, None))
        if top:  # keep the LoRA keys in a section, beside the anchors
            top.append(("peft_config", section, None, None))
        else:
            top = pairs
    if dialect == "llmtune" or top is not pairs:
        for name in anchors[1 if "shared" in anchors else 0:]:
            top.append((f"copy_of_{name}", ("alias", name), None, None))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(f"# {draw(st.sampled_from(COMMENTS))}")
    _block_map(top, 0, lines)
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "\n", ""]))
    crlf = draw(st.booleans()) and "\n" in text
    if crlf:
        text = text.replace("\n", "\r\n")
    data = ("\ufeff" if draw(st.integers(0, 9)) == 0 else "") + text
    return {"name": "config.yaml", "data": data.encode("utf-8"), "dialect": dialect, "suppress": suppress,
            "crlf": crlf, "anchors": bool(anchors) or merge}


@st.composite
def json_configs(draw):
    model = draw(st.sampled_from(list(NAMES)))
    names = draw(st.lists(st.sampled_from(NAMES[model] + ALL_NAMES), min_size=1, max_size=4))
    config = {"base_model_name_or_path": model, "peft_type": "LORA"}
    config["r"] = draw(st.sampled_from([16, "16", 16.0]))
    config["lora_alpha"] = draw(st.sampled_from([32, "32"]))
    config["lora_dropout"] = draw(st.sampled_from([0.05, "0.05", "5e-2"]))
    config["task_type"] = draw(st.sampled_from(["CAUSAL_LM", "causal_lm"]))
    config["target_modules"] = draw(st.sampled_from([names, names + names[:1], names[0], ["all-linear"]]))
    if draw(st.booleans()):
        config[draw(st.sampled_from(["lora_aplha", "dropout", "bais"]))] = 1
    keys = draw(st.permutations(list(config)))
    indent = draw(st.sampled_from([None, 2, 4, "\t"]))
    separators = draw(st.sampled_from([None, (",", ":"), (", ", " : ")]))
    text = json.dumps({k: config[k] for k in keys}, indent=indent, separators=separators)
    text += draw(st.sampled_from(["\n", ""]))
    crlf = draw(st.booleans()) and "\n" in text
    text = text.replace("\n", "\r\n") if crlf else text
    return {"name": "adapter_config.json", "data": text.encode("utf-8"), "dialect": "peft", "suppress": False,
            "crlf": crlf, "anchors": False}


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)
    print(f"\nfix property cases: {CASES}")


def _lint(path: Path, dialect: str):
    return lint_file(path, Settings(root=path.parent), LintOptions(dialect=dialect, offline=True), True)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.one_of(yaml_configs(), yaml_configs(), yaml_configs(), json_configs()), unsafe=st.booleans())
def test_fixes_keep_every_byte_outside_their_spans(case, unsafe, folder):
    path = folder / case["name"]
    path.write_bytes(case["data"])
    report = _lint(path, case["dialect"])
    assert report is not None and not [d for d in report.diagnostics if d.code == "LL001"], case["data"]
    job = (path, Settings(root=folder), LintOptions(dialect=case["dialect"], offline=True), True)
    outcome = apply_fixes([(job, report)], unsafe=unsafe, write=True)
    on_disk = path.read_bytes()
    CASES["cases"] += 1
    CASES["json"] += case["name"].endswith(".json")
    CASES["crlf"] += case["crlf"]
    CASES["anchors"] += case["anchors"]
    assert outcome.problems == []
    if not outcome.fixed:
        assert on_disk == case["data"]
        assert not any(applicable(d, unsafe) for d in report.diagnostics)
        return
    [(_, fixed)] = outcome.fixed
    CASES["fixed files"] += 1
    CASES["fixes"] += len(fixed.fixed_diagnostics)
    CASES["passes > 1"] += len(fixed.passes) > 1

    assert on_disk == fixed.fixed
    assert_only_edit_spans_changed(case["data"], fixed)

    # The result parses, keeps its line endings and has none of the fixed findings left, nor anything to fix.
    after = _lint(path, case["dialect"])
    assert not [d for d in after.diagnostics if d.code in ("LL001", "LL002")]
    if case["name"].endswith(".json"):
        json.loads(on_disk)
    if case["crlf"]:
        assert on_disk.count(b"\n") == on_disk.count(b"\r\n")
    assert_fixed_findings_gone(fixed, after, unsafe)
    if case["suppress"]:
        CASES["suppressed"] += 1
        assert "LL107" not in {d.code for d in fixed.fixed_diagnostics}
