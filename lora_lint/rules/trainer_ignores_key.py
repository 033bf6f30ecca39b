from lora_lint.fix.edits import UNSAFE, replace_scalar
from lora_lint.rules import Finding, rule
from lora_lint.source import Node


@rule("LL135")
def check(ctx):
    for issue in ctx.config.issues_of("ignores-key"):
        yield Finding(issue.at, issue.message, issue.help, _rename(ctx, issue))


def _rename(ctx, issue):
    """Unsafe, as LL101's: the trainer then reads a setting it never saw, and the guess may be wrong."""
    if issue.meant is None or not isinstance(issue.at, Node):
        return None
    return replace_scalar(ctx, issue.at, issue.meant, UNSAFE, f"renamed `{issue.at.text}` to `{issue.meant}`")
