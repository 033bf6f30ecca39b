from importlib import metadata

from lora_lint.versions import installed_version


def test_matches_importlib_metadata():
    for package in ("ruamel.yaml", "packaging", "rich", "lora-lint", "peft", "transformers", "huggingface_hub"):
        assert installed_version(package) == metadata.version(package)


def test_missing_package():
    assert installed_version("no-such-package-here") is None
