"""Command line on click: `lora-lint check`, `explain`, `rules`, `models`, `modules`, `schema`, `completion`.

Exit codes follow ruff: 0 no errors, 1 errors (or warnings with --strict), 2 usage, settings or internal error.
Each command imports what it needs inside its body, so `lora-lint check` never pays for `modules` and the CLI itself
costs only click.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from lora_lint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
OUTPUT_FORMATS = ("full", "concise", "json", "github", "sarif")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class GroupedOption(click.Option):
    """An option that belongs to a titled group in `--help` (click lists all options under one heading)."""

    def __init__(self, *args, group: str = "Options", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


class GroupedCommand(click.Command):
    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        groups: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is not None:
                groups.setdefault(getattr(param, "group", "Options"), []).append(record)
        for title, records in groups.items():
            with formatter.section(title):
                formatter.write_dl(records)


class StyledFormatter(click.HelpFormatter):
    """Help with bold headings on a terminal that wants colour: click's own ANSI styling, which costs nothing to
    import (rich would add tens of milliseconds to every start)."""

    def write_heading(self, heading: str) -> None:
        super().write_heading(click.style(heading, bold=True, underline=True) if _help_color() else heading)

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if _help_color():
            prefix = click.style(prefix or "Usage: ", bold=True)
        super().write_usage(prog, args, prefix)


def _help_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class LintContext(click.Context):
    formatter_class = StyledFormatter


GroupedCommand.context_class = LintContext


class LintGroup(click.Group):
    context_class = LintContext
    command_class = GroupedCommand

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            from lora_lint.suggest import closest

            best = closest(exc.command_name, self.commands)
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=[best] if best else None,
                                                 ctx=ctx) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            return EXIT_CLEAN
        except CommandError as exc:
            from lora_lint.report.escape import printable

            click.echo(f"lora-lint: error: {printable(str(exc))}", err=True)  # it may quote a path or a value
            return EXIT_USAGE
        except Exception as exc:  # the last line of defence: a bug must not look like a lint result
            from lora_lint.report.escape import printable

            click.echo(f"lora-lint: internal error: {type(exc).__name__}: {printable(str(exc))}", err=True)
            return EXIT_USAGE


class CommandError(Exception):
    """A problem that is not about the command line's shape (a settings file, an unresolvable model): exit 2."""


def usage_error(message: str, param: str | None = None) -> click.UsageError:
    """A usage error shown with the running command's usage line."""
    ctx = click.get_current_context(silent=True)
    if param is not None:
        return click.BadParameter(message, ctx=ctx, param_hint=param)
    return click.UsageError(message, ctx=ctx)


@click.group(cls=LintGroup, context_settings=CONTEXT, invoke_without_command=True,
             epilog="Run `lora-lint COMMAND -h` for a command's options.")
@click.version_option(__version__, "-V", "--version", prog_name="lora-lint", message="%(prog)s %(version)s")
@click.pass_context
def app(ctx: click.Context) -> int | None:
    """Lint LoRA fine-tuning configs: what PEFT would reject, or silently ignore, before the GPU job starts."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        return EXIT_CLEAN
    return None


def option(*decls, group: str, **kwargs):
    return click.option(*decls, cls=GroupedOption, group=group, **kwargs)


def _rule_selectors(ctx, param, values: tuple[str, ...]) -> set[str] | None:
    """`--select LL1,unknown-key --select LL3` → codes; an unknown rule is a usage error that names the closest."""
    if not values:
        return None
    from lora_lint.registry import UnknownRuleError, expand_selector

    codes: set[str] = set()
    for value in values:
        for selector in (part.strip() for part in value.split(",")):
            if selector:
                try:
                    codes |= expand_selector(selector)
                except UnknownRuleError as exc:
                    raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return codes


def _peft_version(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    from lora_lint.settings import SettingsError, parse_version

    try:
        return parse_version(value, "--peft-version")
    except SettingsError as exc:
        raise click.BadParameter(str(exc).removeprefix("--peft-version: "), ctx=ctx, param=param) from None


class DialectChoice(click.Choice):
    """The dialects the registry knows, read only when the option is used or help is shown."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self):
        from lora_lint.trainers import TRAINERS

        return tuple(TRAINERS)

    @choices.setter
    def choices(self, value) -> None:
        pass


