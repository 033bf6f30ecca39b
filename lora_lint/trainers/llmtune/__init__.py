"""LLM-Finetuning-Toolkit (`llmtune`, llm-toolkit 0.2.3), read the way `llmtune run` reads a file.

`llmtune run` loads the file with `yaml.safe_load`, expands an ablation sweep (sweep.py), validates each run with
its pydantic `Config` (schema.py: lax mode, unknown fields ignored), saves and re-reads that config, and calls
`LoraConfig(**config.lora.model_dump())`: the ten fields of its `lora:` schema, nothing else, with
`AutoModelForCausalLM` as the model. A file that holds only a `lora:` section, perhaps with `model:` (a fragment,
as documentation pages show), is checked as those sections alone.
"""

from __future__ import annotations

from lora_lint.config import LoraConfigView, Setting, TrainerIssue, TrainerReading, coerced_node
from lora_lint.source import Node

NAME = "llmtune"
VERSION = "0.2.3"
# What `pip install llm-toolkit==0.2.3` installs (its wheel's Requires-Dist).
PINS = {"peft": ">=0.8.2,<0.9", "transformers": ">=4.40.2,<4.41"}
MODEL_CLASS = "AutoModelForCausalLM"
# The schema default of model.hf_model_ckpt: what the toolkit trains when the file names no model.
DEFAULT_MODEL = "NousResearch/Llama-2-7b-hf"

# Keys only the toolkit's layout has: a file with `lora:` and one of these is a toolkit file. Section names alone
# (`data:`, `training:`) are not enough: many training scripts have their own schema under the same names.
_TOOLKIT_KEYS = {"model": {"hf_model_ckpt"}, "training": {"training_args", "sft_args"},
                 "data": {"file_type", "prompt", "prompt_stub"}, "ablation": {"use_ablate"}, "qa": {"llm_metrics"}}
# The sections a fragment may hold, and the toolkit's schema class of each.
FRAGMENT_SECTIONS = {"lora": "LoraConfig", "model": "ModelConfig"}


def read(root: Node, force: bool) -> TrainerReading | None:
    section = root.get("lora")
    # A fragment: the run's LoRA setup alone (`lora:`, perhaps with `model:`), as documentation pages show it.
    fragment = section is not None and {str(k.value) for k, _ in root.pairs} <= set(FRAGMENT_SECTIONS)
    if not (force or (section is not None and (fragment or _toolkit_keys(root)))):
        return None
    from lora_lint.trainers.llmtune import sweep
    from lora_lint.trainers.llmtune.validate import coercions, unknown_keys, validate
    from lora_lint.trainers.llmtune.values import entries, python_value

    data = python_value(root)
    if fragment:
        issues, validated = [], {}
        for name, (_, tree) in entries(root).items():
            model_class = FRAGMENT_SECTIONS[name]
            validated[name], problems = validate(model_class, data[name], tree)
            for issue in problems:
                issue.path, issue.runs = (name,) + issue.path, (1,)
            issues += problems
            if tree.kind == "map":
                issues += unknown_keys(tree, model_class, (name,))
            if validated[name] is not None:
                issues += coercions(data[name], validated[name], tree, (name,))
        view = _view(root, validated.get("lora"), 1, {}, issues, validated.get("model"))
        return TrainerReading(NAME, [view], 1, dict(PINS), whole_file=False,
                              failure=next((i for i in issues if i.blocking), None))

    try:
        ablate = sweep.ablation_on(data)
    except AttributeError:
        ablation = root.key_node("ablation")
        issue = TrainerIssue(
            "rejects", ablation or root,
            "`ablation` must be a mapping: `llmtune run` calls `config.get(\"ablation\", {}).get(\"use_ablate\")` "
            "on the raw YAML and crashes with AttributeError", "write `ablation: {use_ablate: false}`",
            path=("ablation",), raises="AttributeError")
        return TrainerReading(NAME, [_view(root, None, 1, {}, [issue])], 0, dict(PINS), failure=issue)
    if ablate:
        runs, problems, _ = sweep.expand(data, root)
    else:
        runs, problems = [sweep.Run(data, root)], []
    skip = {issue.path for issue in problems if issue.raises == "KeyError"}
    file_issues = problems + unknown_keys(root, "Config", (), skip)
    if not runs:
        return TrainerReading(NAME, [_view(root, None, 1, {}, file_issues)], 0, dict(PINS), failure=problems[0])
    views, failure = [], None
    for index, run in enumerate(runs, start=1):
        validated, run_issues = validate("Config", run.data, run.tree)
        lora = validated["lora"] if validated is not None else None
        if validated is not None:
            run_issues = coercions(run.data, validated, run.tree)
        else:
            lora, lora_issues = _lora_alone(run, run_issues)
            run_issues += lora_issues
        for issue in run_issues:
            issue.runs = (index,)
        if failure is None:
            failure = next((issue for issue in run_issues if issue.blocking), None)
        views.append(_view(run.tree, lora, index, run.axes, file_issues + run_issues,
                           validated["model"] if validated is not None else None))
    return TrainerReading(NAME, views, len(runs), dict(PINS), failure=failure)


