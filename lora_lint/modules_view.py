"""`lora-lint modules MODEL`: a model's module tree with repeated layers collapsed, and the names to target."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

_INDEX = re.compile(r"(?<=\.)\d+(?=\.|$)")
WRAPPABLE_CLASSES = {"linear", "conv1d_gpt", "embedding", "conv1d", "conv2d", "conv3d", "mha"}


def _ranges(indices: tuple[int, ...]) -> str:
    ordered = sorted(set(indices))
    parts, start = [], ordered[0]
    for previous, current in zip(ordered, ordered[1:] + [None]):
        if current != previous + 1:
            parts.append(str(start) if start == previous else f"{start}..{previous}")
            start = current
    return parts[0] if len(ordered) == 1 else "{" + ",".join(parts) + "}"


def _shape(module: dict) -> str:
    if module["in_features"] is not None and module["out_features"] is not None:
        return f"{module['in_features']}→{module['out_features']}"
    if module["weight_shape"]:
        return "×".join(str(d) for d in module["weight_shape"])
    extra = module.get("extra_parameters")
    if extra:
        return ", ".join(f"{name} {'×'.join(map(str, shape))}" for name, shape in extra.items())
    return ""


def collapsed_tree(inventory: dict) -> list[str]:
    """Leaf modules, one line per template: layer indices collapsed to ranges, siblings of one class and shape joined."""
    names = {m["name"] for m in inventory["modules"]}
    parents = {name.rsplit(".", 1)[0] for name in names if "." in name} | ({""} if len(names) > 1 else set())
    indices_of: dict[tuple[str, str, str], list[list[int]]] = defaultdict(list)
    for module in inventory["modules"]:
        if module["name"] in parents and not module.get("extra_parameters"):
            continue
        key = (_INDEX.sub("#", module["name"]), module["class"], _shape(module))
        indices_of[key].append([int(i) for i in _INDEX.findall(module["name"])])
    leaves_of: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for (template, cls, shape), indices in indices_of.items():
        rendered = template
        for column in zip(*indices):
            rendered = rendered.replace("#", _ranges(column), 1)
        parent, _, leaf = rendered.rpartition(".")
        leaves_of[(parent, cls, shape)].append(leaf)
    rows = []
    for (parent, cls, shape), leaves in leaves_of.items():
        leaf = leaves[0] if len(leaves) == 1 else "{" + ",".join(leaves) + "}"
        rows.append((f"{parent}.{leaf}" if parent else leaf, f"{cls} {shape}".rstrip()))
    width = max((len(path) for path, _ in rows), default=0)
    return [f"{path:<{width}}  {description}" for path, description in rows]


def target_names(inventory: dict) -> list[tuple[str, int]]:
    """Names usable as target_modules list entries: leaf names, and `parent.leaf` where a leaf name is ambiguous."""
    wrappable = [m["name"] for m in inventory["modules"] if m["lora_kind"] in WRAPPABLE_CLASSES and m["name"]]
    leaves = Counter(name.rsplit(".", 1)[-1] for name in wrappable)
    parents_of: dict[str, set[str]] = defaultdict(set)
    suffixes: Counter[str] = Counter()
    for name in wrappable:
        parts = name.split(".")
        if len(parts) >= 2:
            parents_of[parts[-1]].add(parts[-2])
            suffixes[".".join(parts[-2:])] += 1
    names = sorted(leaves.items())
    for suffix, count in sorted(suffixes.items()):
        leaf = suffix.rsplit(".", 1)[-1]
        if len(parents_of[leaf]) > 1 and not _INDEX.search("." + suffix):
            names.append((suffix, count))
    return names


def render(model_id: str, inventory: dict, all_linear: list[str], notes: list[str]) -> str:
    out = [f"{model_id}: {inventory['class']} (model_type {inventory['model_type']}, "
           f"{inventory['total_parameters']:,} parameters, transformers {inventory['transformers_version']})", ""]
    out += collapsed_tree(inventory)
    out += ["", "Layer containers (for layers_pattern / layers_to_transform):"]
    for container in inventory["layer_containers"]:
        out.append(f"  {container['path']}  {container['length']} ({container['stack']})")
    out += ["", "Names usable in target_modules (modules each one hits):"]
    out += [f"  {name}  {count}" for name, count in target_names(inventory)]
    leaves = Counter(name.rsplit(".", 1)[-1] for name in all_linear)
    out += ["", f"all-linear covers {len(all_linear)} modules: "
            + ", ".join(f"{leaf} ({count})" for leaf, count in sorted(leaves.items()))]
    out += [f"note: {note}" for note in notes]
    return "\n".join(out) + "\n"