OUTPUT, RULES, FILES, MODEL, FIXES, STEP, EXIT = ("Output", "Rule selection", "File selection", "Base model and PEFT",
                                                 "Fixes", "Training step", "Exit status")
CONFIG_SUFFIXES = (".yml", ".yaml", ".json")


def _check_options(command):
    """The options `check` and `train-step` share (train-step is check with the step turned on)."""
    for decorator in reversed([
        click.argument("paths", nargs=-1, type=click.Path(path_type=str, allow_dash=True)),
        option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="full", show_default=True,
               group=OUTPUT, help="full: ruff-style report; concise: one line per finding; json; github: annotations; "
               "sarif: SARIF 2.1.0"),
        option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", group=OUTPUT,
               help="Write the report to FILE instead of stdout."),
        option("--statistics", is_flag=True, group=OUTPUT,
               help="Print how often each rule fired instead of the findings."),
        option("--quiet", "-q", is_flag=True, group=OUTPUT, help="Print the findings and nothing else."),
        option("--verbose", "-v", is_flag=True, group=OUTPUT,
               help="Also say on stderr which files were linted or skipped."),
        option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
               group=OUTPUT,
               help="Colour the full report; auto: on a terminal, unless NO_COLOR is set (FORCE_COLOR forces it)."),
        option("--show-files", is_flag=True, group=OUTPUT, help="Print the files that would be linted and exit."),
        option("--show-settings", is_flag=True, group=OUTPUT,
               help="Print the settings that apply to the first path and exit."),
        option("--select", multiple=True, metavar="RULES", callback=_rule_selectors, group=RULES,
               help="Only these rules (codes, names or prefixes, comma-separated); replaces the settings."),
        option("--ignore", multiple=True, metavar="RULES", callback=_rule_selectors, group=RULES,
               help="Skip these rules, in addition to the settings."),
        option("--exclude", multiple=True, metavar="GLOB", group=FILES, help="Skip files matching GLOB when walking."),
        option("--force-exclude", is_flag=True, group=FILES,
               help="Apply exclusions to files named on the command line too (for pre-commit)."),
        option("--respect-gitignore/--no-respect-gitignore", default=True, show_default=True, group=FILES,
               help="Skip files git ignores (.gitignore, .git/info/exclude) when walking."),
        option("--stdin-filename", metavar="NAME", group=FILES,
               help="The name of the config read from `-` (for settings, exclusions and JSON detection)."),
        option("--skip-non-lora", is_flag=True, group=FILES,
               help="Skip named files that are not LoRA configs instead of reporting them (for pre-commit)."),
        option("--dialect", type=DialectChoice(), group=FILES, help="Read every file as this dialect."),
        option("--model", metavar="ID|PATH", group=MODEL,
               help="Check against this base model instead of the config's."),
        option("--offline", is_flag=True, group=MODEL, help="Never download a model's config.json from the Hub."),
        option("--cache-dir", type=click.Path(path_type=Path), metavar="DIR", group=MODEL,
               help="Where built model inventories are cached."),
        option("--no-cache", is_flag=True, group=MODEL, help="Build model inventories without the on-disk cache."),
        option("--trust-remote-code", is_flag=True, group=MODEL,
               help="Allow running a model repository's own code to build its skeleton (never from a config)."),
        option("--peft-version", metavar="VERSION", callback=_peft_version, group=MODEL,
               help="Check against this PEFT release (the training machine's) instead of the installed one."),
        option("--peft-dry-run", is_flag=True, group=MODEL,
               help="Also build the adapter with the installed PEFT on the meta skeleton (needs lora-lint[model])."),
        option("--strict", is_flag=True, group=EXIT, help="Exit 1 on warnings too."),
        option("--exit-zero", is_flag=True, group=EXIT, help="Exit 0 even when errors are found."),
        option("--fix", is_flag=True, group=FIXES,
               help="Apply the safe fixes to the files, then report what is left."),
        option("--unsafe-fixes", is_flag=True, group=FIXES,
               help="Apply the unsafe fixes too (those that may change what the config does); implies --fix."),
        option("--diff", is_flag=True, group=FIXES,
               help="Print the fixes as a unified diff and change nothing; exit 1 if anything would change."),
        option("--show-fixes", is_flag=True, group=FIXES, help="List each fix applied (with --fix or --diff)."),
        option("--weights", type=click.Path(path_type=Path), metavar="DIR", group=STEP,
               help="Step the real model from this local checkpoint (safetensors or bin) instead of a miniature."),
        option("--device", group=STEP,
               help="With --weights: where to step (default: cuda when available, else cpu)."),
        option("--data", type=click.Path(path_type=Path), metavar="FILE", group=STEP,
               help="With --weights: train on the first rows of this JSON Lines, JSON or CSV file."),
        option("--save-adapter", type=click.Path(path_type=Path), metavar="DIR", group=STEP,
               help="Keep the trained adapter in DIR (else a temporary directory is used and removed)."),
    ]):
        command = decorator(command)
    return command


