"""Start-up problems are one line on stderr and a non-zero exit (issue 9, defect 21).

A missing optional driver is simulated by a package on ``PYTHONPATH`` that fails to
import the way an absent one does; Redis without AOF is the test Redis itself (its
AOF is off unless the machine turned it on, then those cases skip).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench._tools import free_port

from tests.stack import new_bucket_name

COMMANDS = {
    "serve": ["serve", "--port", "0"],
    "serve-workers": ["serve", "--workers", "2", "--port", "{port}"],
    "worker": ["worker"],
    "migrate": ["migrate"],
    "fsck": ["fsck"],
}


def _run(args: list[str], env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    args = [arg.replace("{port}", str(free_port())) for arg in args]
    full = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir), "ASCIIHUB_LOG_LEVEL": "warning"}
    return subprocess.run(
        [sys.executable, "-m", "asciihub", *args],
        env={**full, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output and "Unclosed" not in output, output
    assert len(output.splitlines()) == 1, output
    for needle in needles:
        assert needle in output, output


@pytest.fixture
def no_asyncpg(tmp_path: Path) -> dict[str, str]:
    shadow = tmp_path / "shadow" / "asyncpg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'asyncpg'\", name='asyncpg')\n"
    )
    return {
        "PYTHONPATH": os.pathsep.join(
            item for item in (str(shadow.parent), os.environ.get("PYTHONPATH")) if item
        ),
        "ASCIIHUB_METADATA_URL": "postgresql://nobody@127.0.0.1:5432/nothing",
    }


@pytest.mark.parametrize("command", list(COMMANDS))
def test_missing_asyncpg_names_the_extra(
    command: str, no_asyncpg: dict[str, str], data_dir: Path
) -> None:
    result = _run(COMMANDS[command], no_asyncpg, data_dir)
    _one_line(result, "asyncpg", "pip install 'asciihub[postgres]'")


def _redis_without_aof(redis_url: str) -> str:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        if client.config_get("appendonly").get("appendonly") == "yes":
            pytest.skip("the test Redis has AOF on; nothing to refuse")
    finally:
        client.close()
    return redis_url


@pytest.mark.parametrize("command", ["serve", "serve-workers", "worker"])
def test_redis_queue_without_aof_is_one_line(
    command: str, redis_url: str, s3_env: dict[str, str], data_dir: Path
) -> None:
    # S3 objects open first (aiobotocore's HTTP session), then the queue is refused:
    # what was opened is closed again, so nothing warns about an unclosed session.
    env = {
        **s3_env,
        "ASCIIHUB_QUEUE_URL": _redis_without_aof(redis_url),
        "ASCIIHUB_OBJECTS_URL": f"s3://{new_bucket_name()}",
        "ASCIIHUB_OBJECTS_S3_CREATE_BUCKET": "true",
    }
    result = _run(COMMANDS[command], env, data_dir)
    _one_line(result, "appendonly", "accept_queue_loss")
