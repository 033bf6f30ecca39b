from lora_lint.rules import Finding, rule


@rule("LL131")
def check(ctx):
    for issue in ctx.config.issues_of("missing-section"):
        yield Finding(issue.at, issue.message, issue.help)
