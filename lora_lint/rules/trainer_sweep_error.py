from lora_lint.rules import Finding, rule


@rule("LL132")
def check(ctx):
    for issue in ctx.config.issues_of("sweep-error"):
        yield Finding(issue.at, issue.message, issue.help)
