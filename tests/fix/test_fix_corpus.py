"""Every real config of the corpus, fixed with `--unsafe-fixes`: only the edit spans change, the result parses (a
JSON file is still JSON), no fixed finding is left and nothing is left to fix."""

import json
import shutil

from lora_lint.fix import apply_fixes
from lora_lint.lint import LintOptions, lint_file
from lora_lint.settings import Settings

from .checks import assert_fixed_findings_gone, assert_only_edit_spans_changed


def test_fixing_every_real_config(real_configs, tmp_path):
    files = sorted(p for p in real_configs.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")
    fixed_files = fixes = 0
    for source in files:
        path = tmp_path / source.relative_to(real_configs)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        job = (path, Settings(root=tmp_path), LintOptions(offline=True), True)
        report = lint_file(*job)
        outcome = apply_fixes([(job, report)], unsafe=True, write=True)
        assert outcome.problems == []
        if not outcome.fixed:
            assert path.read_bytes() == source.read_bytes()
            continue
        [(_, fixed)] = outcome.fixed
        assert path.read_bytes() == fixed.fixed
        assert_only_edit_spans_changed(source.read_bytes(), fixed)
        after = lint_file(*job)
        parse_errors = [d for d in after.diagnostics if d.code in ("LL001", "LL002")]
        assert parse_errors == [d for d in report.diagnostics if d.code in ("LL001", "LL002")] == [], source
        if path.suffix == ".json":
            json.loads(path.read_bytes())
        assert_fixed_findings_gone(fixed, after, unsafe=True)
        fixed_files += 1
        fixes += len(fixed.fixed_diagnostics)
    print(f"\nreal configs: {len(files)} files, {fixed_files} fixed, {fixes} fixes")
    assert fixed_files >= 10  # the corpus has string targets, key typos and foreign targets to fix
