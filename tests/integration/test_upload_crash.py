"""R5(a), CI-sized: uploads to a real ``asciihub serve``, kill -9 at a random moment,
restart, one GC run, then count. The same code as ``python -m bench uploads-crash``.

The seed (and so the kill moment) is random per run and named in any failure; repeat
one with ``python -m bench uploads-crash --uploads=40 --min-mb=0.2 --max-mb=3 --seed=N``.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest
from bench.uploads_crash import MIB, CrashPlan, CrashResult, run_crash, table_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

PLAN = CrashPlan(uploads=40, min_bytes=MIB // 5, max_bytes=3 * MIB, users=2)


def _check(result: CrashResult, plan: CrashPlan) -> None:
    figures = "\n".join("  ".join(row) for row in table_rows([result], plan))
    audit = result.audit
    detail = (
        f"seed {plan.seed}, kill at p={result.kill_at:.2f}\n{figures}\n"
        f"lost {audit.acked_lost[:5]} missing {audit.rows_missing_object[:5]} "
        f"differs {audit.rows_object_differs[:5]} orphans {audit.orphan_objects[:5]} "
        f"temp {audit.temp_files[:5]}\nGC: {result.gc_output}\nrecheck: {result.recheck_output}"
    )
    assert result.restarted_ok, detail
    assert audit.acked_lost == [], detail
    assert audit.rows_missing_object == [], detail
    assert audit.rows_object_differs == [], detail
    assert audit.orphan_objects == [], detail
    assert audit.temp_files == [], detail
    assert result.recheck_ok, detail
    assert result.violations == 0, detail


def test_crash_during_uploads_leaves_nothing_behind_files(tmp_path: Path) -> None:
    plan = CrashPlan(**{**PLAN.__dict__, "seed": secrets.randbelow(2**31)})
    _check(run_crash(plan, tmp_path), plan)


def test_crash_during_uploads_leaves_nothing_behind_s3(
    tmp_path: Path, s3_env: dict[str, str]
) -> None:
    import boto3

    bucket = f"r5-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL_S3"]).create_bucket(Bucket=bucket)
    plan = CrashPlan(**{**PLAN.__dict__, "seed": secrets.randbelow(2**31)})
    _check(run_crash(plan, tmp_path, f"s3://{bucket}"), plan)
