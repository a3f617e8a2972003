"""The Typer application: global options, command registration, error rendering."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from asciihub.errors import AsciihubError

app = typer.Typer(
    name="asciihub",
    help="asciihub: make, keep, share and export ASCII art and animations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class CliState:
    """Global options, given to every command through ``ctx.obj``."""

    config: str | None = None
    data_dir: str | None = None
    debug: bool = False

    def settings(self, **overrides: Any) -> Any:
        """Load Settings from the config file, the environment and these flags."""
        from asciihub.settings import load_settings

        merged = {"data_dir": self.data_dir, **overrides}
        return load_settings(config_file=self.config, overrides=merged)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option("--config", envvar="ASCIIHUB_CONFIG", help="TOML settings file."),
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option("--data-dir", help="Data directory (default $ASCIIHUB_DATA_DIR or ./data)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    ctx.obj = CliState(config=config, data_dir=data_dir, debug=debug)


def state(ctx: typer.Context) -> CliState:
    """The global options of this invocation."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


# Each module adds its commands to ``app`` when imported. Only the module of the
# command being run is imported, so `asciihub convert` does not pay for the web stack.
COMMAND_MODULES = {
    "serve": "serve",
    "convert": "engine",
    "banner": "engine",
    "generate": "engine",
    "fonts": "engine",
    "styles": "engine",
    "artworks": "artworks",
    "export": "exports",
    "queue": "queue",
    "worker": "worker",
    "user": "users",
    "token": "users",
    "migrate": "maintenance",
    "migrate-data": "maintenance",
    "fsck": "maintenance",
    "backup": "backup",
    "restore": "backup",
    "import": "imports",
    "export-all": "imports",
}
_VALUE_OPTIONS = ("--config", "--data-dir")


def _command_name(argv: list[str]) -> str | None:
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _register(argv: list[str]) -> None:
    import importlib

    name = _command_name(argv)
    wanted = [COMMAND_MODULES[name]] if name in COMMAND_MODULES else set(COMMAND_MODULES.values())
    for module in sorted(wanted):
        importlib.import_module(f"asciihub.cli.{module}")


def run() -> None:
    """Run the CLI; render asciihub errors as one line and exit non-zero."""
    _register(sys.argv[1:])
    debug = "--debug" in sys.argv
    try:
        code = app(standalone_mode=False)
    except AsciihubError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(2 if exc.status < 500 else 1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # the adapter's top: anything else is a bug, said in one line
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        if isinstance(exc, ModuleNotFoundError):  # an optional driver: name the extra
            from asciihub.bootstrap import missing_driver

            translated = missing_driver(exc)
            if translated is not None:
                typer.echo(f"error: {translated.message}", err=True)
                sys.exit(1)
        typer.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True)
        sys.exit(1)
    # With standalone_mode off, click returns the code of a `typer.Exit` instead.
    if isinstance(code, int) and code:
        sys.exit(code)
