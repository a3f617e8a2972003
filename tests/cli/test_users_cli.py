"""``asciihub user create`` and ``asciihub token create``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_artworks_cli import cli


def test_user_and_token_create(data_dir: Path) -> None:
    created = cli(
        data_dir, "user", "create", "carol", "--password-stdin", stdin="a long cli passphrase\n"
    )
    assert created.returncode == 0, created.stderr
    assert "created user carol" in created.stdout
    weak = cli(data_dir, "user", "create", "dave", stdin="password123\n")
    assert weak.returncode != 0 and "too common" in weak.stderr
    taken = cli(data_dir, "user", "create", "carol", stdin="another long passphrase\n")
    assert taken.returncode != 0 and "taken" in taken.stderr
    issued = cli(data_dir, "token", "create", "carol", "--name", "ci", "--scope", "read")
    assert issued.returncode == 0, issued.stderr
    secret = issued.stdout.strip()
    assert secret.startswith("ah_") and len(secret) == 46
    missing = cli(data_dir, "token", "create", "nobody-here")
    assert missing.returncode != 0 and "no user" in missing.stderr
