"""Every id generator follows the one rule of services/ids.py."""

from __future__ import annotations

from asciihub.services.ids import derived_id, is_valid_id
from asciihub.services.jobs import artwork_id_for


def test_job_artwork_id_never_starts_with_a_dash() -> None:
    # "job57" is a job id whose plain digest begins with "-" (a CLI option to Typer).
    artwork_id = artwork_id_for("job57")
    assert not artwork_id.startswith("-")
    assert is_valid_id(artwork_id)
    assert artwork_id_for("job57") == artwork_id  # the same on every delivery


def test_derived_ids_are_stable_and_usable() -> None:
    seen = {derived_id(f"seed-{n}") for n in range(2000)}
    assert len(seen) == 2000
    assert all(is_valid_id(value) and not value.startswith("-") for value in seen)
    assert derived_id("seed-1") == derived_id("seed-1")
