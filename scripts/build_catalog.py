"""(Re)build the bundled model catalogue: pre-built inventories and the Auto-class mapping in the index.

    python scripts/build_catalog.py
        Rebuild lora_lint/data/inventories/ and the per-model `auto_classes`/`inventories` of
        lora_lint/data/catalog/index.json from the config files already in the catalogue.

    python scripts/build_catalog.py --import-manifest ../shared/model-configs
        First (re)import the catalogue itself from a directory of `<org>--<name>.json` config files and its
        MANIFEST.md: copies the files, derives index.json (id, aliases, model type, verified parameter count) and
        PROVENANCE.md from the manifest, then rebuilds as above.

Inventories are built for the classes a trainer could load: `architectures[0]` (AutoModel when absent), the class the
manifest counted parameters of, and each task Auto class transformers maps for the model type. Needs torch,
transformers and accelerate; the installed transformers version is recorded in every inventory and in the index.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from lora_lint.model.catalog import CATALOG_DIR, INDEX_PATH, INVENTORY_DIR  # noqa: E402
from lora_lint.model.inventory import (  # noqa: E402
    InventoryBuildError,
    build_inventory,
    concrete_class_name,
    dump_inventory,
)

TASK_AUTO_CLASSES = (
    "AutoModelForCausalLM",
    "AutoModelForSeq2SeqLM",
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
)

# The count cell of a manifest row (| id | aliases | model_type | architectures[0] | count (class) | expected | ... |).
_COUNT_CELL = re.compile(r"^(?P<count>[\d,]+) \((?P<cls>\w+)\)$")


def import_manifest(source: Path) -> list[dict]:
    """Copy the config files of `source` into the catalogue and derive the index entries from its MANIFEST.md."""
    manifest = (source / "MANIFEST.md").read_text(encoding="utf-8")
    models = []
    for line in manifest.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 9 or "/" not in cells[0] or cells[0] == "id":
            continue
        model_id, aliases, model_type, architecture, counted, _expected, _verified, fidelity, _source = cells
        count = _COUNT_CELL.match(counted)
        if count is None:
            raise SystemExit(f"MANIFEST.md: cannot read the parameter count of {model_id}: {counted!r}")
        file_name = model_id.replace("/", "--") + ".json"
        config = json.loads((source / file_name).read_text(encoding="utf-8"))
        if config.get("model_type") != model_type:
            raise SystemExit(f"{file_name}: model_type {config.get('model_type')!r}, MANIFEST.md says {model_type!r}")
        shutil.copyfile(source / file_name, CATALOG_DIR / file_name)
        models.append({
            "id": model_id,
            "aliases": [alias.strip() for alias in aliases.split(",") if alias.strip()],
            "file": file_name,
            "model_type": model_type,
            "architecture": None if architecture.startswith("(") else architecture,
            "verified_parameters": int(count["count"].replace(",", "")),
            "verified_class": count["cls"],
            "fidelity": fidelity,
        })
    if not models:
        raise SystemExit(f"{source / 'MANIFEST.md'}: no model rows found")
    (CATALOG_DIR / "PROVENANCE.md").write_text(
        "<!-- Imported from shared/model-configs/MANIFEST.md by scripts/build_catalog.py --import-manifest. -->\n"
        "The files of this directory are the `<org>--<name>.json` files described below; `index.json` is derived "
        "from this table (id, aliases, model type, the meta-device parameter count and the class it was counted "
        "on).\n\n" + manifest,
        encoding="utf-8",
    )
    return models


def build_inventories(models: list[dict]) -> tuple[str, list[tuple[str, str, float]]]:
    """Build and write every model's inventories; fill in `auto_classes` and `inventories` of each index entry.
    Returns the transformers version and (model id, class, seconds) for every build."""
    import transformers

    written: set[Path] = set()
    timings = []
    for model in models:
        config = json.loads((CATALOG_DIR / model["file"]).read_text(encoding="utf-8"))
        primary = model["architecture"] or "AutoModel"
        auto_classes = {}
        concrete_classes = [concrete_class_name(config, primary), concrete_class_name(config, model["verified_class"])]
        if primary.startswith("Auto"):
            auto_classes[primary] = concrete_classes[0]
        for auto_class in TASK_AUTO_CLASSES:
            try:
                auto_classes[auto_class] = concrete_class_name(config, auto_class)
            except InventoryBuildError:
                continue  # transformers maps no such class for this model type
            concrete_classes.append(auto_classes[auto_class])

        inventories = {}
        directory = INVENTORY_DIR / model["file"].removesuffix(".json")
        directory.mkdir(parents=True, exist_ok=True)
        for concrete in dict.fromkeys(concrete_classes):
            started = time.perf_counter()
            inventory = build_inventory(config, concrete)
            timings.append((model["id"], concrete, time.perf_counter() - started))
            path = directory / f"{concrete}.json.gz"
            path.write_bytes(dump_inventory(inventory))
            written.add(path)
            inventories[concrete] = path.relative_to(INVENTORY_DIR).as_posix()
        model["auto_classes"] = auto_classes
        model["inventories"] = inventories

    for stale in set(INVENTORY_DIR.rglob("*.json.gz")) - written:
        stale.unlink()
    for directory in INVENTORY_DIR.iterdir():
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return transformers.__version__, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--import-manifest", type=Path, metavar="DIR",
                        help="directory of config files and MANIFEST.md to import the catalogue from first")
    args = parser.parse_args()

    CATALOG_DIR.mkdir(parents=True, exist_ok=True)
    if args.import_manifest is not None:
        models = import_manifest(args.import_manifest)
    else:
        models = json.loads(INDEX_PATH.read_text(encoding="utf-8"))["models"]

    started = time.perf_counter()
    transformers_version, timings = build_inventories(models)
    total = time.perf_counter() - started
    INDEX_PATH.write_text(
        json.dumps({"format": 1, "transformers_version": transformers_version, "models": models}, indent=1) + "\n",
        encoding="utf-8",
    )

    slowest = max(timings, key=lambda timing: timing[2])
    size = sum(path.stat().st_size for path in INVENTORY_DIR.rglob("*.json.gz"))
    print(f"{len(timings)} inventories of {len(models)} models built with transformers {transformers_version} "
          f"in {total:.1f} s ({size / 1024:.0f} KiB on disk); slowest: {slowest[0]} {slowest[1]} {slowest[2]:.2f} s")


if __name__ == "__main__":
    main()
