"""The toolkit's ablation sweep: `llmtune/utils/ablation_utils.py` `generate_permutations`, with its quirks.

With `ablation.use_ablate` truthy in the raw YAML (so the string "false" turns it on), the toolkit walks every
leaf of the file, looks each dotted path up in its schema's annotations (a key outside the schema raises
KeyError, a leaf under a plain field AttributeError), reads the first item of every list (an empty list raises
IndexError), and decides from the Python type of the value, before pydantic runs, which lists are sweep axes: any
list where the field is not a list, and a list whose first item is a list where the field is one. The runs are the
product of the axes, in the order the leaves appear in the file, the last axis varying fastest.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from lora_lint.config import TrainerIssue
from lora_lint.source import Node
from lora_lint.suggest import closest
from lora_lint.trainers.llmtune.fields import SECTIONS, Spec, leaf_or_section
from lora_lint.trainers.llmtune.values import entries


@dataclass
class Run:
    data: dict  # the run's config as the toolkit validates it
    tree: Node  # the file's node tree with each axis replaced by this run's alternative
    axes: dict[str, Any] = field(default_factory=dict)  # dotted path -> this run's value


def ablation_on(data: Any) -> bool:
    """`config.get("ablation", {}).get("use_ablate", False)` on the raw YAML; raises as the toolkit does."""
    return bool(data.get("ablation", {}).get("use_ablate", False))


def expand(data: dict, root: Node) -> tuple[list[Run], list[TrainerIssue], str | None]:
    """The runs the toolkit starts, or the problems its sweep code crashes on (all of them, the one it hits
    first leading) and the exception it raises."""
    problems = _problems(root)
    try:
        type_dict = _get_types_from_dict(data, "", {})
        ablations = _validate_and_get_ablations(type_dict, data)
        permutations = list(itertools.product(*(list(enumerate(values)) for values in ablations.values())))
    except Exception as exc:  # the toolkit's own code, replayed: any exception is a crash before the first run
        if not problems:
            problems = [TrainerIssue(
                "sweep-error", _node_at(root, ["ablation"]) or root,
                f"the toolkit's ablation code crashes on this file ({type(exc).__name__}: {exc})",
                "set `ablation: {use_ablate: false}` and check the lists in the file", raises=type(exc).__name__)]
        return [], problems, type(exc).__name__
    runs = []
    for permutation in permutations:
        assignment = {path: value for path, (_, value) in zip(ablations, permutation)}
        tree = root
        for path, (index, _) in zip(ablations, permutation):
            keys = str(path).split(".")
            axis = _node_at(root, keys)
            if axis is not None and axis.kind == "seq" and index < len(axis.items):
                tree = _replace(tree, keys, axis.items[index])
        axes = {str(path): value for path, value in assignment.items()}
        runs.append(Run(_patch_with_permutation(data, assignment), tree, axes))
    return runs, [], None


# --- the toolkit's functions, line for line (a fresh type_dict per file: `llmtune run` calls it once) ------------

def _get_types_from_dict(source_dict: dict, root, type_dict) -> dict:
    for key, val in source_dict.items():
        if not isinstance(val, dict):
            attr = f"{root}.{key}" if root else key
            tp = (type(val), None) if not isinstance(val, list) else (type(val), type(val[0]))
            type_dict[attr] = tp
        else:
            join_array = [root, key] if root else [key]
            new_root = ".".join(join_array)
            _get_types_from_dict(val, new_root, type_dict)
    return type_dict


def _get_annotation(key: str):
    return leaf_or_section(key)  # `model.__annotations__[part]` down the schema, on fields.py's table


def _get_model_field_type(annotation):
    """`list` when the field's first alternative is a List (the original unwraps Optional/Union to it)."""
    return list if isinstance(annotation, Spec) and annotation.list_first else annotation


def _get_data_with_key(key, data):
    for part in key.split("."):
        data = data[part]
    return data


def _validate_and_get_ablations(type_dict: dict, data: dict) -> dict:
    ablations = {}
    for key, (tp, subtype) in type_dict.items():
        model_field_type = _get_model_field_type(_get_annotation(key))
        if (model_field_type is list) and (tp is list) and (subtype is list):
            ablations[key] = _get_data_with_key(key, data)
        elif model_field_type is not list and tp is list:
            ablations[key] = _get_data_with_key(key, data)
    return ablations