def _toolkit_keys(root: Node) -> bool:
    for section, keys in _TOOLKIT_KEYS.items():
        node = root.get(section)
        if node is not None and node.kind == "map" and any(node.get(key) is not None for key in keys):
            return True
    return False


def _lora_alone(run, rejections: list[TrainerIssue]):
    """The `lora:` section of a run the toolkit rejects, validated on its own: its kwargs when the section itself is
    fine (the file fails elsewhere), and its coercions either way (what the section means once it is fixed)."""
    from lora_lint.trainers.llmtune.validate import coercions, validate

    lora, lora_tree = run.data.get("lora"), run.tree.get("lora")
    if not isinstance(lora, dict) or lora_tree is None:
        return None, []
    rejected = {issue.path[1] for issue in rejections if issue.path[:1] == ("lora",) and len(issue.path) > 1}
    valid_part = {key: value for key, value in lora.items() if key not in rejected}
    validated, _ = validate("LoraConfig", valid_part, lora_tree)
    if validated is None:
        return None, []
    return (validated if not rejected else None), coercions(valid_part, validated, lora_tree, ("lora",))


def _view(tree: Node, lora, run: int, axes: dict, issues: list[TrainerIssue], model_config=None) -> LoraConfigView:
    """The run as PEFT receives it: the ten `lora:` fields the toolkit passes, coerced, each at its node. `lora`
    and `model_config` are the validated sections (None: not known)."""
    from lora_lint.trainers.llmtune.fields import SECTIONS
    from lora_lint.trainers.llmtune.values import entries

    written = tree.get("lora")
    section = written if written is not None and written.kind == "map" else Node("map", (written or tree).span)
    settings: dict[str, Setting] = {}
    defaults = {name: spec.default for name, spec in SECTIONS["LoraConfig"].items()}
    view = LoraConfigView(NAME, section, settings, defaults, section_key=tree.key_node("lora"),
                          default_model=DEFAULT_MODEL, model_class=MODEL_CLASS, run=run, axes=axes, issues=issues,
                          kwargs_known=lora is not None)
    if lora is None:
        return view
    written_keys = entries(section)
    for name in SECTIONS["LoraConfig"]:
        value = lora[name]
        if name in written_keys:
            key_node, value_node = written_keys[name]
            settings[name] = Setting(name, key_node, coerced_node(value_node, value))
            del defaults[name]
        else:
            defaults[name] = value
    model = tree.get("model")
    if model is None or model.kind != "map":
        return view
    model_entries = entries(model)
    if "hf_model_ckpt" in model_entries:
        key_node, value_node = model_entries["hf_model_ckpt"]
        value = model_config["hf_model_ckpt"] if model_config is not None else value_node.value
        view.model_ref = Setting("hf_model_ckpt", key_node, coerced_node(value_node, value))
    if model_config is None:
        return view
    if "torch_dtype" in model_entries:
        key_node, value_node = model_entries["torch_dtype"]
        view.extras["torch_dtype"] = Setting("torch_dtype", key_node, coerced_node(value_node, model_config["torch_dtype"]))
    bnb = model_entries.get("bitsandbytes")
    if bnb is not None and bnb[1].kind == "map" and model_config["bitsandbytes"] is not None:
        found = entries(bnb[1]).get("bnb_4bit_compute_dtype")
        if found is not None:
            view.extras["bnb_4bit_compute_dtype"] = Setting(
                "bnb_4bit_compute_dtype", found[0],
                coerced_node(found[1], model_config["bitsandbytes"]["bnb_4bit_compute_dtype"]))
    return view


def json_schema(lora_section: dict) -> dict:
    """A toolkit config: under `lora:` only the fields of the toolkit's own LoraConfig schema (it drops the rest),
    the base model under `model.hf_model_ckpt`."""
    from lora_lint.trainers.llmtune.fields import SECTIONS

    properties = {name: schema for name, schema in lora_section["properties"].items() if name in SECTIONS["LoraConfig"]}
    # Where the toolkit's field is narrower than PEFT's: a list or exactly `all-linear`, never a regex string.
    properties["target_modules"] = {**properties["target_modules"], "anyOf": [
        {"type": "array", "items": {"type": "string"}}, {"const": "all-linear"}, {"type": "null"}]}
    toolkit = {**lora_section, "properties": properties}
    return {
        "type": "object",
        "properties": {
            "lora": toolkit,
            "model": {"type": "object", "properties": {"hf_model_ckpt": {"type": "string"}}},
        },
    }
