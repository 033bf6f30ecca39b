from lora_lint.rules import Finding, rule


@rule("LL134")
def check(ctx):
    for issue in ctx.config.issues_of("drops-peft-field"):
        yield Finding(issue.at, issue.message, issue.help)
