from lora_lint.rules import Finding, rule


@rule("LL130")
def check(ctx):
    for issue in ctx.config.issues_of("rejects"):
        yield Finding(issue.at, issue.message, issue.help)
