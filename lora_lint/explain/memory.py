"""GPU memory for one training step of the trainer's setup: base weights, trainable state, activations.

An estimate with its assumptions stated, not a measurement. The weights term is what `accelerate estimate-memory`
computes for unquantized dtypes (parameters × dtype size); for bitsandbytes it counts what bitsandbytes stores:
4-bit weights packed two per byte plus one absmax per 64-element block (8-bit absmax and a second-level fp32
constant per 256 blocks with double quantization), LLM.int8 weights one byte each plus an fp32 scale per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_lint.explain.report import Memory, MemoryPart

DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2, "float64": 8}
_BLOCK = 64  # bitsandbytes' 4-bit block size
_DOUBLE_QUANT_BLOCK = 256
_QUANTIZED_KINDS = ("linear", "conv1d_gpt")  # transformers' replace_with_bnb_linear: nn.Linear and Conv1D
# Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models": 34·s·b·h bytes of
# 16-bit activations per transformer layer, with attention scores not stored (SDPA / flash attention).
_ACTIVATION_BYTES_PER_LAYER_TOKEN_HIDDEN = 34


@dataclass
class TrainerSetup:
    """How the trainer loads and trains the model, as far as the config says."""

    dtype: str  # of the weights that stay unquantized
    quantization: str | None  # None | "4bit" | "8bit"
    double_quant: bool
    batch_size: int
    sequence_length: int
    gradient_checkpointing: bool
    optimizer_state_bytes: int  # per trainable parameter: 8 for 32-bit AdamW (two fp32 moments), 2 for 8-bit
    skip_modules: list[str]  # modules bitsandbytes leaves unquantized
    assumptions: list[str]


def weights_bytes(inventory: dict, dtype: str, quantization: str | None = None, double_quant: bool = False,
                  skip_modules: tuple[str, ...] = ()) -> int:
    """Bytes of the base model's weights loaded in ``dtype``, with Linear layers quantized if asked."""
    size = DTYPE_BYTES[dtype]
    if quantization is None:
        return inventory["total_parameters"] * size
    skipped = tuple(skip_modules) + ((inventory["output_embedding"],) if inventory.get("output_embedding") else ())
    quantized_elements, quantized_bytes = 0, 0.0
    for record in inventory["modules"]:
        if record["lora_kind"] not in _QUANTIZED_KINDS or record["name"].split(".")[-1] in skipped \
                or record["name"] in skipped:
            continue
        elements = _prod(record["weight_shape"])
        quantized_elements += elements
        if quantization == "4bit":
            blocks = -(-elements // _BLOCK)
            constants = blocks + 4 * -(-blocks // _DOUBLE_QUANT_BLOCK) if double_quant else 4 * blocks
            quantized_bytes += elements / 2 + constants
        else:
            quantized_bytes += elements + 4 * record["weight_shape"][0]
    return int(quantized_bytes) + (inventory["total_parameters"] - quantized_elements) * size


def estimate(inventory: dict, stacks: list[dict], model_config: dict, trainable: int, setup: TrainerSetup) -> Memory:
    weights = weights_bytes(inventory, setup.dtype, setup.quantization, setup.double_quant, tuple(setup.skip_modules))
    quantized = {"4bit": "4-bit NF4/FP4" + (" with double quantization" if setup.double_quant else ""),
                 "8bit": "LLM.int8"}.get(setup.quantization or "")
    count = f"{inventory['total_parameters']:,} parameters"
    weights_detail = f"{count}; Linear layers {quantized}, the rest {setup.dtype}" if quantized else \
        f"{count} in {setup.dtype}"
    per_trainable = 4 + 4 + setup.optimizer_state_bytes
    parts = [
        MemoryPart("base weights", weights, weights_detail),
        MemoryPart("LoRA weights", trainable * 4, f"{trainable:,} trainable parameters in fp32"),
        MemoryPart("gradients", trainable * 4, "fp32, one per trainable parameter"),
        MemoryPart("optimizer states", trainable * setup.optimizer_state_bytes,
                   f"AdamW, {setup.optimizer_state_bytes} bytes per trainable parameter"),
    ]
    assumptions = list(setup.assumptions)
    activations = _activations(inventory, stacks, model_config, setup)
    if activations is None:
        assumptions.append("activations not estimated: the model config names no hidden size")
    else:
        parts.append(activations)
    assumptions.append(f"trainable weights, gradients and optimizer states: {per_trainable} bytes per trainable "
                       "parameter (PEFT keeps adapter weights in fp32)")
    assumptions.append("not counted: the CUDA context and allocator fragmentation (typically 0.5-2 GB more)")
    return Memory(sum(part.bytes for part in parts), parts, assumptions)


def _activations(inventory: dict, stacks: list[dict], config: dict, setup: TrainerSetup) -> MemoryPart | None:
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    hidden = next((text[key] for key in ("hidden_size", "n_embd", "d_model", "dim") if isinstance(text.get(key), int)),
                  None)
    if hidden is None:
        return None
    layers = sum(stack["length"] for stack in stacks)
    output = inventory.get("output_embedding")
    vocab = next((record["out_features"] or 0 for record in inventory["modules"] if record["name"] == output), 0)
    tokens = setup.batch_size * setup.sequence_length
    layer_full = _ACTIVATION_BYTES_PER_LAYER_TOKEN_HIDDEN * tokens * hidden
    if setup.gradient_checkpointing:
        layer_bytes = layers * 2 * tokens * hidden + layer_full
        how = f"gradient checkpointing: each of {layers} layers keeps its 16-bit input, one layer is recomputed"
    else:
        layer_bytes = layers * layer_full
        how = f"{layers} layers × 34·tokens·hidden bytes (no checkpointing)"
    logits = tokens * vocab * 8  # fp32 logits and their gradient
    return MemoryPart("activations", layer_bytes + logits,
                      f"batch {setup.batch_size} × sequence {setup.sequence_length}, hidden {hidden}; {how}"
                      + (f"; fp32 logits over {vocab:,} tokens and their gradient" if vocab else ""))


def _prod(shape) -> int:
    product = 1
    for dim in shape or [0]:
        product *= dim
    return product
