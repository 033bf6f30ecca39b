"""Every real config of the corpus and every fixture, fixed with `--unsafe-fixes`: only the edit spans change, the
result parses (a JSON file is still JSON), no fixed finding is left and nothing is left to fix."""

import json
import shutil
from pathlib import Path

from lora_lint.fix import apply_fixes
from lora_lint.lint import LintOptions, lint_file
from lora_lint.settings import Settings

from .checks import assert_fixed_findings_gone, assert_only_edit_spans_changed


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _parse_errors(report) -> list[str]:
    return [d.code for d in report.diagnostics if d.code in ("LL001", "LL002")]


def _fix_all(root: Path, tmp_path: Path) -> tuple[int, int, int]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".yml", ".yaml", ".json"))
    fixed_files = fixes = 0
    for source in files:
        path = tmp_path / source.relative_to(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        job = (path, Settings(root=tmp_path), LintOptions(offline=True), True)
        report = lint_file(*job)
        outcome = apply_fixes([(job, report)], unsafe=True, write=True)
        assert outcome.problems == []
        if report is None or not outcome.fixed:
            assert path.read_bytes() == source.read_bytes()
            continue
        [(_, fixed)] = outcome.fixed
        assert path.read_bytes() == fixed.fixed
        assert_only_edit_spans_changed(source.read_bytes(), fixed)
        after = lint_file(*job)
        assert _parse_errors(after) == _parse_errors(report), source
        if path.suffix == ".json":
            json.loads(path.read_bytes())
        assert_fixed_findings_gone(fixed, after, unsafe=True)
        fixed_files += 1
        fixes += len(fixed.fixed_diagnostics)
    return len(files), fixed_files, fixes


def test_fixing_every_real_config(real_configs, tmp_path):
    files, fixed_files, fixes = _fix_all(real_configs, tmp_path)
    print(f"\nreal configs: {files} files, {fixed_files} fixed, {fixes} fixes")
    assert files >= 200 and fixed_files >= 10  # the corpus has bf16, key typos, repetitions, foreign targets


def test_fixing_every_fixture(tmp_path):
    files, fixed_files, fixes = _fix_all(FIXTURES, tmp_path)
    print(f"\nfixtures: {files} files, {fixed_files} fixed, {fixes} fixes")
    assert fixed_files >= 5