@app.command(context_settings=CONTEXT, short_help="Lint config files and directories.")
@_check_options
@option("--train-step", is_flag=True, group=STEP,
        help="Also run one real LoRA training step for files whose static checks found no errors (needs "
             "lora-lint[model]); on a miniature of the base model unless --weights.")
def check(**kwargs) -> int:
    """Lint config files and directories (default: the current directory); `-` reads one config from stdin."""
    from lora_lint.checking import CheckArgs, run_check

    return run_check(CheckArgs(**kwargs))


@app.command("train-step", context_settings=CONTEXT, short_help="Run one real LoRA training step per config.")
@_check_options
def train_step(**kwargs) -> int:
    """Lint each config, then run one real LoRA training step on the files with no errors and check what it
    trained (= check --train-step): a miniature of the base model on the CPU, or --weights DIR."""
    from lora_lint.checking import CheckArgs, run_check

    return run_check(CheckArgs(train_step=True, **kwargs))


@app.command(context_settings=CONTEXT, short_help="Report what a config's adapter will be, or print a rule's docs.")
@click.argument("target", metavar="CONFIG|RULE")
@option("--format", "output_format", type=click.Choice(["text", "svg", "html", "markdown", "json"]), default="text",
        show_default=True, group=OUTPUT, help="For a config: the report's format.")
@option("--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", group=OUTPUT,
        help="Write the report to FILE instead of stdout.")
@option("--model", metavar="ID|PATH", group=MODEL, help="Explain against this base model instead of the config's.")
@option("--peft-version", metavar="VERSION", callback=_peft_version, group=MODEL,
        help="The PEFT release of the training machine.")
@option("--offline", is_flag=True, group=MODEL, help="Never download a model's config.json from the Hub.")
@option("--batch-size", type=click.IntRange(min=1), metavar="N", group=MODEL,
        help="Per-device batch size for the memory estimate (default: the config's).")
@option("--seq-len", type=click.IntRange(min=1), metavar="N", group=MODEL,
        help="Sequence length for the memory estimate (default: the config's).")
def explain(target: str, output_format: str, output: Path | None, model: str | None, peft_version: str | None,
            offline: bool, batch_size: int | None, seq_len: int | None) -> int:
    """Report what a config's adapter will be: which modules get LoRA with which rank, trainable parameters, adapter
    size, memory, sweep runs (CONFIG: a config file); or print a rule's documentation (RULE: a code such as LL101
    or a name such as unknown-key)."""
    if Path(target).exists() or target.lower().endswith(CONFIG_SUFFIXES):
        from lora_lint.explain import ExplainOptions, run
        from lora_lint.lint import LintOptions
        from lora_lint.model.offline import offline_in_environment, offline_mode

        lint = LintOptions(model=model, peft_version=peft_version, offline=offline)
        with offline_mode(offline or offline_in_environment()):
            return run(target, output_format, output, ExplainOptions(lint, batch_size, seq_len))
    from lora_lint.registry import UnknownRuleError, find_rule

    try:
        found = find_rule(target)
    except UnknownRuleError as exc:
        raise usage_error(str(exc)) from None
    return _output(f"# {found.code} {found.name}\n\nDefault severity: {found.severity.value}\n\n{found.summary}.\n\n"
                   f"{found.body}")


@app.command(context_settings=CONTEXT)
def rules() -> int:
    """List all rules."""
    from lora_lint.registry import all_rules

    listed = all_rules().values()
    width = max(len(rule.name) for rule in listed)
    return _output("".join(f"{rule.code}  {rule.name:<{width}}  {rule.severity.value:<7}  {rule.summary}\n"
                           for rule in listed))


