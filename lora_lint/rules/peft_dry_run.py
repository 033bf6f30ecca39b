"""`--peft-dry-run`: build the adapter with the real, installed PEFT on the meta-device skeleton.

PEFT's errors and warnings are mapped onto the config line they are about. Any disagreement between PEFT and the
matcher (which module gets LoRA, which is wrapped, whether it raises) is a bug in lora-lint and is raised as
PeftDisagreement, which is reported on the file as an internal error (LL009).
"""

from __future__ import annotations

import copy
import warnings

from lora_lint.base_model import peft_kwargs
from lora_lint.rules import Finding, rule
from lora_lint.rules.unusable_regex import peft_hangs

# Config keys whose name in a PEFT message says which line the message is about, most specific first.
_KEYS_BY_MENTION = ("fan_in_fan_out", "exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save",
                    "rank_pattern", "alpha_pattern", "target_parameters", "task_type", "lora_bias", "target_modules")


class PeftDisagreement(Exception):
    """The installed PEFT did something else than lora-lint's matcher predicted."""


@rule("LL320")
def check(ctx):
    if not ctx.options.peft_dry_run or ctx.model.match is None or peft_hangs(ctx):
        return  # a config regex PEFT would hang on: unusable-regex (LL330) reports it
    from lora_lint.progress import status

    with status(f"PEFT dry run: get_peft_model on the meta skeleton of {ctx.model.name}"):
        outcome = run_peft(ctx)
    _compare(ctx, outcome)
    if outcome["error"] is not None:
        yield Finding(_where(ctx, outcome["error"]), f"PEFT raised {outcome['error']}",
                      "the other diagnostics on this file say which setting causes it")
    for message in outcome["warnings"]:
        yield Finding(_where(ctx, message), f"PEFT warned: {message}", None)


def run_peft(ctx) -> dict:
    import peft
    from peft.tuners.lora import LoraLayer
    from peft.utils import ModulesToSaveWrapper

    from lora_lint.model.inventory import build_skeleton

    resolved = ctx.model.resolved
    model = build_skeleton(resolved.config, ctx.model.model_class,
                           trust_remote_code=ctx.options.trust_remote_code,
                           code_location=resolved.model_id, revision=resolved.revision)
    kwargs = copy.deepcopy(peft_kwargs(ctx))
    kwargs["init_lora_weights"] = True  # other initialisations compute on weights, which a meta skeleton has not
    # A skeleton built from a config has no name; give it the one the trainer's model would carry, or PEFT warns
    # that base_model_name_or_path was renamed.
    model.name_or_path = kwargs.get("base_model_name_or_path") or resolved.reference
    error = None
    targets, wrapped = set(), set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            peft_model = peft.get_peft_model(model, peft.LoraConfig(**kwargs))
        except Exception as exc:  # PEFT's verdict on the config is the point of the dry run
            error = f"{type(exc).__name__}: {exc}"
        else:
            prefix = "base_model.model."
            for name, module in peft_model.named_modules():
                short = name.removeprefix(prefix)
                if isinstance(module, LoraLayer):
                    targets.add(short)
                elif isinstance(module, ModulesToSaveWrapper):
                    wrapped.add(short)
    messages = [str(w.message) for w in caught if "/peft/" in w.filename.replace("\\", "/")]
    return {"error": error, "targets": targets, "wrapped": wrapped, "warnings": list(dict.fromkeys(messages))}


def _compare(ctx, outcome: dict) -> None:
    predicted = ctx.model.match
    problems = []
    if (predicted.error is None) != (outcome["error"] is None):
        problems.append(f"matcher predicted {'an error' if predicted.error else 'success'}, PEFT "
                        f"{'raised ' + outcome['error'] if outcome['error'] else 'succeeded'}")
    elif outcome["error"] is None:
        for what, mine, theirs in (("LoRA targets", set(predicted.targets), outcome["targets"]),
                                   ("modules_to_save", set(predicted.modules_to_save), outcome["wrapped"])):
            if mine != theirs:
                problems.append(f"{what} differ: only matcher {sorted(mine - theirs)[:5]}, "
                                f"only PEFT {sorted(theirs - mine)[:5]}")
    if problems:
        raise PeftDisagreement(f"{ctx.path}: lora-lint's matcher disagrees with PEFT {ctx.peft.version}: "
                               + "; ".join(problems) + " (please report this)")


def _where(ctx, message: str):
    for key in _KEYS_BY_MENTION:
        if key in message and key in ctx.config.settings:
            return ctx.config.settings[key].key_node
    target = ctx.config.settings.get("target_modules")
    return target.key_node if target is not None else ctx.config.anchor
