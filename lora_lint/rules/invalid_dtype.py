from lora_lint.fix.edits import SAFE, UNSAFE, replace_scalar
from lora_lint.rules import Finding, rule
from lora_lint.suggest import closest

TORCH_DTYPES = {
    "float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex64", "cfloat", "complex128",
    "cdouble", "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool",
    "float8_e4m3fn", "float8_e5m2",
}
# Names from other tools' configs (mixed-precision flags, numpy) that torch does not know.
ALIASES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "fp64": "float64", "f16": "float16",
           "f32": "float32", "float8": "float8_e4m3fn", "brain_float16": "bfloat16"}


@rule("LL110")
def check(ctx):
    for key in ("torch_dtype", "bnb_4bit_compute_dtype"):
        setting = ctx.config.extras.get(key)
        if setting is None or not isinstance(setting.value, str):
            continue
        value = setting.value
        if value in TORCH_DTYPES or (key == "torch_dtype" and value == "auto"):
            continue
        bare = value.removeprefix("torch.")
        known = bare if bare in TORCH_DTYPES else ALIASES.get(value.lower())
        suggestion = known or closest(value, TORCH_DTYPES)
        yield Finding(setting.value_node,
                      f"`{key}: {value}` is not a torch dtype name; the toolkit looks it up with getattr(torch, ...)",
                      f"write `{key}: {suggestion}`" if suggestion else "use a name like `bfloat16` or `float16`",
                      replace_scalar(ctx, setting.value_node, suggestion, SAFE if known else UNSAFE,
                                     f"wrote `{key}: {suggestion}`") if suggestion else None)
