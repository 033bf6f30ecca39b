"""The base model a LoRA config fine-tunes: catalogue, resolution, and the module inventory built on the meta device.

Submodules are imported on demand: `catalog` and `resolve` stay torch-free; only building an inventory imports torch.
"""
