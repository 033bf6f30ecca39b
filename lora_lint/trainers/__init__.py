"""The trainer layer: one module per trainer, each a model of how that trainer loads a config file.

A trainer module has a `NAME` and `read(root, force) -> TrainerReading | None`: given the parsed tree (every node
with its span), it returns None when the file is not laid out for this trainer (unless forced), else the trainer's
own verdict on the file, the runs it starts and, for each run, the exact `LoraConfig` kwargs after its coercions,
defaults and drops (lora_lint.config). `peft` is the null trainer: keys reach LoraConfig as written.
Adding a trainer is adding a module here and naming it in TRAINERS.
"""

from __future__ import annotations

from lora_lint.config import TrainerReading
from lora_lint.source import Node
from lora_lint.trainers import axolotl, llamafactory, llmtune, peft

# Detection order matters: an axolotl file's `adapter: lora` with `lora_*` keys is neither of the others; an llmtune
# file also holds a mapping that looks like flat PEFT keys, and a LLaMA-Factory v1 file a `peft_config:` one.
TRAINERS = {module.NAME: module for module in (axolotl, llmtune, llamafactory, peft)}

# The rules that report what a trainer itself does to a file (TrainerIssue kinds); the only ones that still run on
# a run the trainer rejects, since nothing of that run reaches PEFT.
TRAINER_RULES = {
    "rejects": "LL130",
    "missing-section": "LL131",
    "sweep-error": "LL132",
    "coerces": "LL133",
    "drops-peft-field": "LL134",
    "ignores-key": "LL135",
}

def detect(root: Node, forced: str | None = None) -> TrainerReading | None:
    if root.kind != "map":
        return None
    if forced is not None:
        return TRAINERS[forced].read(root, force=True)
    for module in TRAINERS.values():
        reading = module.read(root, force=False)
        if reading is not None:
            return reading
    return None

