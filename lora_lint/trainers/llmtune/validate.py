"""One run through the toolkit's validation: `Config(**config)`, then the save-and-reload `llmtune run` does
(`DirectoryHelper` writes `model_dump()` with PyYAML and validates what it reads back), each problem at its node."""

from __future__ import annotations

import warnings
from typing import Any, Literal, Union, get_args, get_origin

from lora_lint.config import TrainerIssue
from lora_lint.diagnostics import Span
from lora_lint.peft_schema import peft_knowledge
from lora_lint.source import Node
from lora_lint.suggest import closest, describe_value, did_you_mean
from lora_lint.trainers.llmtune.fields import SECTIONS, accept_exactly
from lora_lint.trainers.llmtune.values import entries

STOPS = ("the toolkit prints the ValidationError and stops before it loads the model")
# Keys people carry over from other tools into the toolkit's `lora:` section.
_LORA_ALIASES = {"alpha": "lora_alpha", "dropout": "lora_dropout", "rank": "r", "lora_r": "r", "lora_rank": "r",
                 "lora_target_modules": "target_modules", "target_layers": "target_modules"}
# What a dropped PEFT field means for the run, in the user's terms.
_DROPPED_MEANS = {
    "use_dora": "this run trains plain LoRA, not DoRA",
    "use_rslora": "this run scales by lora_alpha/r, not rank-stabilised lora_alpha/sqrt(r)",
    "rank_pattern": "every module gets the same `r`",
    "alpha_pattern": "every module gets the same `lora_alpha`",
    "init_lora_weights": "this run starts from PEFT's default initialisation",
    "exclude_modules": "nothing is excluded from `target_modules`",
    "target_parameters": "no parameters are targeted",
    "lora_bias": "no LoRA bias is trained",
    "layer_replication": "no layers are replicated",
}