@app.command(context_settings=CONTEXT, short_help="Print a model's modules and the names to target.")
@click.argument("model")
@option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
        group=OUTPUT, help="json prints the inventory.")
@option("--offline", is_flag=True, group=MODEL, help="Never download config.json from the Hub.")
@option("--cache-dir", type=click.Path(path_type=Path), metavar="DIR", group=MODEL,
        help="Where built model inventories are cached.")
@option("--no-cache", is_flag=True, group=MODEL, help="Build without the on-disk cache.")
@option("--trust-remote-code", is_flag=True, group=MODEL,
        help="Allow running the model repository's own code to build its skeleton.")
def modules(model: str, output_format: str, offline: bool, cache_dir: Path | None, no_cache: bool,
            trust_remote_code: bool) -> int:
    """Print a model's modules and the names to target (MODEL: an id, alias, local directory or config.json)."""
    import json

    from lora_lint.matcher import match
    from lora_lint.model.resolve import choose_model_class, get_inventory, resolve_model
    from lora_lint.modules_view import render
    from lora_lint.peft_schema import peft_knowledge

    from lora_lint.model.offline import offline_in_environment, offline_mode

    with offline_mode(offline or offline_in_environment()):  # for the whole run: nothing may connect
        resolved = resolve_model(model, offline=offline)
        if not resolved.resolved:
            raise CommandError(f"cannot resolve model `{model}`; tried: " + "; ".join(resolved.tried))
        result = get_inventory(resolved, choose_model_class(resolved.config), cache_dir=cache_dir,
                               use_cache=not no_cache, trust_remote_code=trust_remote_code)
    if result.inventory is None:
        raise CommandError(f"cannot build the skeleton of `{model}`: {result.failure}")
    if output_format == "json":
        return _output(json.dumps(result.inventory, indent=1) + "\n")
    all_linear = match(result.inventory, {"target_modules": "all-linear"}, str(peft_knowledge().version)).targets
    return _output(render(resolved.model_id, result.inventory, all_linear, result.notes))


@app.command(context_settings=CONTEXT, short_help="List the bundled catalogue of base models.")
@option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
        group=OUTPUT, help="json: one object per model.")
def models(output_format: str) -> int:
    """List the catalogued base models (ids, aliases, classes, layers): lora-lint checks configs for them without
    torch, transformers or a download."""
    from lora_lint.models_view import catalogue, render

    rows = catalogue()
    if output_format == "json":
        import json

        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(render(rows), nl=False)
    return EXIT_CLEAN


@app.command(context_settings=CONTEXT, short_help="Print the JSON Schema of a dialect's LoRA config.")
@option("--dialect", type=DialectChoice(), required=True, group=OUTPUT, help="The file layout to describe.")
@option("--peft-version", metavar="VERSION", callback=_peft_version, group=MODEL,
        help="The PEFT release whose LoraConfig fields to allow (default: the installed one).")
def schema(dialect: str, peft_version: str | None) -> int:
    """Print a JSON Schema (draft-07) for a dialect's LoRA config, for editors: e.g. a first line
    `# yaml-language-server: $schema=lora-llmtune.json` in the config, after
    `lora-lint schema --dialect llmtune > lora-llmtune.json`."""
    import json

    from lora_lint.json_schema import dialect_schema
    from lora_lint.peft_schema import peft_knowledge

    click.echo(json.dumps(dialect_schema(dialect, peft_knowledge(peft_version)), indent=2))
    return EXIT_CLEAN


@app.command(context_settings=CONTEXT, short_help="Print a shell completion script.")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the shell completion script, e.g. `eval "$(lora-lint completion bash)"` in ~/.bashrc."""
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)(app, {}, "lora-lint", "_LORA_LINT_COMPLETE")
    click.echo(completer.source())
    return EXIT_CLEAN


def _output(text: str) -> int:
    """Print a command's output; one that cannot be written (a full disk, a closed stdout) is exit 2."""
    from lora_lint.output import write_stdout

    return EXIT_CLEAN if write_stdout(text) else EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (in-process callers and the console script alike)."""
    try:
        code = app.main(args=argv, prog_name="lora-lint", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    return EXIT_CLEAN if code is None else code


if __name__ == "__main__":
    sys.exit(main())
