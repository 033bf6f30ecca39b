"""Check lora_lint/data/peft_lora_fields.json against the peft that is installed.

The JSON is generated from the released wheels by scripts/peft_field_history.py
without importing them; here the installed peft is imported for real, so a
mistake in the AST reading (a missed inherited field, an `init=False` field
taken for a keyword, a stale module read instead of the live one) shows up as
a mismatch.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import pytest
from packaging.version import Version

peft = pytest.importorskip("peft")

DATA_PATH = Path(__file__).resolve().parent.parent / "lora_lint" / "data" / "peft_lora_fields.json"
INSTALLED = Version(peft.__version__)


@pytest.fixture(scope="module")
def history() -> dict:
    return json.loads(DATA_PATH.read_text(encoding="utf-8"))


def present_in(entry: dict, version: Version) -> bool:
    removed = entry["removed"]
    return Version(entry["added"]) <= version and (removed is None or version < Version(removed))


def installed_init_keywords() -> set[str]:
    return {f.name for f in dataclasses.fields(peft.LoraConfig) if f.init}


def installed_literal_strings(keyword: str) -> set[str]:
    """The strings allowed by the `Literal[...]` parts of an installed LoraConfig annotation."""
    found: set[str] = set()
    pending = [typing.get_type_hints(peft.LoraConfig)[keyword]]
    while pending:
        annotation = pending.pop()
        if typing.get_origin(annotation) is typing.Literal:
            found.update(arg for arg in typing.get_args(annotation) if isinstance(arg, str))
        else:
            pending.extend(typing.get_args(annotation))
    return found


def test_every_installed_keyword_is_recorded_as_available(history):
    history_fields = history["fields"]
    missing = sorted(installed_init_keywords() - history_fields.keys())
    assert not missing, f"LoraConfig keywords of peft {INSTALLED} missing from the JSON: {missing}"
    wrong_window = {
        name: history_fields[name]
        for name in installed_init_keywords()
        if not present_in(history_fields[name], INSTALLED)
    }
    assert not wrong_window, f"JSON says these are not accepted by peft {INSTALLED}, but they are: {wrong_window}"


def test_every_installed_task_type_is_recorded_as_available(history):
    task_types = history["task_types"]
    installed_members = set(peft.TaskType.__members__)
    missing = sorted(installed_members - task_types.keys())
    assert not missing, f"TaskType members of peft {INSTALLED} missing from the JSON: {missing}"
    wrong_window = {
        name: task_types[name] for name in installed_members if not present_in(task_types[name], INSTALLED)
    }
    assert not wrong_window, f"JSON says these TaskType members are not in peft {INSTALLED}: {wrong_window}"


def test_json_lists_nothing_extra_for_a_scanned_installed_version(history):
    # Only exact when the installed release is one the script scanned: for
    # another release the JSON's answer is that of a neighbouring one.
    if str(INSTALLED) not in history["versions"]:
        pytest.skip(f"peft {INSTALLED} is not among the scanned versions {history['versions']}")
    claimed_fields = {name for name, entry in history["fields"].items() if present_in(entry, INSTALLED)}
    assert claimed_fields == installed_init_keywords()
    claimed_task_types = {name for name, entry in history["task_types"].items() if present_in(entry, INSTALLED)}
    assert claimed_task_types == set(peft.TaskType.__members__)


def test_literal_values_match_a_scanned_installed_version(history):
    if str(INSTALLED) not in history["versions"]:
        pytest.skip(f"peft {INSTALLED} is not among the scanned versions {history['versions']}")
    claimed_init_values = {
        value for value, entry in history["init_lora_weights"].items() if present_in(entry, INSTALLED)
    }
    assert claimed_init_values == installed_literal_strings("init_lora_weights")
    # `bias` is recorded for the newest scanned release only.
    if str(INSTALLED) == history["versions"][-1]:
        assert set(history["bias"]) == installed_literal_strings("bias")
