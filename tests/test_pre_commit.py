"""The pre-commit hook, run by pre-commit itself (`pre-commit try-repo` on this checkout) in a temporary git
repository holding LoRA configs beside the YAML and JSON files every repository has."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOOD = ("model:\n  hf_model_ckpt: meta-llama/Llama-3.2-1B\nlora:\n  r: 16\n  lora_alpha: 32\n"
        "  target_modules: [q_proj, v_proj]\n")
BROKEN = "model:\n  hf_model_ckpt: meta-llama/Llama-3.2-1B\nlora:\n  r: 16\n  lora_aplha: 32\n  target_modules: qproj\n"
OTHER_FILES = {
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
                                "      - run: echo lora\n",
    "docker-compose.yml": "services:\n  trainer:\n    image: pytorch/pytorch\n    environment:\n      - LORA_R=8\n",
    "k8s/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: lora-finetune\nspec:\n  template: {}\n",
    "adapter/adapter_config.json": json.dumps({"peft_type": "LORA", "r": 8, "lora_alpha": 16,
                                               "target_modules": ["q_proj", "v_proj"],
                                               "base_model_name_or_path": "meta-llama/Llama-3.2-1B"}),
    "configs/llama.yml": GOOD,
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def tokenizer_json() -> str:
    vocab = {f"lora{i}": i for i in range(200_000)}
    return json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": vocab, "merges": list(vocab)[:100_000]}})


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args], check=True,
                   capture_output=True)


class EnvironmentWatch:
    """What pre-commit installed into the hook's environment. try-repo builds it in a temporary store that is gone
    when it exits, so the store is looked at while it runs."""

    def __init__(self, temp_root: Path) -> None:
        self.temp_root = temp_root
        self.packages: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(0.02):
            try:  # pip's temporary directories come and go under the same root
                for site_packages in self.temp_root.glob("*/repo*/py_env-*/lib/python*/site-packages"):
                    self.packages |= {entry.name.split("-")[0].lower() for entry in os.scandir(site_packages)}
            except OSError:
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()



@pytest.fixture(scope="module")
def hook_run(tmp_path_factory):
    """One `pre-commit try-repo` over a repository with good configs, a broken one, and files that are not
    configs (building the hook's environment takes most of a minute, so it is done once)."""
    executable = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(executable).exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[dev]')")
    temp_root = tmp_path_factory.mktemp("tmp")
    project = tmp_path_factory.mktemp("project")
    git(project, "init", "-q")
    files = {**OTHER_FILES, "model/tokenizer.json": tokenizer_json(), "configs/broken.yml": BROKEN}
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    git(project, "add", "-A")
    env = {**os.environ, "TMPDIR": str(temp_root), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)  # the hook must run the code pre-commit installed, not this test's
    with EnvironmentWatch(temp_root) as watch:
        result = subprocess.run([executable, "try-repo", str(REPO), "lora-lint", "--all-files", "--color", "never"],
                                cwd=project, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    if "An unexpected error has occurred" in output or result.returncode not in (0, 1):
        pytest.skip(f"pre-commit could not build the hook's environment: {output[-800:]}")
    return result, watch.packages


def resolved_install(tmp_path: Path) -> set[str]:
    """What `pip install <checkout>` (pre-commit's install step) resolves to, from a fresh resolution."""
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                             "--report", str(report), str(REPO)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.skip(f"pip could not resolve the package: {result.stderr[-500:]}")
    return {item["metadata"]["name"].lower().replace("-", "_").split(".")[0]
            for item in json.loads(report.read_text())["install"]}


def test_hook_installs_without_torch(hook_run, tmp_path):
    _, packages = hook_run
    if "lora_lint" not in packages:
        # The environment lives only while try-repo runs, and a starved machine can miss it: resolve what its
        # install step installs instead.
        packages = resolved_install(tmp_path)
    assert {"lora_lint", "ruamel", "click", "rich"} <= packages
    assert not packages & {"torch", "transformers", "peft", "accelerate"}


def test_hook_fails_on_the_broken_config_and_skips_the_rest_quietly(hook_run):
    result, _ = hook_run
    assert result.returncode == 1
    assert "lora-lint" in result.stdout and "Failed" in result.stdout
    assert "warning: LL135 [trainer-ignores-key] unknown key `lora_aplha`" in result.stdout
    assert " --> configs/broken.yml:5:3" in result.stdout
    assert "error: LL130 [trainer-rejects-value]" in result.stdout and " --> configs/broken.yml:6:19" in result.stdout
    located = [line for line in result.stdout.splitlines() if line.startswith(" --> ")]
    assert located and all(line.startswith(" --> configs/broken.yml:") for line in located), located
    for quiet in ("docker-compose.yml", "k8s/job.yaml", "ci.yml", "tokenizer.json"):
        assert quiet not in result.stdout
