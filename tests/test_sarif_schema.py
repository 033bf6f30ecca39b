"""SARIF output against the official SARIF 2.1.0 schema (tests/data, provenance in tests/data/PROVENANCE.md)."""

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
BAD = "lora:\n  r: 0\n  lora_aplha: 16\n  target_modules: [q_proj, q_proj]\n"
NAMES = ["plain.yml", "with space.yml", "hash#1.yml", "percent%20.yml", "what?.yml", "ünïcødé/設定.yml",
         "a:b.yml", "[x].yml"]


def validator():
    checker = jsonschema.FormatChecker()  # every format it knows: the schema uses uri-reference, newer than draft-04
    assert "uri-reference" in checker.checkers, "install rfc3986-validator so that URI formats are checked"
    return jsonschema.Draft4Validator(SCHEMA, format_checker=checker)


def test_the_schema_check_catches_unencoded_uris():
    document = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{
        "message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "with space.yml"}}}],
    }]}]}
    assert not validator().is_valid(document)


def test_sarif_with_awkward_paths_is_valid_and_points_at_the_files(lint, write, tmp_path, monkeypatch):
    relative = [write(f"repo/{name}", BAD) for name in NAMES]
    outside = write("elsewhere/with space #2.yml", BAD)
    monkeypatch.chdir(tmp_path / "repo")
    result = lint("check", *[p.relative_to(tmp_path / "repo") for p in relative], outside, "--output-format", "sarif")
    assert result.code == 1
    document = json.loads(result.out)
    errors = sorted(validator().iter_errors(document), key=str)
    assert not errors, errors[0]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in document["runs"][0]["results"]]
    named = {unquote(u["uri"]) for u in uris if u.get("uriBaseId") == "%SRCROOT%"}
    assert named == set(NAMES)
    [absolute] = {u["uri"] for u in uris if "uriBaseId" not in u}
    assert urlsplit(absolute).scheme == "file" and Path(unquote(urlsplit(absolute).path)) == outside


def test_sarif_of_a_clean_run_and_of_stdin_is_valid(lint, write, monkeypatch):
    import io

    clean = json.loads(lint("check", write("ok.yml", "r: 8\ntarget_modules: [q_proj]\n"), "--output-format",
                            "sarif").out)
    assert validator().is_valid(clean) and clean["runs"][0]["results"] == []
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BAD.encode())))
    piped = json.loads(lint("check", "-", "--stdin-filename", "my configs/x.yml", "--output-format", "sarif").out)
    assert validator().is_valid(piped)
