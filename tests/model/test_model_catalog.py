"""The bundled catalogue: index against the manifest, shipped inventories against the verified parameter counts,
lookups, and an import that stays torch-free."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lora_lint.model.catalog import CATALOG_DIR, INVENTORY_DIR, entries, inventories_transformers_version, lookup
from lora_lint.model.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]


def manifest_rows() -> dict[str, dict]:
    """The model table of PROVENANCE.md (the imported MANIFEST.md), read independently of the build script."""
    rows = {}
    for line in (CATALOG_DIR / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 9 and "/" in cells[0]:
            count, counted_class = re.fullmatch(r"([\d,]+) \((\w+)\)", cells[4]).groups()
            rows[cells[0]] = {"aliases": [a.strip() for a in cells[1].split(",") if a.strip()],
                              "model_type": cells[2], "count": int(count.replace(",", "")), "class": counted_class}
    return rows


def test_index_matches_the_manifest():
    rows = manifest_rows()
    assert len(rows) == 49
    assert {entry.id for entry in entries()} == set(rows)
    for entry in entries():
        row = rows[entry.id]
        assert (entry.verified_parameters, entry.verified_class) == (row["count"], row["class"])
        assert list(entry.aliases) == row["aliases"]
        assert entry.model_type == row["model_type"] == entry.config()["model_type"]


def test_catalogue_files_are_exactly_the_indexed_configs():
    on_disk = {path.name for path in CATALOG_DIR.glob("*.json")} - {"index.json"}
    assert on_disk == {entry.file for entry in entries()}
    for entry in entries():
        assert entry.file == entry.id.replace("/", "--") + ".json"
        assert "_name_or_path" not in entry.config()


@pytest.mark.parametrize("entry", entries(), ids=lambda entry: entry.id)
def test_verified_class_inventory_counts_within_one_percent(entry):
    path = entry.inventory_path(entry.verified_class)
    assert path is not None, f"no inventory of {entry.verified_class}"
    inventory = load_inventory(path.read_bytes())
    assert inventory["class"] == entry.verified_class
    assert abs(inventory["total_parameters"] - entry.verified_parameters) <= 0.01 * entry.verified_parameters
    # the shipped architectures[0] inventory is there too, named by its concrete class
    primary = entry.architecture or "AutoModel"
    assert load_inventory(entry.inventory_path(primary).read_bytes())["class"] == entry.concrete_class(primary)


def test_every_shipped_inventory_is_indexed_readable_and_versioned():
    indexed = {INVENTORY_DIR / relative for entry in entries() for relative in entry.inventories.values()}
    assert indexed == set(INVENTORY_DIR.rglob("*.json.gz"))
    for entry in entries():
        for auto_class, concrete in entry.auto_classes.items():
            assert concrete in entry.inventories, f"{entry.id}: {auto_class} -> {concrete} has no inventory"
        for concrete, relative in entry.inventories.items():
            inventory = load_inventory((INVENTORY_DIR / relative).read_bytes())
            assert inventory["class"] == concrete == Path(relative).name.removesuffix(".json.gz")
            assert inventory["transformers_version"] == inventories_transformers_version()
            assert inventory["model_type"] == entry.model_type


def test_auto_classes_follow_what_transformers_maps():
    llama = lookup("meta-llama/Llama-2-7b-hf")
    assert llama.concrete_class("AutoModelForCausalLM") == "LlamaForCausalLM"
    assert "AutoModelForSeq2SeqLM" not in llama.auto_classes and llama.inventory_path("AutoModelForSeq2SeqLM") is None
    t5 = lookup("t5-small")
    assert t5.concrete_class("AutoModelForSeq2SeqLM") == "T5ForConditionalGeneration"
    assert "AutoModelForCausalLM" not in t5.auto_classes
    deberta = lookup("microsoft/deberta-v3-base")  # no architectures: AutoModel is what a trainer gets by default
    assert deberta.architecture is None and deberta.concrete_class("AutoModel") == "DebertaV2Model"


def test_lookup_by_id_alias_and_any_case():
    gpt2 = lookup("openai-community/gpt2")
    assert gpt2 is not None and gpt2.id == "openai-community/gpt2"
    assert lookup("gpt2") is gpt2
    assert lookup("OpenAI-Community/GPT2") is gpt2
    assert lookup("bert-base-uncased").id == "google-bert/bert-base-uncased"
    assert lookup("roberta-base").id == "FacebookAI/roberta-base"
    assert lookup("meta-llama/llama-2-7b-hf").id == "meta-llama/Llama-2-7b-hf"
    assert lookup("meta-llama/Llama-2-7b") is None
    assert lookup("tiiuae/falcon-7b") is None  # listed as not collected in the manifest


def test_config_is_a_fresh_copy():
    entry = lookup("gpt2")
    entry.config()["n_layer"] = 99
    assert entry.config()["n_layer"] == 12


def test_catalogue_and_resolve_import_without_torch_or_transformers():
    code = (
        "import json, sys, time\n"
        "started = time.perf_counter()\n"
        "from lora_lint.model import catalog, resolve\n"
        "resolve.installed_version = lambda package: catalog.inventories_transformers_version()\n"
        "entry = catalog.lookup('gpt2')\n"
        "resolved = resolve.resolve_model('gpt2')\n"
        "inventory = resolve.get_inventory(resolved, 'AutoModelForCausalLM')\n"
        "elapsed = time.perf_counter() - started\n"
        "heavy = {'torch', 'transformers', 'accelerate', 'huggingface_hub', 'peft'} & set(sys.modules)\n"
        "print(json.dumps([sorted(heavy), inventory.source, elapsed]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=60, check=True)
    heavy, source, elapsed = json.loads(result.stdout)
    assert heavy == []
    assert source == "catalog"
    assert elapsed < 1.0
