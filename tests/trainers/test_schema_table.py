"""fields.py (the plain table the fast path and the sweep code use) says what schema.py (the pydantic copy of the
toolkit's schema) says, field for field; and a well-typed file is read without importing pydantic."""

import subprocess
import sys
from typing import List, Union, get_args, get_origin

import pytest

pytest.importorskip("pydantic")

from lora_lint.trainers.llmtune import fields, schema  # noqa: E402


def _first_alternative(annotation):
    while get_origin(annotation) is Union:
        annotation = get_args(annotation)[0]
    return annotation


@pytest.mark.parametrize("section", sorted(fields.SECTIONS))
def test_table_matches_the_pydantic_schema(section):
    model = getattr(schema, section)
    table = fields.SECTIONS[section]
    assert list(table) == list(model.model_fields)
    for name, spec in table.items():
        field = model.model_fields[name]
        annotation = field.annotation
        assert spec.required == field.is_required(), name
        if not spec.required:
            default = "torch.bfloat16" if field.default is schema.UNSERIALIZABLE else field.default
            assert spec.default == default, name
        assert spec.optional == (get_origin(annotation) is Union and type(None) in get_args(annotation)), name
        assert spec.list_first == (get_origin(_first_alternative(annotation)) in (list, List)), name
        section_model = schema.section_model(annotation)
        assert (spec.kind == section_model.__name__) if section_model else spec.kind not in fields.SECTIONS, name


def test_a_well_typed_toolkit_file_is_read_without_pydantic(tmp_path):
    code = ("import sys; from lora_lint.lint import lint_file, LintOptions; from lora_lint.settings import Settings;"
            "from pathlib import Path; report = lint_file(Path(sys.argv[1]), Settings(), LintOptions(offline=True),"
            " True); print(report.trainer['verdict'], 'pydantic' in sys.modules)")
    fixture = "fixtures/llmtune/llama2_qlora_alpaca.yml"
    out = subprocess.run([sys.executable, "-c", code, fixture], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["accepts", "False"]
