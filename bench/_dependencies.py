"""Private dependency processes for fault runs: Redis, a PostgreSQL cluster, moto, asciihub.

Each server here is started on a free port in a directory of its own, so a run may
kill it without touching the machine's shared services.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from bench._tools import ROOT, free_port, stop_process


class MissingBinary(RuntimeError):
    """A server binary the run needs is not installed."""


def wait_for_port(
    port: int, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll until something accepts on 127.0.0.1:port, or raise after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def redis_binary() -> str:
    """The path of ``redis-server``; MissingBinary if it is not installed."""
    found = shutil.which("redis-server")
    if not found:
        raise MissingBinary("redis-server is not installed (apt-get install redis-server)")
    return found


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin`` holding pg_ctl; MissingBinary if none."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise MissingBinary("pg_ctl is not installed (apt-get install postgresql)")


class RedisServer:
    """A private ``redis-server`` with AOF (everysec) that can be killed and restarted."""

    def __init__(self, root: Path) -> None:
        self.binary = redis_binary()
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on the same port and directory as before; return once it accepts."""
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--daemonize", "no", "--protected-mode", "no",
        ]  # fmt: skip
        with (self.dir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        self._wait_loaded()

    def _wait_loaded(self, timeout: float = 30.0) -> None:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.exceptions.BusyLoadingError:
                    pass
                time.sleep(0.05)
        finally:
            client.close()
        raise TimeoutError(f"redis on {self.port} still loading after {timeout}s")

    def kill(self) -> None:
        """``kill -9``, then reap it."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def wipe(self) -> None:
        """Delete the AOF and every other file: the next start comes up empty."""
        for path in self.dir.iterdir():
            if path.name == "redis.log":
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def aof_delayed_fsync(self) -> int:
        """``aof_delayed_fsync`` from ``INFO persistence`` (since this server started)."""
        import redis

        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            return int(client.info("persistence").get("aof_delayed_fsync", 0))
        finally:
            client.close()

    def stop(self) -> None:
        """Stop for good."""
        stop_process(self.proc)


class PostgresCluster:
    """A private PostgreSQL cluster (initdb, trust auth) on a free port."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        # A directory of its own under the system temp dir: when run as root, the
        # postgres user must reach it, which a private pytest tmp_path does not allow.
        self.dir = Path(tempfile.mkdtemp(prefix="asciihub-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.database = "asciihub"
        self.as_root = os.geteuid() == 0
        if self.as_root:  # PostgreSQL refuses to run as root: hand the directory over
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def dsn(self) -> str:
        """The URL of the product's database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, timeout=120)

    def init(self) -> None:
        """initdb, start, and create the product's database."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
            "-c", f'CREATE DATABASE "{self.database}"',
        )  # fmt: skip

    def start(self) -> None:
        """``pg_ctl start``, returning once it accepts connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        log = str(self.dir / "postgres.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: no shutdown checkpoint, crash recovery at start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        """Stop for good (fast shutdown) and remove the cluster."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class MotoServer:
    """moto in server mode: an S3 API on a free port."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.log = root / "moto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until it listens."""
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        """Stop it."""
        stop_process(self.proc)


class AsciihubProcess:
    """One ``asciihub serve`` or ``asciihub worker`` subprocess, restartable."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.command = [sys.executable, "-m", "asciihub", *args]
        self.env = {**os.environ, **env}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._offset = 0

    def start(self) -> None:
        """Launch it (returns at once; wait for readiness separately)."""
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1

    @property
    def is_alive(self) -> bool:
        """Whether the process is still running."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """``kill -9``, then reap it."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP: it holds its connections but does nothing until :meth:`resume`."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period (resumed first if paused)."""
        if self.is_alive:
            self.resume()
        stop_process(self.proc, timeout=20)

    def wait_for_output(self, text: str, *, timeout: float = 60.0) -> None:
        """Poll the log until ``text`` appears in what this start wrote, or raise."""
        start = self._offset
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_alive:
                raise RuntimeError(f"{' '.join(self.command[2:])} exited:\n{self.tail()}")
            with self.log.open("rb") as log:
                log.seek(start)
                if text.encode() in log.read():
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{text!r} not in {self.log} within {timeout}s\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        """The end of its log, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_healthy(base: str, *, timeout: float = 60.0, proc: AsciihubProcess | None = None) -> None:
    """Poll ``/healthz`` until it answers 200, or raise."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.is_alive:
            raise RuntimeError(f"{' '.join(proc.command[2:])} exited:\n{proc.tail()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    tail = proc.tail() if proc is not None else ""
    raise TimeoutError(f"{base}/healthz not 200 within {timeout}s\n{tail}")
