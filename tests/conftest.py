import json
from pathlib import Path

import pytest

# The public corpus of real configs lives beside the repository (../shared), never in a user's clone: tests over it
# run when it is there and are skipped, with this reason, when it is not.
REAL_CONFIGS = Path(__file__).resolve().parents[2] / "shared" / "real-configs"


@pytest.fixture
def real_configs() -> Path:
    if not (REAL_CONFIGS / "MANIFEST.tsv").is_file():
        pytest.skip(f"the real-config corpus is not at {REAL_CONFIGS} (it is only beside the project's own checkout)")
    return REAL_CONFIGS

from lora_lint.cli import main


class Run:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def json(self):
        return json.loads(self.out)

    def codes(self, path_index=0):
        return [d["code"] for d in self.json["files"][path_index]["diagnostics"]]


@pytest.fixture
def lint(capsys):
    """Run the real command line in-process; returns exit code and output."""

    def run(*args):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path):
    def write_file(name, content):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write_file
