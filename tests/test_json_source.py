"""JSON files get their node tree from lora_lint.json_source: the same kinds, spans, texts and duplicate-key
findings that composing them with ruamel.yaml gives, with values typed as json.loads types them."""

import json
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lora_lint.json_source import OutsideLimits, build_json_tree
from lora_lint.limits import DEFAULT_LIMITS, Limits

FIXTURES = Path(__file__).parent.parent / "fixtures"


def composed(text: str):
    """The tree and diagnostics the composer gives (ruamel.yaml's parser events: what a JSON file past a limit is
    read with)."""
    from ruamel.yaml import YAML

    from lora_lint.compose import Composer, scanner_class

    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = scanner_class()
    composer = Composer(yaml.resolver, True, DEFAULT_LIMITS)
    composer.compose(yaml.parse(text))
    return composer.root, composer.diagnostics


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def assert_same_tree(ours, theirs, where="$"):
    assert ours.kind == theirs.kind, where
    assert ours.span == theirs.span, (where, ours.span, theirs.span)
    if ours.kind == "scalar":
        assert same_value(ours.value, theirs.value), (where, ours.value, theirs.value)
        assert (ours.text, ours.quoted) == (theirs.text, theirs.quoted), where
    assert len(ours.pairs) == len(theirs.pairs) and len(ours.items) == len(theirs.items), where
    for (k1, v1), (k2, v2) in zip(ours.pairs, theirs.pairs):
        assert_same_tree(k1, k2, f"{where}.{k2.value}(key)")
        assert_same_tree(v1, v2, f"{where}.{k2.value}")
    for i, (a, b) in enumerate(zip(ours.items, theirs.items)):
        assert_same_tree(a, b, f"{where}[{i}]")


def assert_agrees(text: str):
    json.loads(text)  # only valid JSON reaches the tree builder
    ours, our_diagnostics = build_json_tree(text, DEFAULT_LIMITS)
    theirs, their_diagnostics = composed(text)
    assert_same_tree(ours, theirs)
    # The same findings; their order does not matter (reports sort them by position).
    assert sorted((d.span.start, d.code, d.message) for d in our_diagnostics) == sorted(
        (d.span.start, d.code, d.message) for d in their_diagnostics)


def test_every_json_fixture():
    checked = 0
    for path in sorted(FIXTURES.rglob("*.json")):
        text = path.read_bytes().decode("utf-8-sig", errors="strict")
        try:
            json.loads(text)
        except json.JSONDecodeError:
            continue
        assert_agrees(text)
        checked += 1
    assert checked >= 5


def test_layouts_duplicates_and_line_breaks():
    assert_agrees('{"r": 8, "r": 16, "target_modules": ["q_proj", "v_proj"], "x": {"r": 1, "r": 2}}')
    assert_agrees('{\r\n  "r": 8,\r\n  "lora_alpha": 1.5e-3,\r  "a": [ ]  ,"b":{}}\n')
    assert_agrees('\n\n  [1, -2, 3.25, true, false, null, "s\\"q\\\\", "\\u00e9", -0, 1E+2]  \n')
    assert_agrees('{"ünï": "cødé", "設定": ["値", {"k": "v"}]}')


def test_values_are_what_json_loads_gives_where_yaml_differs():
    # A surrogate pair is one character to json.loads (and to PEFT reading the file); YAML leaves two halves.
    text = '{"a": "\\ud83d\\ude00", "b": NaN}'
    root, _ = build_json_tree(text, DEFAULT_LIMITS)
    assert root.get("a").value == json.loads(text)["a"] == "\U0001F600"
    assert math.isnan(root.get("b").value)


KEYS = st.sampled_from(["r", "lora_alpha", "target_modules", "k", "ünï", "a b", 'q"uote', "back\\slash"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False, allow_infinity=False),
                    # Not where YAML and JSON differ: characters YAML forbids in a file (controls, DEL), line
                    # breaks YAML folds inside quotes, and escaped surrogate pairs (tested above).
                    st.text(st.characters(blacklist_characters="\x85\u2028\u2029", max_codepoint=0xFFFF,
                                          blacklist_categories=("Cs", "Cc")), max_size=12))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(document=DOCUMENTS, indent=st.sampled_from([None, 0, 1, 2, 4, "\t"]), ascii=st.booleans(),
       separators=st.sampled_from([None, (",", ":"), (" , ", " : ")]))
def test_generated_documents_agree_with_ruamel(document, indent, ascii, separators):
    assert_agrees(json.dumps(document, indent=indent, ensure_ascii=ascii, separators=separators))


def test_a_document_past_a_limit_goes_to_the_composer():
    import pytest

    for limits, text in [(Limits(max_depth=2), '{"a": {"b": {"c": 1}}}'), (Limits(max_list_entries=2), "[1, 2, 3]"),
                         (Limits(max_mapping_keys=1), '{"a": 1, "b": 2}'), (Limits(max_nodes=3), "[1, 2, 3]")]:
        with pytest.raises(OutsideLimits):
            build_json_tree(text, limits)
    root, _ = build_json_tree("[1, 2, 3]", Limits(max_list_entries=3, max_nodes=4))
    assert [item.value for item in root.items] == [1, 2, 3]
