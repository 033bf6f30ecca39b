"""Where LoRA goes: the replay's targets laid out as layers × module kinds, plus the modules outside the layers."""

from __future__ import annotations

from lora_lint.explain.report import Cell, Grid, OutsideModule


def placement(inventory: dict, stacks: list[dict], result) -> tuple[list[Grid], list[OutsideModule]]:
    """One grid per top-level layer stack and the wrappable or saved modules outside every stack. ``result`` is the
    replay's MatchResult; its ``rank``/``alpha`` are per module (and per targeted parameter) after rank_pattern."""
    saved = set(result.modules_to_save)
    grids = [_grid(inventory, stack, result, saved) for stack in stacks]
    prefixes = tuple(stack["path"] + "." for stack in stacks)
    outside = []
    for record in inventory["modules"]:
        name = record["name"]
        if not name or name.startswith(prefixes) or _inside_saved(name, saved):
            continue
        if record["lora_kind"] is not None or name in saved or name in result.rank:
            outside.append(OutsideModule(name, _cell(name, result, saved), _module_parameters(inventory, name)))
    return [grid for grid in grids if grid.kinds], outside


def _grid(inventory: dict, stack: dict, result, saved: set[str]) -> Grid:
    prefix = stack["path"] + "."
    relative: list[str] = []  # module (or 3-d parameter) paths inside a layer, in model order
    present: set[tuple[str, int]] = set()
    for record in inventory["modules"]:
        name = record["name"]
        if not name.startswith(prefix):
            continue
        index, _, inner = name[len(prefix):].partition(".")
        if not inner or not index.isdigit() or _inside_saved(name, saved):
            continue
        paths = []
        if record["lora_kind"] is not None or name in saved:
            paths.append(inner)
        # Fused MoE experts are 3-d parameters, targeted with target_parameters.
        paths += [f"{inner}.{param}" for param, shape in (record.get("extra_parameters") or {}).items()
                  if len(shape) == 3 or f"{name}.{param}" in result.rank]
        for path in paths:
            if path not in relative:
                relative.append(path)
            present.add((path, int(index)))
    cells = [[_cell(f"{prefix}{layer}.{path}", result, saved) if (path, layer) in present else None
              for layer in range(stack["length"])] for path in relative]
    return Grid(stack["path"], stack.get("stack", "other"), kind_labels(relative, inventory, prefix), cells)


def _cell(name: str, result, saved: set[str]) -> Cell:
    if name in result.rank:
        return Cell(result.rank[name], result.alpha[name], name in saved)
    return Cell(saved=name in saved)


def _inside_saved(name: str, saved: set[str]) -> bool:
    return any(name.startswith(module + ".") for module in saved)


def _module_parameters(inventory: dict, name: str) -> int:
    prefix = name + "."
    return sum(record["parameters"] or 0 for record in inventory["modules"]
               if record["name"] == name or record["name"].startswith(prefix))


def kind_labels(paths: list[str], inventory: dict, prefix: str) -> list[str]:
    """Labels for paths inside a layer of the stack at ``prefix``; a parameter (fused MoE experts) keeps its
    module's name (`experts.gate_up_proj`), so that it does not read as a Linear layer of the same name."""
    modules = {record["name"][len(prefix):].partition(".")[2] for record in inventory["modules"]
               if record["name"].startswith(prefix)}
    return [label if "." in label or path in modules else path.rsplit(".", 2)[-2] + "." + label
            for path, label in zip(paths, shortest_labels(paths))]


def shortest_labels(paths: list[str]) -> list[str]:
    """Each dotted path shortened to its shortest suffix no other path ends with (`self_attn.q_proj` -> `q_proj`,
    T5's `layer.0.SelfAttention.q` and `layer.1.EncDecAttention.q` -> `SelfAttention.q`, `EncDecAttention.q`)."""
    labels = []
    for path in paths:
        atoms = path.split(".")
        for size in range(1, len(atoms) + 1):
            suffix = ".".join(atoms[-size:])
            if not any(other != path and (other == suffix or other.endswith("." + suffix)) for other in paths):
                break
        # A bare layer-list index ("0.q") says nothing; keep the atom before it.
        while suffix.split(".")[0].isdigit() and size < len(atoms):
            size += 1
            suffix = ".".join(atoms[-size:])
        labels.append(suffix)
    return labels
