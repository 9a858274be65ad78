"""The ``clvmodels`` command line (click): entry point ``clvmodels.cli.main:main``.

Exit codes: 0 success; 1 bad input or settings (one line on stderr: the
:class:`~clvmodels.errors.ClvError` message); 2 wrong usage (click's message); 3 an unexpected
error (one line; ``--verbose`` shows the traceback); 130 interrupted.

Only click and the standard library load before a command runs, so ``clvmodels --help`` is fast;
each command imports what it needs (pandas, the models) when it runs.
"""

from __future__ import annotations

import sys
import traceback

import click

from clvmodels.cli import cmd_data, cmd_export, cmd_models, cmd_run
from clvmodels.cli.options import verbosity
from clvmodels.cli.progress import one_line

EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 130


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="clvmodels", prog_name="clvmodels")
@verbosity
def cli():
    """Customer lifetime value: summarise transactions, fit BG/NBD and Gamma-Gamma, score customers,
    pick win-back targets and export the scores to a CRM (CSV, Parquet, SQL).

    Try `clvmodels demo` for the whole pipeline on the bundled CDNOW data.
    """


for command in (cmd_run.demo, cmd_run.run, cmd_data.summarise, cmd_models.fit, cmd_models.score,
                cmd_models.targets, cmd_export.export, cmd_export.schema):
    cli.add_command(command)


def _fail(message: str, code: int, verbose: bool) -> int:
    if verbose:
        traceback.print_exc()
    click.echo(f"clvmodels: error: {one_line(message)}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    from clvmodels.errors import ClvError

    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = "-v" in argv or "--verbose" in argv
    try:
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
        hint = "" if verbose else " (run with --verbose for the traceback)"
        return _fail(f"internal error: {type(exc).__name__}: {exc}{hint}", EXIT_INTERNAL, verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
