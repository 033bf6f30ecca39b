"""`lora-lint models`: the bundled catalogue, the models lora-lint checks without torch or a download."""

from __future__ import annotations


def catalogue() -> list[dict]:
    """One row per catalogued model: its id and aliases, the classes with a shipped inventory, its layer stacks."""
    from lora_lint.model import catalog
    from lora_lint.model.inventory import load_inventory

    rows = []
    for entry in catalog.entries():
        path = entry.inventory_path(entry.verified_class)
        inventory = load_inventory(path.read_bytes()) if path is not None else {"layer_containers": []}
        containers = inventory["layer_containers"]
        # Top-level stacks only: T5's `encoder.block`, not the `layer` lists inside each block.
        stacks = [c for c in containers if not any(c["path"].startswith(o["path"] + ".") for o in containers)]
        rows.append({
            "id": entry.id,
            "aliases": list(entry.aliases),
            "model_type": entry.model_type,
            "classes": sorted(entry.inventories),
            "layers": sum(stack["length"] for stack in stacks),
            "stacks": {stack["path"]: stack["length"] for stack in stacks},
            "parameters": entry.verified_parameters,
        })
    return rows


def render(rows: list[dict]) -> str:
    width = max(len(row["id"]) for row in rows)
    lines = []
    for row in rows:
        stacks = ", ".join(f"{path} {length}" for path, length in row["stacks"].items())
        aliases = f"  (also {', '.join(row['aliases'])})" if row["aliases"] else ""
        lines.append(f"{row['id']:<{width}}  {row['model_type']:<12}  {row['parameters'] / 1e9:>6.2f}B  "
                     f"{row['layers']:>3} layers ({stacks}){aliases}")
        lines.append(f"{'':<{width}}  classes: {', '.join(row['classes'])}")
    lines.append(f"{len(rows)} models; lint them with no torch, transformers or download")
    return "\n".join(lines) + "\n"
