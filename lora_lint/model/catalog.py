"""The bundled catalogue of base models: their config.json and pre-built inventories, looked up by id or alias.

Torch-free and cheap to import: this runs on the pre-commit hot path. The index is read once, on the first lookup.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CATALOG_DIR = DATA_DIR / "catalog"
INDEX_PATH = CATALOG_DIR / "index.json"
INVENTORY_DIR = DATA_DIR / "inventories"


@dataclass(frozen=True)
class CatalogEntry:
    id: str  # as spelled on the Hub
    aliases: tuple[str, ...]  # older un-namespaced ids that still resolve to this model, e.g. "gpt2"
    file: str  # config file name in CATALOG_DIR
    model_type: str
    architecture: str | None  # architectures[0] of the config, None when it has none
    verified_parameters: int  # meta-device parameter count checked against the published figure
    verified_class: str  # the class that count was taken on
    fidelity: str  # how faithful the config file is to the Hub's (see PROVENANCE.md)
    auto_classes: dict[str, str]  # Auto class -> the concrete class transformers maps it to for this model
    inventories: dict[str, str]  # concrete class -> inventory path relative to INVENTORY_DIR

    def config(self) -> dict:
        """A fresh copy of the model's config.json content."""
        return json.loads((CATALOG_DIR / self.file).read_text(encoding="utf-8"))

    def concrete_class(self, model_class: str) -> str:
        """The concrete class an Auto class maps to for this model (a concrete class name is returned as is)."""
        return self.auto_classes.get(model_class, model_class)

    def inventory_path(self, model_class: str) -> Path | None:
        """The shipped inventory for `model_class` (concrete or Auto), or None when none was built for it."""
        relative = self.inventories.get(self.concrete_class(model_class))
        return INVENTORY_DIR / relative if relative is not None else None


def lookup(model_ref: str) -> CatalogEntry | None:
    """The catalogue entry for a Hub id or alias. Hub ids are case-insensitive, so the case need not match."""
    return _entries_by_name().get(model_ref.strip().lower())


def entries() -> tuple[CatalogEntry, ...]:
    return _index()[1]


def inventories_transformers_version() -> str:
    """The transformers version the shipped inventories were built with."""
    return _index()[0]


@functools.cache
def _index() -> tuple[str, tuple[CatalogEntry, ...]]:
    index = json.loads(INDEX_PATH.read_text(encoding="utf-8"))
    models = tuple(
        CatalogEntry(
            id=model["id"],
            aliases=tuple(model["aliases"]),
            file=model["file"],
            model_type=model["model_type"],
            architecture=model["architecture"],
            verified_parameters=model["verified_parameters"],
            verified_class=model["verified_class"],
            fidelity=model["fidelity"],
            auto_classes=model["auto_classes"],
            inventories=model["inventories"],
        )
        for model in index["models"]
    )
    return index["transformers_version"], models


@functools.cache
def _entries_by_name() -> dict[str, CatalogEntry]:
    by_name = {}
    for entry in entries():
        for name in (entry.id, *entry.aliases):
            by_name[name.lower()] = entry
    return by_name
