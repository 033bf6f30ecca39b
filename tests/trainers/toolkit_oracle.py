"""The real toolkit's loading path, from the installed llm-toolkit 0.2.3 (installed with --no-deps): what
`llmtune run` does from `yaml.safe_load` to `LoraConfig(**config.lora.model_dump())`, for every run.

Imports only the toolkit's config model and ablation code; `llmtune/__init__.py` and the two packages' `__init__`
files import nothing, and `config_model.py` itself needs only pydantic and torch (for its `torch.bfloat16`
default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from llmtune.pydantic_models import config_model
from llmtune.utils import ablation_utils
from pydantic import ValidationError

# The toolkit calls yaml.safe_load and yaml.dump; libyaml's parser and emitter feed the same Python resolver and
# constructors (the same types for every scalar) and are ten times faster, which keeps thousands of cases cheap.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CDumper", yaml.Dumper)


@dataclass
class Outcome:
    accepted: bool
    runs: list[dict] = field(default_factory=list)  # per run: config.lora.model_dump()
    raises: str | None = None  # the exception the toolkit stops with
    failing_run: int | None = None  # 1-based; None when it fails before the first run
    paths: set = field(default_factory=set)  # the fields its ValidationError names


def run_toolkit(text: str) -> Outcome:
    """`llmtune run` on this file, up to the moment each run would load the model."""
    config = yaml.load(text, Loader=_Loader)
    try:
        # get_types_from_dict keeps a mutable default dict across calls; `llmtune run` calls it once per process.
        ablation_utils.get_types_from_dict.__defaults__[1].clear()
        use_ablate = config.get("ablation", {}).get("use_ablate", False)
        configs = ablation_utils.generate_permutations(config, config_model.Config) if use_ablate else [config]
    except Exception as exc:
        return Outcome(False, raises=type(exc).__name__)
    runs = []
    for index, run in enumerate(configs, start=1):
        try:
            validated = config_model.Config(**run)
        except ValidationError as exc:
            return Outcome(False, runs, "ValidationError", index, _paths(exc, run))
        except Exception as exc:
            return Outcome(False, runs, type(exc).__name__, index)
        # DirectoryHelper: hash the config, save model_dump() with yaml.dump, read it back and validate again.
        try:
            validated.model_dump_json()
            saved = yaml.dump(validated.model_dump(), Dumper=_Dumper)
            reread = yaml.load(saved, Loader=_Loader)
            validated = config_model.Config(**reread)
        except ValidationError as exc:
            return Outcome(False, runs, "ValidationError", index, _paths(exc, reread))
        except Exception as exc:
            return Outcome(False, runs, type(exc).__name__, index)
        runs.append(validated.lora.model_dump())
    return Outcome(True, runs)


FRAGMENT_SECTIONS = {"lora": "LoraConfig", "model": "ModelConfig"}


def is_fragment(data) -> bool:
    return isinstance(data, dict) and "lora" in data and set(data) <= set(FRAGMENT_SECTIONS)


def run_sections(data: dict) -> Outcome:
    """The toolkit's schema on each section of a fragment alone (`lora:`, perhaps `model:`): how lora-lint reads
    a fragment. The kwargs are `LoraConfig(**section).model_dump()`."""
    runs, paths, raises = [], set(), None
    for name, section in data.items():
        model = getattr(config_model, FRAGMENT_SECTIONS[name])
        if not isinstance(section, dict):
            paths.add((name,))
            raises = raises or "ValidationError"
            continue
        try:
            validated = model(**section)
        except ValidationError as exc:
            paths |= {(name,) + p for p in _paths(exc, section)}
            raises = raises or "ValidationError"
            continue
        except Exception as exc:
            raises = raises or type(exc).__name__
            continue
        if name == "lora":
            runs.append(validated.model_dump())
    if raises:
        return Outcome(False, raises=raises, failing_run=1, paths=paths)
    return Outcome(True, runs)


def _paths(exc: ValidationError, data) -> set:
    """Each error's location as keys and indices of the input (pydantic adds union-member tags to a location)."""
    found = set()
    for error in exc.errors():
        path, here = [], data
        for part in error["loc"]:
            if isinstance(here, dict) and part in here:
                path.append(part)
                here = here[part]
            elif isinstance(here, list) and isinstance(part, int) and part < len(here):
                path.append(part)
                here = here[part]
            elif error["type"] == "missing" and isinstance(here, dict):
                path.append(part)
                break
            else:
                if not (isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool"))):
                    path.append(part)  # a field the input lacks (null after the save and re-read)
                break
        found.add(tuple(path))
    return found
