"""Bad input becomes a diagnostic at the parser's position with exit 1, never a traceback."""

import pytest

LORA = "lora:\n  r: 16\n  target_modules: [q_proj, v_proj]\n"


def _only(result):
    diagnostics = result.json["files"][0]["diagnostics"]
    return [(d["code"], d["line"], d["column"]) for d in diagnostics]


@pytest.mark.parametrize("name, content, expected", [
    ("indent.yaml", "lora:\n  r: 16\n   lora_alpha: 32\n", ("LL001", 3, 14)),
    ("tabs.yaml", "lora:\n\tr: 16\n", ("LL001", 2, 1)),
    ("escape.yaml", 'lora:\n  layers_pattern: "transformer\\.h\\.\\d+"\n', ("LL001", 2, 32)),
    ("unclosed.yaml", "lora:\n  target_modules: [q_proj, v_proj\n", ("LL001", 3, 1)),
    ("trailing_comma.json", '{\n  "r": 8,\n  "lora_alpha": 16,\n}\n', ("LL001", 4, 1)),
    ("dup.yaml", "lora:\n  r: 16\n  r: 8\n  target_modules: [q_proj]\n", ("LL002", 3, 3)),
    ("latin1.yaml", b"lora:\n  r: 16\n  # r\xe9glages\n", ("LL003", 3, 6)),
    ("binary.yaml", b"\x00\x01\x02lora", ("LL003", 1, 1)),
    ("empty.yaml", "", ("LL004", 1, 1)),
    ("comments.yaml", "# nothing here\n", ("LL004", 1, 1)),
    ("list.yaml", "- r: 8\n- r: 16\n", ("LL004", 1, 1)),
    ("scalar.yaml", "just text\n", ("LL004", 1, 1)),
])
def test_malformed_input_is_a_diagnostic(lint, write, name, content, expected):
    result = lint("check", write(name, content), "--output-format", "json")
    assert expected in _only(result)
    assert result.code == (1 if expected[0] in ("LL001", "LL002", "LL003") else 0)
    assert result.err == ""


def test_syntax_error_help_explains_double_quoted_backslash(lint, write):
    result = lint("check", write("escape.yaml", 'lora:\n  layers_pattern: "a\\.b"\n'))
    assert "use single quotes" in result.out
    assert result.code == 1


def test_duplicate_key_keeps_last_value_like_pyyaml(lint, write):
    # the second r (0) is the one loaders keep, so it is out of range
    result = lint("check", write("dup.yaml", "lora:\n  r: 16\n  r: 0\n  target_modules: [q_proj]\n"),
                  "--output-format", "json")
    assert sorted(result.codes()) == ["LL002", "LL103"]


def test_huge_file_is_refused_without_parsing(lint, write):
    result = lint("check", write("huge.yaml", "lora:\n" + "  # padding\n" * 1_000_000), "--output-format", "json")
    assert result.codes() == ["LL003"]
    assert "MiB" in result.json["files"][0]["diagnostics"][0]["message"]


def test_unreadable_file(lint, write, monkeypatch):
    from lora_lint import lint as lint_module

    path = write("secret.yaml", LORA)
    real_read = lint_module.read_regular_file

    def refuse(file, limit):
        if file.name == "secret.yaml":
            raise PermissionError(13, "Permission denied")
        return real_read(file, limit)

    # root reads any file regardless of its mode bits, so the refusal is simulated where lora-lint reads
    monkeypatch.setattr(lint_module, "read_regular_file", refuse)
    result = lint("check", path, "--output-format", "json")
    assert result.codes() == ["LL003"]
    assert "Permission denied" in result.json["files"][0]["diagnostics"][0]["message"]
    assert result.code == 1


def test_multiple_documents(lint, write):
    result = lint("check", write("multi.yaml", LORA + "---\nlora:\n  r: 8\n"), "--output-format", "json")
    # reported at the `---` where PyYAML's safe_load stops
    assert _only(result) == [("LL001", 4, 1)]


def test_yaml11_typing_like_pyyaml(lint, write):
    content = "lora_config:\n  r: 16\n  lora_dropout: 1e-1\n  fan_in_fan_out: yes\n  target_modules: [q_proj]\n"
    result = lint("check", write("yaml11.yaml", content), "--output-format", "json")
    diagnostics = result.json["files"][0]["diagnostics"]
    # 1e-1 has no dot: PyYAML reads a string; `yes` is a boolean in YAML 1.1, so fan_in_fan_out is fine
    assert [(d["code"], d["line"]) for d in diagnostics] == [("LL102", 3)]
    assert "write `1.0e-1`" in diagnostics[0]["help"]


@pytest.mark.parametrize("written, fix", [("1e-4", "1.0e-4"), ("2.0e4", "2.0e+4"), ("5E-5", "5.0e-5")])
def test_exponent_floats_pyyaml_reads_as_strings(lint, write, written, fix):
    import yaml

    assert isinstance(yaml.safe_load(f"x: {written}")["x"], str)
    assert isinstance(yaml.safe_load(f"x: {fix}")["x"], float)
    result = lint("check", write("f.yaml", f"lora_config:\n  r: 8\n  lora_dropout: {written}\n  target_modules: [q_proj]\n"),
                  "--output-format", "json", "--select", "LL102")
    [diagnostic] = result.json["files"][0]["diagnostics"]
    assert diagnostic["help"].endswith(f"write `{fix}`")


def test_every_real_config_lints_without_crashing(lint, real_configs):
    files = sorted(p for p in real_configs.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")
    assert len(files) >= 200, corpus
    result = lint("check", *files, "--output-format", "json")
    assert result.code in (0, 1), result.err
    assert result.err == ""
    assert len(result.json["files"]) == len(files)
    internal = [(entry["path"], d["message"]) for entry in result.json["files"] for d in entry["diagnostics"]
                if d["code"] == "LL009"]
    assert internal == []
