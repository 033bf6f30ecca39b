from lora_lint.rules import Finding, rule


@rule("LL133")
def check(ctx):
    for issue in ctx.config.issues_of("coerces"):
        yield Finding(issue.at, issue.message, issue.help)
