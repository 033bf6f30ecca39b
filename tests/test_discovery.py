"""Which files `check` walks into: git's own ignore decisions (checked against `git ls-files`), skipped directories,
and the command-line switches that change them."""

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lora_lint.discovery import discover
from lora_lint.settings import Settings

CLEAN = "lora:\n  r: 16\n  lora_alpha: 32\n  target_modules: [q_proj, v_proj]\n"
ERRS = "lora:\n  r: 0\n  target_modules: [q_proj]\n"

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FILES = ["a.yml", "b.json", "keep.yml", "conf/a.yml", "conf/deep/b.yaml", "conf/deep/keep.yml", "logs/x.json",
         "logs/sub/y.yml", "data/a.yml", "data/tmp/b.json", "x/conf/c.yml", "[ab].yml", "#hash.yml", "sp ace.yml",
         "exp/run1/adapter_config.json", "exp/run2/adapter_config.json", "exp/run2/notes.yml"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def make_repo(root: Path, gitignores: dict[str, str], info_exclude: str = "") -> Path:
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for name in FILES:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CLEAN)
    for folder, text in gitignores.items():
        (repo / folder).mkdir(parents=True, exist_ok=True)
        (repo / folder / ".gitignore").write_text(text)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text(info_exclude)
    return repo


def git_walks(repo: Path) -> list[str]:
    """What git considers untracked and not ignored: what a walk that respects git's rules must find."""
    listed = git(repo, "-c", "core.excludesFile=/dev/null", "ls-files", "--others", "--exclude-standard").splitlines()
    return sorted(p.strip('"') for p in listed if p.endswith((".yml", ".yaml", ".json")))


def we_walk(repo: Path, respect_gitignore: bool = True) -> list[str]:
    found = discover([str(repo)], lambda path: Settings(root=repo), False, respect_gitignore)
    return sorted(candidate.path.relative_to(repo).as_posix() for candidate in found)


@needs_git
def test_gitignore_semantics_agree_with_git(tmp_path):
    repo = make_repo(tmp_path, {
        "": "*.json\n!b.json\nlogs/\n/data/tmp\n\\#hash.yml\n\\[ab\\].yml\nsp\\ ace.yml\nexp/**/notes.yml\n",
        "conf": "deep/*\n!deep/keep.yml\n/a.yml\n",
        "x": "conf/\n",
    }, info_exclude="keep.yml\n")
    assert we_walk(repo) == git_walks(repo)
    assert "b.json" in we_walk(repo) and "logs/x.json" not in we_walk(repo)
    assert we_walk(repo, respect_gitignore=False) == sorted(FILES)


PATTERNS = st.sampled_from([
    "*.yml", "*.json", "!*.json", "!keep.yml", "a.yml", "/a.yml", "conf/", "conf", "/conf", "deep/", "**/deep",
    "conf/**", "conf/**/b.yaml", "logs/*", "!logs/sub/", "data/", "!data/tmp", "*/a.yml", "[ab].yml", "?.yml",
    "[!a].json", "exp/*/adapter_config.json", "!exp/run2/*", "**/keep.yml", "sub", "tmp/", "x/**/c.yml", "#comment",
    "", "  ", "*.yml  ", "!", "/",
])


@needs_git
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.lists(PATTERNS, max_size=6), nested=st.lists(PATTERNS, max_size=4),
       exclude=st.lists(PATTERNS, max_size=2))
def test_random_gitignores_agree_with_git(top, nested, exclude, tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("g"), {"": "\n".join(top) + "\n", "conf": "\n".join(nested) + "\n"},
                     info_exclude="\n".join(exclude) + "\n")
    assert we_walk(repo) == git_walks(repo)


def test_virtualenvs_build_output_and_hidden_directories_are_skipped(tmp_path):
    for name in ["ok.yml", "venv/c.yml", "env2/pyvenv.cfg", "env2/c.yml", "lib/site-packages/p/c.yml",
                 "build/c.yml", "dist/c.yml", "node_modules/p/c.yml", ".hidden/c.yml", "src/build/c.yml"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CLEAN)
    assert we_walk(tmp_path) == ["ok.yml"]


@needs_git
def test_gitignore_from_the_command_line(lint, write, tmp_path):
    git(tmp_path, "init", "-q")
    write(".gitignore", "generated/\n")
    write("generated/c.yml", ERRS)
    write("configs/ok.yml", CLEAN)
    walked = lint("check", tmp_path, "--output-format", "json")
    assert [f["path"].rsplit("/", 1)[-1] for f in walked.json["files"]] == ["ok.yml"] and walked.code == 0
    everything = lint("check", tmp_path, "--no-respect-gitignore", "--output-format", "json")
    assert len(everything.json["files"]) == 2 and everything.code == 1
    ignored = tmp_path / "generated" / "c.yml"
    assert lint("check", ignored).code == 1  # named explicitly: linted, as in ruff
    assert lint("check", ignored, "--force-exclude").code == 0  # pre-commit's way: git's rules apply
    assert lint("check", ignored, "--force-exclude", "--no-respect-gitignore").code == 1


def test_show_files(lint, write, tmp_path):
    write("configs/a.yml", CLEAN)
    write("configs/notes.txt", "x")
    write("build/b.yml", CLEAN)
    result = lint("check", tmp_path, "--show-files")
    assert result.code == 0 and result.out.splitlines() == [(tmp_path / "configs" / "a.yml").as_posix()]
