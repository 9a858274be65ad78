"""The ``clvmodels`` command line (click): entry point ``clvmodels.cli.main:main``.

Exit codes: 0 success; 1 bad input or settings (the :class:`~clvmodels.errors.ClvError` message
on stderr, in the command line's words: one line, or a headline and one line per problem when
there are several); 1 also for a file DuckDB or pyarrow cannot read, should one escape the data
layer's checks (one line naming the file and the problem); 2 wrong usage (click's message); 3 an
unexpected error, i.e. a bug (one line; ``--verbose`` shows the traceback); 130 interrupted.
Details (the chained cause, the traceback) appear only with ``--verbose``.

Only click and the standard library load before a command runs, so ``clvmodels --help`` is fast;
each command imports what it needs (pandas, the models) when it runs.
"""

from __future__ import annotations

import sys
import traceback

import click

from clvmodels.cli import cmd_data, cmd_export, cmd_models, cmd_run, cmd_subscriptions
from clvmodels.cli.failures import cli_words, error_lines, one_line
from clvmodels.cli.options import verbosity

EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 130


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="clvmodels", prog_name="clvmodels")
@verbosity
def cli():
    """Customer lifetime value: summarise transactions, fit a purchase model (BG/NBD by default;
    --purchase-model pnbd or mbgnbd) and Gamma-Gamma, score customers, pick win-back targets and
    export the scores to a CRM (CSV, Parquet, SQL).

    Try `clvmodels demo` for the whole pipeline on the bundled CDNOW data.
    """


for command in (cmd_run.demo, cmd_run.run, cmd_data.summarise, cmd_models.fit, cmd_models.score,
                cmd_models.targets, cmd_subscriptions.subscriptions, cmd_export.export,
                cmd_export.schema):
    cli.add_command(command)


def _fail(message: str, code: int, verbose: bool) -> int:
    if verbose:
        traceback.print_exc()
    for i, line in enumerate(error_lines(cli_words(message))):
        click.echo(f"clvmodels: error: {line}" if i == 0 else line, err=True)
    return code


def _read_failure(exc: BaseException) -> str | None:
    """One line for a DuckDB/pyarrow read error (in ``exc`` or its causes), else None."""
    from clvmodels._read_errors import file_named_in, find_read_error, read_problem

    cause = find_read_error(exc)
    if cause is None:
        return None
    where = file_named_in(cause)
    return f"cannot read {repr(where) if where else 'the input'}: {read_problem(cause)}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    from clvmodels import progress
    from clvmodels.errors import ClvError

    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = "-v" in argv or "--verbose" in argv
    try:
        with progress.progress_mode(progress.mode()):  # the command's --quiet lasts for its run only
            cli.main(args=argv, prog_name="clvmodels", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("clvmodels: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:  # wrong usage: click's message, on one line like every error
        hint = f" (see: {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
        click.echo(f"clvmodels: error: {one_line(exc.format_message())}{hint}", err=True)
        return exc.exit_code
    except ClvError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT, verbose)
    except OSError as exc:  # unreadable input, full disk, refused connection
        return _fail(str(exc), EXIT_BAD_INPUT, verbose)
    except KeyboardInterrupt:
        click.echo("clvmodels: interrupted", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback with --verbose
        unreadable = _read_failure(exc)
        if unreadable:  # a bad file the data layer did not catch is still bad input, not a bug
            return _fail(unreadable, EXIT_BAD_INPUT, verbose)
        hint = "" if verbose else " (run with --verbose for the traceback)"
        return _fail(f"internal error: {type(exc).__name__}: {one_line(exc)}{hint}", EXIT_INTERNAL, verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
