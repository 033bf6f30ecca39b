"""The trainer's setup as the config states it, for the memory estimate, and the runs a sweep expands to."""

from __future__ import annotations

import json

from lora_lint.config import LoraConfigView, TrainerReading
from lora_lint.explain.memory import DTYPE_BYTES, TrainerSetup
from lora_lint.explain.report import Sweep
from lora_lint.source import Node

DEFAULT_SEQUENCE_LENGTH = 1024  # trl SFTTrainer's default max length, which the toolkit uses when sft_args name none
MAX_SWEEP_ROWS = 50


def trainer_setup(view: LoraConfigView, root: Node, model_config: dict, batch_size: int | None,
                  sequence_length: int | None) -> TrainerSetup:
    """Read the dtype, quantization, batch size, sequence length and optimizer the trainer will use."""
    assumptions: list[str] = []
    checkpoint_dtype = str(model_config.get("torch_dtype") or model_config.get("dtype") or "float32")
    if checkpoint_dtype not in DTYPE_BYTES:
        assumptions.append(f"the checkpoint's dtype {checkpoint_dtype!r} is not a float dtype; assumed float32")
        checkpoint_dtype = "float32"
    if view.dialect != "llmtune":
        batch = batch_size or 1
        length = sequence_length or DEFAULT_SEQUENCE_LENGTH
        assumptions += [
            f"base weights in the checkpoint's dtype ({checkpoint_dtype}), unquantized: the file does not say how "
            "the model is loaded",
            f"batch size {batch}" + ("" if batch_size else " (pass --batch-size)") + f", sequence length {length}"
            + ("" if sequence_length else " (pass --seq-len)") + ", no gradient checkpointing, 32-bit AdamW",
        ]
        return TrainerSetup(checkpoint_dtype, None, False, batch, length, False, 8, [], assumptions)

    model = _mapping(root.get("model"))
    training = _mapping(root.get("training"))
    training_args = _submapping(training, "training_args")
    sft_args = _submapping(training, "sft_args")
    quantization, double_quant, skip = None, False, []
    if model.get("quantize") is True:
        bnb = _submapping(model, "bitsandbytes")
        if bnb.get("load_in_8bit") is True:
            quantization = "8bit"
        elif bnb.get("load_in_4bit", True) is True:  # the toolkit's schema default is 4-bit
            quantization = "4bit"
            double_quant = bnb.get("bnb_4bit_use_double_quant", True) is True
        skip = [str(name) for name in bnb.get("llm_int8_skip_modules") or [] if isinstance(name, str)]
    # The toolkit always calls prepare_model_for_kbit_training, which casts every fp16/bf16 weight that is not
    # 4-bit to fp32.
    assumptions.append("unquantized weights in float32: the toolkit calls prepare_model_for_kbit_training, which "
                       "upcasts fp16/bf16 weights")
    written_batch = training_args.get("per_device_train_batch_size")
    batch = batch_size or (written_batch if isinstance(written_batch, int) and written_batch > 0 else 1)
    written_length = sft_args.get("max_seq_length")
    length = sequence_length or (written_length if isinstance(written_length, int) and written_length > 0
                                 else DEFAULT_SEQUENCE_LENGTH)
    optimizer = str(training_args.get("optim") or "paged_adamw_32bit")
    state_bytes = 2 if "8bit" in optimizer else 8
    source = "flag" if batch_size else ("training_args" if isinstance(written_batch, int) else "the toolkit's default")
    length_source = "flag" if sequence_length else ("sft_args.max_seq_length" if isinstance(written_length, int)
                                                   else "SFTTrainer's default")
    assumptions.append(f"batch size {batch} ({source}), sequence length {length} ({length_source}), gradient "
                       f"checkpointing on (the toolkit enables it), optimizer {optimizer}")
    return TrainerSetup("float32", quantization, double_quant, batch, length, True, state_bytes, skip, assumptions)


def _mapping(node: Node | None) -> dict:
    return node.to_python() if node is not None and node.kind == "map" else {}


def _submapping(mapping: dict, key: str) -> dict:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def sweep_axes(reading: TrainerReading) -> list[tuple[str, list]]:
    """The settings a toolkit ablation study varies, each with its alternatives in the order the runs take them
    (the trainer layer expands the sweep exactly as the toolkit does)."""
    values: dict[str, list] = {}
    for view in reading.runs:
        for axis, value in view.axes.items():
            if value not in values.setdefault(axis, []):
                values[axis].append(value)
    return list(values.items())


def sweep_table(reading: TrainerReading) -> Sweep | None:
    """One row per run the trainer starts, with the value each swept setting takes in it."""
    axes = [axis for axis, _ in sweep_axes(reading)]
    if not axes:
        return None
    rows = [[_show(view.axes.get(axis)) for axis in axes] for view in reading.runs[:MAX_SWEEP_ROWS]]
    return Sweep(reading.run_count, axes, rows, reading.run_count - len(rows))


def _show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