def validate(section: str, data: Any, tree: Node) -> tuple[dict | None, list[TrainerIssue]]:
    """Validate as the toolkit does (`section` is a class of its schema, `Config` for a whole file): the validated
    values as `model_dump()` gives them, or None and the problems (blocking issues)."""
    exact = accept_exactly(section, data)
    if exact is not None:
        return exact, []
    from pydantic import ValidationError

    from lora_lint.trainers.llmtune import schema

    model = getattr(schema, section)
    if isinstance(data, dict):
        bad_key = next((key for key in data if not isinstance(key, str)), None)
        if bad_key is not None:
            key_node = entries(tree)[bad_key][0]
            return None, [TrainerIssue("rejects", key_node, f"the key `{key_node.text}` is not a string: the "
                                       "toolkit's `Config(**config)` raises TypeError", "quote the key or remove it",
                                       path=(bad_key,), raises="TypeError")]
    else:
        return None, [_issue(tree, (0, tree), (), [{"type": "model_type", "input": data}], model, data)]
    try:
        validated = model(**data)
    except ValidationError as exc:
        return None, _issues(exc, tree, model, data, reloaded=False)
    except Exception as exc:  # the toolkit's own validators (`device_map: null` -> AttributeError)
        return None, [_crash(exc, tree, data)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns that the marker is not a string, as it does on torch's
        dumped = validated.model_dump()
    if model is not schema.Config:
        return dumped, []
    if _holds(dumped, schema.UNSERIALIZABLE):
        at = _find_key(tree, ("model", "bitsandbytes")) or tree
        return None, [TrainerIssue(
            "rejects", at, "`bitsandbytes` without `bnb_4bit_compute_dtype`: the toolkit's default for it is "
            "`torch.bfloat16`, not a string, and `llmtune run` crashes (PydanticSerializationError) serialising "
            "the config to name its experiment directory", "write `bnb_4bit_compute_dtype: bfloat16`",
            path=("model", "bitsandbytes", "bnb_4bit_compute_dtype"), raises="PydanticSerializationError")]
    try:
        model(**dumped)
    except ValidationError as exc:
        return None, _issues(exc, tree, model, dumped, reloaded=True)
    except Exception as exc:
        return None, [_crash(exc, tree, data)]
    return dumped, []


def _holds(value: Any, marker: object) -> bool:
    if value is marker:
        return True
    if isinstance(value, dict):
        return any(_holds(v, marker) for v in value.values())
    return isinstance(value, list) and any(_holds(v, marker) for v in value)


def _crash(exc: Exception, tree: Node, data: Any) -> TrainerIssue:
    for path in (("model", "device_map"), ("device_map",)):  # a whole file, or a `model:` section alone
        depth, device_map = _find(tree, path)
        if depth == len(path):
            return TrainerIssue("rejects", device_map,
                                f"the toolkit's `device_map` validator calls `.lower()` on this value and crashes "
                                f"({type(exc).__name__}); `none` becomes null, which crashes it the same way when "
                                "the toolkit re-reads its saved config",
                                "write `device_map: auto`, or a device such as `cuda:0`", path=path,
                                raises=type(exc).__name__)
    return TrainerIssue("rejects", tree, f"the toolkit crashes validating this file ({type(exc).__name__}: {exc})",
                        raises=type(exc).__name__)


def _issues(exc, tree: Node, model, data: Any, reloaded: bool) -> list:
    """One issue per field: pydantic reports a union field once per alternative."""
    by_field: dict[tuple, list[dict]] = {}
    for error in exc.errors():
        path = _field_path(model, error["loc"])
        by_field.setdefault(path, []).append(error)
    return [_issue(tree, _find(tree, path), path, errors, model, data, reloaded)
            for path, errors in by_field.items()]


def _issue(tree: Node, found: tuple[int, Node], path: tuple, errors: list[dict], model, data,
           reloaded: bool = False) -> TrainerIssue:
    depth, node = found
    annotation = _annotation(model, path)
    shown = ".".join(map(str, path)) or "the file"
    if errors[0]["type"] == "missing" or (reloaded and depth < len(path)):
        return _missing(tree, node, depth, path, annotation, reloaded)
    value = errors[0].get("input")
    expected = describe_annotation(annotation)
    got = describe_value(value)
    if node.kind == "seq" and depth == len(path) and not isinstance(value, list):
        got = f"a list holding {got}"
    message = f"the toolkit's schema takes {expected} for `{shown}`, got {got}"
    if any(e["type"] == "int_from_float" for e in errors):
        message = f"`{shown}` must be a whole number for the toolkit, got {value}"
    help_text = STOPS
    if isinstance(value, list) and "list" not in expected:
        help_text = (f"{STOPS}; a list is an ablation sweep only with `ablation: {{use_ablate: true}}`, "
                     "otherwise write one value")
    elif path[-1:] == ("target_modules",) and isinstance(value, str):
        help_text = (f"{STOPS}; write a list of module names, e.g. `[q_proj, v_proj]`, or exactly `all-linear` "
                     "(lower case)")
    return TrainerIssue("rejects", node, message, help_text, path=path, raises="ValidationError")


def _missing(tree: Node, node: Node, depth: int, path: tuple, annotation, reloaded: bool) -> TrainerIssue:
    shown = ".".join(map(str, path))
    if depth == 0:
        first = tree.pairs[0][0].span.start if tree.pairs else tree.span.start
        at: Node | Span = Span(first, first)
    else:
        at = _find_key(tree, path[:depth]) or node
    if reloaded:
        expected = describe_annotation(annotation)
        return TrainerIssue(
            "missing-section", at,
            f"`{shown}` is required in practice: left out, the toolkit's schema fills in null, and when `llmtune run` "
            f"re-reads the config it saved, null fails its own schema ({expected}), so it stops",
            f"write `{path[-1]}:` under `{'.'.join(map(str, path[:-1]))}`", path=path, raises="ValidationError")
    section = _section_model(annotation)
    example = "{}" if section is None or all(not f.is_required() for f in section.model_fields.values()) else \
        "{" + ", ".join(f"{name}: {{}}" for name, f in section.model_fields.items() if f.is_required()) + "}"
    return TrainerIssue(
        "missing-section", at, f"the toolkit requires `{shown}`: without it `Config(...)` raises a ValidationError "
        "and the run stops", f"add `{path[-1]}: {example}`", path=path, raises="ValidationError")


def _field_path(model, loc: tuple) -> tuple:
    """A pydantic error location as keys and list indices; it ends at a union-member tag (`list[str]`), which
    names one alternative of the field, not a part of the input."""
    path: list = []
    annotation: Any = model
    for part in loc:
        section = _section_model(annotation)
        if section is not None and isinstance(part, str) and part in section.model_fields:
            annotation = section.model_fields[part].annotation
        elif isinstance(part, int) and section is None:
            annotation = _list_item(annotation)
        else:
            break
        path.append(part)
    return tuple(path)


def _annotation(model, path: tuple) -> Any:
    annotation: Any = model
    for part in path:
        section = _section_model(annotation)
        if section is not None and part in section.model_fields:
            annotation = section.model_fields[part].annotation
        elif isinstance(part, int):
            annotation = _list_item(annotation)
    return annotation


def _list_item(annotation: Any) -> Any:
    for option in get_args(annotation) if get_origin(annotation) is Union else (annotation,):
        if get_origin(option) is list:
            return get_args(option)[0]
    return None


def _section_model(annotation: Any):
    from lora_lint.trainers.llmtune import schema

    return schema.section_model(annotation)


def describe_annotation(annotation: Any) -> str:
    """The schema type in words: `a list of strings or the string `all-linear``."""
    origin = get_origin(annotation)
    if origin is Union:
        words = [describe_annotation(a) for a in get_args(annotation) if a is not type(None)]
        return " or ".join(words)
    if origin is list:
        item = describe_annotation(get_args(annotation)[0])
        return "a list of " + item.replace("an integer", "integers").replace("a string", "strings").replace(
            "a list of", "lists of")
    if origin is Literal:
        values = get_args(annotation)
        return f"the string `{values[0]}`" if len(values) == 1 else "one of " + ", ".join(map(str, values))
    if _section_model(annotation) is not None:
        return "a mapping (a section of keys)"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(annotation, "a value")


def _find(tree: Node, path: tuple) -> tuple[int, Node]:
    """The deepest node along `path` that the file has, and how many parts of the path it reaches."""
    node = tree
    for depth, part in enumerate(path):
        if node.kind == "map":
            found = entries(node).get(part)
            if found is None:
                return depth, node
            node = found[1]
        elif node.kind == "seq" and isinstance(part, int) and part < len(node.items):
            node = node.items[part]
        else:
            return depth, node
    return len(path), node


def _find_key(tree: Node, path: tuple) -> Node | None:
    """The key node of the last part of `path` (`training:` for ("training",))."""
    parent = _find(tree, path[:-1])
    if parent[0] < len(path) - 1 or parent[1].kind != "map":
        return None
    found = entries(parent[1]).get(path[-1])
    return found[0] if found else None


def coercions(data: Any, validated: Any, node: Node | None, path: tuple = ()) -> list[TrainerIssue]:
    """What pydantic's lax mode turned into something else: `"32"` into 32, `yes` into true, `32.0` into 32."""
    if node is None:
        return []
    if isinstance(validated, dict) and isinstance(data, dict) and node.kind == "map":
        found = []
        for key, value in data.items():
            if isinstance(key, str) and key in validated and key in entries(node):
                found += coercions(value, validated[key], entries(node)[key][1], path + (key,))
        return found
    if isinstance(data, list) and isinstance(validated, list) and node.kind == "seq":
        return [issue for i, (d, v, n) in enumerate(zip(data, validated, node.items))
                for issue in coercions(d, v, n, path + (i,))]
    if data is None or type(data) is type(validated) or (type(data) is int and type(validated) is float):
        return []
    if isinstance(data, str):
        written = f'"{node.text}"' if node.quoted else f"`{node.text}` (a string to PyYAML)"
    else:
        written = f"`{node.text or repr(data)}`"
    return [TrainerIssue("coerces", node, f"the toolkit reads {written} as `{_yaml_literal(validated)}` "
                         f"(pydantic's lax mode) for `{'.'.join(map(str, path))}`",
                         f"write `{_yaml_literal(validated)}` to say what the toolkit uses", path=path)]


def _yaml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and "e" in repr(value) and "." not in repr(value).split("e")[0]:
        mantissa, exponent = repr(value).split("e")
        return f"{mantissa}.0e{exponent if exponent[0] in '+-' else '+' + exponent}"
    return str(value)


def unknown_keys(tree: Node, section: str, path: tuple = (), skip: set = frozenset()) -> list:
    """Keys the toolkit's schema does not have, anywhere in the file: pydantic ignores them without a word."""
    found: list[TrainerIssue] = []
    fields = SECTIONS[section]
    present = set(entries(tree))
    for key, (key_node, value_node) in entries(tree).items():
        here = path + (key,)
        if here in skip:
            continue
        spec = fields.get(key) if isinstance(key, str) else None
        if spec is None:
            found.append(_unknown(key, key_node, section, path, present))
        elif spec.kind in SECTIONS and value_node.kind == "map":
            found += unknown_keys(value_node, spec.kind, here, skip)
    return found


def _unknown(key: Any, key_node: Node, section: str, path: tuple, present: set) -> TrainerIssue:
    where = f"`{'.'.join(map(str, path))}`" if path else "the top level"
    if section == "LoraConfig" and isinstance(key, str) and peft_knowledge().field_known(key):
        consequence = _DROPPED_MEANS.get(key, f"PEFT uses its default for `{key}`")
        return TrainerIssue(
            "drops-peft-field", key_node,
            f"`{key}` is a PEFT LoraConfig field, but the toolkit's `lora:` schema has no `{key}` and drops it: "
            f"{consequence}",
            f"the toolkit (llm-toolkit 0.2.3) cannot pass `{key}` to PEFT; remove it so the file says what trains, "
            "or train with a script that builds LoraConfig itself", path=path + (key,))
    fields = list(SECTIONS[section])
    suggestion = _LORA_ALIASES.get(key) if section == "LoraConfig" else None
    hint = f"did you mean `{suggestion}`?" if suggestion else did_you_mean(str(key), fields)
    meant = suggestion or closest(str(key), fields)
    return TrainerIssue(
        "ignores-key", key_node,
        f"unknown key `{key_node.text}` in {where}: the toolkit's schema has no such field and ignores it",
        hint or f"the fields here are: {', '.join(fields)}",
        path=path + (key,), meant=meant if meant not in present else None)
