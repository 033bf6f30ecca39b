from lora_lint.rules import Finding, rule


@rule("LL131")
def check(ctx):
    issues = ctx.config.issues_of("missing-section")
    top_level = [issue for issue in issues if len(issue.path) == 1]
    if len(top_level) > 1 and ctx.config.dialect == "llmtune":  # one finding for the sections a snippet leaves out, not one per section
        names = ", ".join(f"`{issue.path[0]}`" for issue in top_level)
        yield Finding(top_level[0].at, f"the toolkit requires the sections {names}: without them `Config(...)` "
                                       "raises a ValidationError and the run stops",
                      "add them (`qa: {}`, `inference: {}`, `ablation: {use_ablate: false}` are enough for those)")
        issues = [issue for issue in issues if issue not in top_level]
    for issue in issues:
        yield Finding(issue.at, issue.message, issue.help)
