"""The ``asciihub`` command line (Typer with Rich), one module per command group.

Heavy imports (the web stack, SQLAlchemy, numpy) happen inside commands, so that
``asciihub convert`` starts fast.
"""


def main() -> None:
    """Console-script entry point.

    numpy's OpenBLAS starts a thread per core when it loads (tens of milliseconds on a
    busy machine) and the engine's products stay on one thread anyway (see
    ``asciihub.engine.matmul``), so one BLAS thread is the default; the environment
    variable, when set, wins.
    """
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from asciihub.cli.app import run

    run()
