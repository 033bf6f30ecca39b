"""`lora-lint train-step` and `check --train-step`: one real LoRA optimisation step per config, on a miniature of the
base model (default) or on its real weights (--weights DIR), with checks that the adapter trains what it should.

The command line calls `run` with the files it linted and their reports; each report gets a `train_step` summary
and the step's findings. Importing this package imports no torch: `runner` does, when a file is stepped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class StepOptions:
    weights: Path | None = None  # --weights: a local checkpoint instead of the miniature's random weights
    device: str | None = None  # --device: default CUDA when available, else CPU
    data: Path | None = None  # --data: a few rows of the training data for the batch (needs --weights)
    save_adapter: Path | None = None  # --save-adapter: keep the trained adapter here (else a temporary directory)
    progress: bool = False  # a progress line on stderr (the command line turns it on for a terminal)


def run(linted: list, options: StepOptions) -> None:
    """Step every linted file: `linted` holds ((path, settings, lint options, named explicitly), FileReport)
    pairs. Adds the step's findings to each report and sets its `train_step`."""
    import dataclasses

    from lora_lint.train_step.runner import step_file

    for (path, settings, lint_options, _explicit), report in linted:
        file_options = options
        if options.save_adapter is not None and len(linted) > 1:  # one adapter directory per config
            file_options = dataclasses.replace(options, save_adapter=options.save_adapter / path.stem)
        step_file(path, settings, lint_options, report, file_options)
