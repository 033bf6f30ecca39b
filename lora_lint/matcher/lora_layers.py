"""Creating LoRA layers: on target modules (LoraModel._create_and_replace, lora/layer.py dispatch_default) and on
target parameters (BaseTuner._inject_parameters, PEFT 0.17+)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lora_lint.matcher.constants import ADAPTER_NAME, MAMBA_INCOMPATIBLE_TARGETS, MAMBA_MODEL_TYPES
from lora_lint.matcher.patterns import rank_and_alpha
from lora_lint.matcher.results import PeftRaise
from lora_lint.matcher.tree import Module, Param, get_submodules, module_dict, prod

if TYPE_CHECKING:
    from lora_lint.matcher.replay import Replay


def create_and_replace(replay: Replay, key: str) -> None:
    config = replay.config
    parent, target, target_name = get_submodules(replay.root, key)
    if replay.inventory.get("model_type") in MAMBA_MODEL_TYPES and target_name in MAMBA_INCOMPATIBLE_TARGETS:
        raise PeftRaise(
            "ValueError",
            "mamba_incompatible_target",
            f"[PEFT:LORA] Module '{target_name}' is incompatible with Mamba-based models.",
        )
    r, alpha = rank_and_alpha(config, key)
    kind = target.info.get("lora_kind") if target.info else None
    if kind is None:
        raise PeftRaise(
            "ValueError",
            "unsupported_target_module",
            f"Target module {target.cls}() ('{key}') is not supported. Currently, only the following modules are "
            "supported: `torch.nn.Linear`, `torch.nn.Embedding`, `torch.nn.Conv1d`, `torch.nn.Conv2d`, "
            "`torch.nn.Conv3d`, `transformers.pytorch_utils.Conv1D`, `torch.nn.MultiheadAttention.`.",
        )
    if kind == "linear" and config.fan_in_fan_out:
        replay.warn(
            "fan_in_fan_out_disabled",
            "fan_in_fan_out is set to True but the target module is `torch.nn.Linear`. "
            "Setting fan_in_fan_out to False.",
            modules=[key],
        )
        config.fan_in_fan_out = False
    elif kind == "conv1d_gpt" and not config.fan_in_fan_out:
        replay.warn(
            "fan_in_fan_out_enabled",
            "fan_in_fan_out is set to False but the target module is `Conv1D`. Setting fan_in_fan_out to True.",
            modules=[key],
        )
        config.fan_in_fan_out = True
    if kind == "embedding" and config.lora_bias:
        raise PeftRaise(
            "ValueError", "lora_bias_unsupported", "lora_bias=True is not supported for Embedding."
        )
    if r <= 0:
        raise PeftRaise(
            "ValueError", "invalid_rank", f"`r` should be a positive integer value but the value passed is {r}"
        )
    if kind in CONV_KINDS and replay.version >= (0, 16) and r % conv_groups(target.info, replay.version) != 0:
        # PEFT 0.16+ builds grouped LoRA convs (lora/layer.py, _ConvNd.__init__) and refuses a rank they cannot split.
        raise PeftRaise(
            "ValueError",
            "conv_rank_not_divisible_by_groups",
            f"Targeting a {target.cls} with groups={conv_groups(target.info, replay.version)} and rank {r}. "
            "Currently, support is limited to conv layers where the rank is divisible by groups. "
            "Either choose a different rank or do not target this specific layer.",
        )
    if config.lora_bias and kind != "embedding" and "bias" not in target.params:
        replay.warn(
            "lora_bias_without_base_bias",
            f"`lora_bias=True` was passed but the targeted layer of type {target.cls} has no bias.",
            modules=[key],
        )
    parent.children[target_name] = lora_layer(replay, target, kind, r)
    replay.rank[key] = r
    replay.alpha[key] = alpha

CONV_KINDS = ("conv1d", "conv2d", "conv3d")


def conv_groups(info: dict, version: tuple[int, int, int]) -> int:
    """The groups of a conv layer as its LoRA layer uses them: PEFT before 0.16 ignored them (plain LoRA convs)."""
    if version < (0, 16):
        return 1
    return info["in_features"] // info["weight_shape"][1]


def lora_layer(replay: Replay, base: Module, kind: str, r: int) -> Module:
    """A LoRA layer around ``base`` with its sub-modules in PEFT's registration order."""
    info = base.info
    in_features, out_features = info.get("in_features"), info.get("out_features")
    layer = Module("lora." + kind, role="lora")
    dropout = Module("Dropout" if replay.config.lora_dropout > 0 else "Identity")
    lora_a, lora_b = {}, {}
    embedding_a, embedding_b = Module("ParameterDict"), Module("ParameterDict")
    if kind == "embedding":
        embedding_a.params[ADAPTER_NAME] = Param(r * in_features, True)
        embedding_b.params[ADAPTER_NAME] = Param(out_features * r, True)
    else:
        kernel = info["weight_shape"][2:] if kind in CONV_KINDS else []
        groups = conv_groups(info, replay.version) if kernel else 1
        lora_a[ADAPTER_NAME] = Module("Linear")
        lora_a[ADAPTER_NAME].params["weight"] = Param(r * in_features * prod(kernel or [1]), True)
        lora_b[ADAPTER_NAME] = Module("Linear")
        lora_b[ADAPTER_NAME].params["weight"] = Param(out_features * (r // groups), True)
        if replay.config.lora_bias:
            lora_b[ADAPTER_NAME].params["bias"] = Param(out_features, True)
    layer.children.update(
        base_layer=base,
        lora_dropout=module_dict({ADAPTER_NAME: dropout}),
        lora_A=module_dict(lora_a),
        lora_B=module_dict(lora_b),
        lora_embedding_A=embedding_a,
        lora_embedding_B=embedding_b,
        lora_magnitude_vector=module_dict({}),
    )
    layer.r = r
    return layer

# -- target_parameters (BaseTuner._inject_parameters, 0.17+) --------------------------------------------------

def inject_parameters(replay: Replay) -> None:
    config = replay.config
    target_names = sorted(set(config.target_parameters))
    snapshot = [(name, list(module.params)) for name, module in replay.root.named_modules()]
    for module_name, param_names in snapshot:
        unwrapped_name = module_name
        while ".base_layer" in unwrapped_name:
            prefix, _, suffix = unwrapped_name.rpartition(".base_layer")
            unwrapped_name = prefix + suffix
        for param_name in param_names:
            key = f"{unwrapped_name}.{param_name}"
            if key in target_names or any(key.endswith(f".{t}") for t in target_names):
                wrap_parameter(replay, module_name, unwrapped_name, key, param_name)
                replay.target_parameters.append(key)

def wrap_parameter(replay: Replay, module_name: str, unwrapped_name: str, key: str, param_name: str) -> None:
    config = replay.config
    if module_name == "":
        raise PeftRaise(
            "ValueError",
            "top_level_parameter",
            f"Targeting an nn.Parameter on the top-level module is not supported (parameter '{param_name}'). ",
        )
    parent, target, target_name = get_submodules(replay.root, module_name)
    unwrapped = replay.root.get_submodule(unwrapped_name)
    if unwrapped.role == "lora" and unwrapped.cls != "lora.param":
        raise PeftRaise(
            "ValueError",
            "parameter_of_lora_layer",
            f"Trying to wrap an `nn.Parameter` of layer '{unwrapped_name}' of type {target.cls}, which is not "
            "a valid target. Make sure that this layer is not also targeted with `target_modules`.",
        )
    for option, active in (
        ("lora_dropout != 0", bool(config.lora_dropout)),
        ("fan_in_fan_out", config.fan_in_fan_out),
        ("lora_bias=True", config.lora_bias),
        ("use_dora=True", config.use_dora),
    ):
        if active:
            raise PeftRaise(
                "ValueError", "param_wrapper_option", f"lora.ParamWrapper does not work with {option}."
            )
    r, alpha = rank_and_alpha(config, key)
    if r <= 0:
        raise PeftRaise(
            "ValueError", "invalid_rank", f"`r` should be a positive integer value but the value passed is {r}"
        )
    base = target
    while base.role == "lora":
        base = base.children["base_layer"]
    shape = (base.info.get("extra_parameters") or {}).get(param_name) or base.info.get("weight_shape")
    if len(shape) in (2, 3):
        num_experts = shape[0] if len(shape) == 3 else 1
    else:
        raise PeftRaise(
            "ValueError",
            "param_wrapper_dims",
            f"lora.ParamWrapper was initialized with {len(shape)} dimensional Parameter, but only 2d and 3d "
            "are supported.",
        )
    layer = Module("lora.param", role="lora")
    lora_a, lora_b = Module("Linear"), Module("Linear")
    # A 3-d (experts, a, b) parameter gets lora_A b x (r * experts) and lora_B (r * experts) x a (in/out are
    # swapped unless the experts are transposed, which does not change the count); a 2-d one (out, in) the usual.
    lora_a.params["weight"] = Param(r * num_experts * shape[-1], True)
    lora_b.params["weight"] = Param(r * num_experts * shape[-2], True)
    layer.children.update(
        base_layer=target,
        lora_dropout=module_dict({ADAPTER_NAME: Module("Identity")}),
        lora_A=module_dict({ADAPTER_NAME: lora_a}),
        lora_B=module_dict({ADAPTER_NAME: lora_b}),
        lora_embedding_A=Module("ParameterDict"),
        lora_embedding_B=Module("ParameterDict"),
        lora_magnitude_vector=module_dict({}),
    )
    parent.children[target_name] = layer
    replay.rank[key] = r
    replay.alpha[key] = alpha

