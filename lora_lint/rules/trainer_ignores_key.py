from lora_lint.rules import Finding, rule


@rule("LL135")
def check(ctx):
    for issue in ctx.config.issues_of("ignores-key"):
        yield Finding(issue.at, issue.message, issue.help)