def _patch_with_permutation(old_dict: dict, permutation_dict: dict) -> dict:
    updated_dict = copy.deepcopy(old_dict)
    for dot_key, new_value in permutation_dict.items():
        keys = dot_key.split(".")
        current_level = updated_dict
        for key in keys[:-1]:
            current_level = current_level[key]
        current_level[keys[-1]] = new_value
    return updated_dict


# --- the same walk, tolerant, to report every problem at its node ----------------------------------------------

def _problems(root: Node) -> list[TrainerIssue]:
    """Every leaf the toolkit's sweep code crashes on, in the order it meets them: first the empty lists (it reads
    all types before any annotation), then the keys its schema does not have."""
    empty, unknown = [], []
    for path, key_node, value_node in _leaves(root, []):
        if value_node.kind == "seq" and not value_node.items:
            empty.append(TrainerIssue(
                "sweep-error", value_node,
                f"empty list at `{'.'.join(map(str, path))}`: with ablation on, the toolkit reads the first item of "
                "every list to decide whether it is a sweep, and raises IndexError",
                "remove the key, or write a value; an empty sweep would start no run at all",
                path=tuple(path), raises="IndexError"))
        problem = _annotation_problem(path, key_node, root)
        if problem is not None:
            unknown.append(problem)
    return empty + unknown


def _leaves(node: Node, path: list):
    for key, (key_node, value_node) in entries(node).items():
        if value_node.kind == "map":
            yield from _leaves(value_node, path + [key])
        else:
            yield path + [key], key_node, value_node


def _annotation_problem(path: list, leaf_key: Node, root: Node) -> TrainerIssue | None:
    current: str | Spec = "Config"
    where = root
    for depth, part in enumerate(path):
        key_node = leaf_key
        if where is not None and where.kind == "map":
            found = entries(where).get(part)
            if found is not None:
                key_node, where = found
        shown = ".".join(map(str, path[:depth + 1]))
        if not isinstance(current, str) or (depth == 0 and not isinstance(part, str)):
            parent = ".".join(map(str, path[:depth]))
            message = (f"`{parent}` is a single value in the toolkit's schema, not a section, so with ablation on "
                       f"its sweep code raises AttributeError on `{shown}`") if depth else (
                f"the key `{key_node.text}` is not a string, and with ablation on the toolkit's sweep code raises "
                "AttributeError on it")
            return TrainerIssue("sweep-error", key_node, message,
                                f"write `{parent}` as one value (a list of them to sweep)" if depth else
                                "quote the key or remove it", path=tuple(path[:depth + 1]), raises="AttributeError")
        fields = SECTIONS[current]
        if str(part) not in fields:
            close = closest(str(part), list(fields))
            return TrainerIssue(
                "sweep-error", key_node,
                f"`{shown}` is not in the toolkit's schema: with ablation on, its sweep code looks every key up "
                f"and raises KeyError",
                f"did you mean `{close}`?" if close else "remove the key (the toolkit would ignore it anyway)",
                path=tuple(path[:depth + 1]), raises="KeyError")
        spec = fields[str(part)]
        current = spec.kind if spec.kind in SECTIONS else spec
    return None


def _node_at(root: Node, keys: list) -> Node | None:
    node = root
    for key in keys:
        if node.kind != "map":
            return None
        found = {str(k): v for k, (_, v) in entries(node).items()}.get(str(key))
        if found is None:
            return None
        node = found
    return node


def _replace(node: Node, keys: list, new: Node) -> Node:
    """A copy of the tree with the node at `keys` replaced (the nodes around it shared, spans kept)."""
    if not keys:
        return new
    matching = [i for i, (key_node, _) in enumerate(node.pairs)
                if key_node.kind == "scalar" and str(key_node.value) == str(keys[0])]
    if node.kind != "map" or not matching:
        return node
    pairs = list(node.pairs)
    key_node, value_node = pairs[matching[-1]]  # the value PyYAML keeps
    pairs[matching[-1]] = (key_node, _replace(value_node, keys[1:], new))
    return Node(node.kind, node.span, node.value, node.text, node.quoted, pairs, node.items)
