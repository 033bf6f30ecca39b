"""One model type of the sweep: lint four LoRA configs against its tiny checkpoint and replay them with real PEFT.

The lint side is the command line: `lora-lint check --model DIR --output-format json` over four adapter configs.
The reference side is what a trainer does with the same directory: `AutoConfig.from_pretrained`, the Auto class's
`from_config` on the meta device, `peft.get_peft_model`. The two must agree on whether PEFT raises, on the modules
that get LoRA and on the trainable parameter count.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import io
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tiny_configs import saved_tiny_model

LORA_BASE = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "lora_dropout": 0.0}


@dataclass
class Case:
    name: str  # all-linear | peft-default | own-leaves | own-leaves-layer-0
    lora: dict
    peft: dict | None = None  # {"error": (type, message) | None, "targets": [...], "trainable": int}
    lint: dict | None = None  # {"raises": bool, "targets": [...], "trainable": int} or {"failure": str}

    @property
    def agrees(self) -> bool:
        if self.peft is None or self.lint is None or "failure" in self.lint:
            return False
        if (self.peft["error"] is not None) != self.lint["raises"]:
            return False
        return self.peft["error"] is not None or (
            self.peft["targets"] == self.lint["targets"] and self.peft["trainable"] == self.lint["trainable"])

    def difference(self) -> str:
        if self.lint and "failure" in self.lint:
            return f"lint could not use the model: {self.lint['failure']}"
        peft_error = self.peft["error"]
        if (peft_error is not None) != self.lint["raises"]:
            return f"PEFT {'raises ' + peft_error[0] + ': ' + peft_error[1] if peft_error else 'does not raise'}; " \
                   f"lint says it {'raises' if self.lint['raises'] else 'does not'}"
        only_peft = sorted(set(self.peft["targets"]) - set(self.lint["targets"]))
        only_lint = sorted(set(self.lint["targets"]) - set(self.peft["targets"]))
        return (f"targets only PEFT wraps {only_peft[:6]}, only lint {only_lint[:6]}; trainable PEFT "
                f"{self.peft['trainable']:,} lint {self.lint['trainable']:,}")


@dataclass
class TypeResult:
    model_type: str
    auto_class: str
    task_type: str | None
    shrink: str = ""
    cases: list[Case] = field(default_factory=list)
    reference_failure: str | None = None  # transformers itself cannot build the tiny model
    seconds: float = 0.0

    @property
    def peft_cannot_wrap(self) -> str | None:
        """PEFT's all-linear error when PEFT raised on all four configs (so none of them gives the type LoRA)."""
        errors = [case.peft["error"] for case in self.cases if case.peft is not None]
        if errors and all(errors):
            all_linear = next(case for case in self.cases if case.name == "all-linear").peft["error"]
            return f"{all_linear[0]}: {all_linear[1]}"
        return None


def lora_cases(model: Any, task_type: str | None) -> list[Case]:
    """all-linear, PEFT's default targets for the model type, the model's two commonest LoRA-able leaf names, and
    those two in layer 0 only."""
    base = dict(LORA_BASE, task_type=task_type)
    leaves = own_leaves(model)
    return [
        Case("all-linear", dict(base, target_modules="all-linear")),
        Case("peft-default", dict(base, target_modules=None)),
        Case("own-leaves", dict(base, target_modules=leaves)),
        Case("own-leaves-layer-0", dict(base, target_modules=leaves, layers_to_transform=[0])),
    ]


def own_leaves(model: Any) -> list[str]:
    """The two leaf names most LoRA-able modules of the model carry (ties broken by name)."""
    from torch import nn
    from transformers.pytorch_utils import Conv1D

    counts: collections.Counter = collections.Counter()
    for name, module in model.named_modules():
        leaf = name.rpartition(".")[2]
        if name and not leaf.isdigit() and isinstance(module, (nn.Linear, Conv1D, nn.Embedding, nn.Conv2d)):
            counts[leaf] += 1
    return [leaf for leaf, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:2]]


def run_peft(pristine: Any, lora: dict) -> dict:
    import peft

    model = copy.deepcopy(pristine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            peft_model = peft.get_peft_model(model, peft.LoraConfig(**{k: v for k, v in lora.items() if k != "peft_type"}))
        except Exception as exc:  # noqa: BLE001 -- whether and what PEFT raises is what is compared
            return {"error": (type(exc).__name__, str(exc).splitlines()[0][:300]), "targets": [], "trainable": 0}
    return {
        "error": None,
        "targets": sorted(set(peft_model.base_model.targeted_module_names)),
        "trainable": peft_model.get_nb_trainable_parameters()[0],
    }


def run_lint(directory: Path, cases: list[Case]) -> None:
    """`lora-lint check --model DIR --no-cache --output-format json` over one file per case."""
    from lora_lint.cli import main

    paths = []
    for index, case in enumerate(cases):
        path = directory / f"adapter-{index}-{case.name}.json"
        path.write_text(json.dumps(case.lora), encoding="utf-8")
        paths.append(path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--model", str(directory), "--no-cache", "--offline", "--exit-zero",
                     "--output-format", "json", *map(str, paths)])
    if code != 0:
        for case in cases:
            case.lint = {"failure": f"exit code {code}: {err.getvalue().strip()[-300:]}"}
        return
    by_path = {entry["path"]: entry for entry in json.loads(out.getvalue())["files"]}
    for case, path in zip(cases, paths):
        entry = by_path[path.as_posix()]
        if entry["model"] is None:
            skipped = [d["message"] for d in entry["diagnostics"] if d["code"] == "LL201"]
            case.lint = {"failure": "; ".join(skipped) or "no model"}
            continue
        # The lint reports no targets exactly when its PEFT replay raises (PEFT raises when nothing matches).
        case.lint = {"raises": not entry["targets"], "targets": entry["targets"],
                     "trainable": entry["trainable_parameters"]}


# Every result of the session, for the report at its end (conftest.pytest_terminal_summary).
RESULTS: list[TypeResult] = []


def sweep_type(model_type: str, auto_class: str, task_type: str | None, directory: Path) -> TypeResult:
    started = time.perf_counter()
    result = _sweep(model_type, auto_class, task_type, directory)
    result.seconds = time.perf_counter() - started
    RESULTS.append(result)
    return result


def _sweep(model_type: str, auto_class: str, task_type: str | None, directory: Path) -> TypeResult:
    result = TypeResult(model_type, auto_class, task_type)
    try:
        pristine, result.shrink = saved_tiny_model(model_type, auto_class, directory)
    except Exception as exc:  # noqa: BLE001 -- reported per type
        result.reference_failure = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        return result
    result.cases = lora_cases(pristine, task_type)
    for case in result.cases:
        case.peft = run_peft(pristine, case.lora)
    run_lint(directory, result.cases)
    return result

