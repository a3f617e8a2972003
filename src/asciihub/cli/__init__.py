"""The ``asciihub`` command line (Typer with Rich), one module per command group.

Heavy imports (the web stack, SQLAlchemy, numpy) happen inside commands, so that
``asciihub convert`` starts fast.
"""


def main() -> None:
    """Console-script entry point."""
    from asciihub.cli.app import run

    run()
