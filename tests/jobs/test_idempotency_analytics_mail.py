"""Idempotency-Key, conversion uploads, analytics roll-ups and e-mail delivery."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from asciihub.errors import InvalidInput, TooLarge
from asciihub.services.analytics import check_data_point
from asciihub.services.mailer import Mail, SmtpMailer, parse_smtp_url
from tests.conftest import free_port
from tests.jobs.conftest import eventually, wait_job
from tests.users import bearer, token

ARTWORK = {"title": "once", "visibility": "private", "frames": [{"text": "ab\ncd"}]}


async def test_idempotency_key_gives_the_same_answer_once(jobs_client: Any) -> None:
    headers = {"Idempotency-Key": "create-1"}
    first = await jobs_client.post("/api/artworks", json=ARTWORK, headers=headers)
    second = await jobs_client.post("/api/artworks", json=ARTWORK, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    other = await jobs_client.post(
        "/api/artworks", json={**ARTWORK, "title": "twice"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    fresh = await jobs_client.post("/api/artworks", json=ARTWORK, headers={"Idempotency-Key": "2"})
    assert fresh.json()["id"] != first.json()["id"]
    mine = await jobs_client.get(f"/api/users/{jobs_client.user['handle']}/artworks")
    assert len(mine.json()["items"]) == 2


async def test_a_failed_request_frees_its_idempotency_key(jobs_client: Any) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    bad = await jobs_client.post("/api/artworks", json={"frames": []}, headers=headers)
    assert bad.status_code == 400
    good = await jobs_client.post("/api/artworks", json={"frames": []} | ARTWORK, headers=headers)
    assert good.status_code == 201, good.text


def _png(width: int = 64, height: int = 32) -> bytes:
    image = Image.new("RGB", (width, height))
    for x in range(width):
        image.putpixel((x, height // 2), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_convert_uploads_then_makes_an_artwork(jobs_client: Any) -> None:
    files = {"file": ("picture.png", _png(), "image/png")}
    response = await jobs_client.post(
        "/api/convert", files=files, data={"width": "20", "style": "simple"}
    )
    assert response.status_code == 202, response.text
    job = await wait_job(jobs_client, response.json()["job_id"])
    assert job["status"] == "done", job
    artwork = (await jobs_client.get(f"/api/artworks/{job['artwork_id']}")).json()
    assert artwork["width"] == 20
    row = await jobs_client.services.background.jobs.repo.get(job["id"])

    async def upload_dropped() -> bool:  # dropped just after the job is marked done
        return await jobs_client.services.objects.get(row.params["media_key"]) is None

    await eventually(upload_dropped)


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"<svg onload=alert(1)></svg>", 415, "unsupported_upload"),
        (b"", 400, "empty_upload"),
    ],
)
async def test_convert_refuses_what_it_cannot_read(
    jobs_client: Any, content: bytes, status: int, code: str
) -> None:
    files = {"file": ("x.png", content, "image/png")}
    response = await jobs_client.post("/api/convert", files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_convert_needs_multipart(jobs_client: Any) -> None:
    response = await jobs_client.post("/api/convert", json={"file": "x"})
    assert response.status_code == 415


def test_data_points_follow_analytics_engine_limits() -> None:
    point = check_data_point("d", ["a"] * 20, [1.0] * 20, ["u"])
    assert len(point.blobs) == 20
    with pytest.raises(InvalidInput):
        check_data_point("d", ["a"] * 21, [], ["u"])
    with pytest.raises(InvalidInput):
        check_data_point("d", [], [], ["u", "v"])
    with pytest.raises(InvalidInput):
        check_data_point("d", [], [], [])
    with pytest.raises(TooLarge):
        check_data_point("d", [], [], ["x" * 97])
    with pytest.raises(TooLarge):
        check_data_point("d", ["x" * 17000], [], ["u"])
    with pytest.raises(InvalidInput):
        check_data_point("d", [], [float("nan")], ["u"])


async def test_usage_and_popular_roll_up_through_the_queue(jobs_client: Any) -> None:
    secret = await token(jobs_client)
    prompt = {"prompt": "snow secret", "frames": 3, "width": 20, "height": 5, "style": "simple"}
    public = {**prompt, "prompt": "fire public", "visibility": "public", "style": "blocks"}
    private_job = await jobs_client.post("/api/generate", json=prompt, headers=bearer(secret))
    public_job = await jobs_client.post("/api/generate", json=public)
    await wait_job(jobs_client, private_job.json()["job_id"])
    await wait_job(jobs_client, public_job.json()["job_id"])

    async def usage() -> Any:
        body = (await jobs_client.get("/api/analytics/usage?days=7")).json()
        days = body["per_day"]
        return body if days and days[0]["generations"] == 2 and days[0]["api_calls"] else None

    body = await eventually(usage)
    assert body["per_day"][0]["frames"] == 6
    by_token = {row["token_id"]: row for row in body["per_token"]}
    assert any(tid and row["generations"] == 1 for tid, row in by_token.items())
    popular = (await jobs_client.get("/api/analytics/popular?days=7")).json()
    assert {s["style"] for s in popular["styles"]} >= {"simple", "blocks"}
    prompts = [p["prompt"] for p in popular["prompts"]]
    assert "fire public" in prompts
    assert "snow secret" not in prompts
    bad = await jobs_client.get("/api/analytics/usage?days=1000")
    assert bad.status_code == 400


async def test_emails_go_to_the_outbox_without_smtp(jobs_client: Any) -> None:
    notifications = jobs_client.services.background.notifications
    mail_id = await notifications.artwork_shared(
        "friend@example.org", artwork_title="Cat", share_url="http://x/s/t", from_handle="me"
    )
    outbox = Path(jobs_client.services.settings.data_path) / "outbox" / f"{mail_id}.eml"
    await eventually(lambda: asyncio.to_thread(outbox.exists))
    text = outbox.read_text()
    assert "To: friend@example.org" in text
    assert "http://x/s/t" in text


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    """A real SMTP server (aiosmtpd) on a free port; yields the port and what it got."""
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


async def test_smtp_delivery_to_a_real_server_once(
    tmp_path: Path, smtp_server: tuple[int, list[Any]]
) -> None:
    port, received = smtp_server
    mailer = SmtpMailer(
        parse_smtp_url(f"smtp://127.0.0.1:{port}"), "asciihub <a@example.org>", tmp_path
    )
    mail = Mail("export-abc", "user@example.org", "Your export is ready", "Get it here")
    assert await mailer.send(mail) is True
    assert await mailer.send(mail) is False
    assert len(received) == 1
    assert received[0].rcpt_tos == ["user@example.org"]
    assert b"Message-ID: <export-abc@example.org>" in received[0].content


async def test_smtp_down_is_a_retry_not_a_failure(tmp_path: Path) -> None:
    from asciihub.errors import Unavailable

    mailer = SmtpMailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), "a@b.org", tmp_path)
    with pytest.raises(Unavailable):
        await mailer.send(Mail("m1", "user@example.org", "s", "t"))


async def test_sharing_with_an_address_mails_the_link(
    embedded_settings: Any, smtp_server: tuple[int, list[Any]]
) -> None:
    """POST .../shares {"email"}: a real SMTP server receives the link; the link works."""
    import httpx

    from tests.jobs.conftest import fast, open_client
    from tests.users import signup

    port, received = smtp_server
    settings = fast(embedded_settings, smtp_url=f"smtp://127.0.0.1:{port}")
    app, transport = await open_client(settings)
    async with (
        app.starlette.router.lifespan_context(app.starlette),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        owner = await signup(http)
        art = (await http.post("/api/artworks", json={**ARTWORK, "title": "Cat"})).json()
        shares = f"/api/artworks/{art['id']}/shares"
        bad = await http.post(shares, json={"email": "not an address"})
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_email")
        assert (await http.get(shares)).json()["items"] == []
        created = await http.post(shares, json={"email": "friend@example.org"})
        assert created.status_code == 201, created.text
        assert created.json()["emailed"] is True
        plain = (await http.post(shares, json={})).json()
        assert "emailed" not in plain
        await eventually(lambda: asyncio.sleep(0, result=received))
        token = created.json()["token"]
        opened = await http.get(f"/api/shares/{token}")
        assert opened.status_code == 200
    [mail] = received
    assert mail.rcpt_tos == ["friend@example.org"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert message["Subject"] == f"{owner['handle']} shared an artwork with you"
    text = message.get_content()
    assert text.split()[-1].endswith(f"/s/{token}")  # the whole token, unbroken
    assert "Cat" in text


async def test_a_mailed_share_link_never_sits_on_the_queue(data_dir: Path) -> None:
    """The queue (file or stream, dead letters included) holds the share id, not the token."""
    import orjson

    from asciihub.bootstrap import build_services
    from asciihub.services.principals import LOCAL
    from tests.stack import make_settings

    built = await build_services(make_settings(data_dir))
    try:
        art = await built.artworks.create(LOCAL, {"title": "Cat", "frames": [{"text": "x"}]})
        created = await built.auth.shares.create(
            LOCAL, art["id"], {"email": "friend@example.org", "expires_in": 3600}
        )
        token = created["token"]
        [message] = await built.background.queue.receive("email", max_messages=10)
        raw = orjson.dumps(message.body)
        assert token.encode() not in raw
        assert message.body["share_id"] == created["id"]
        assert await built.background.notifications.deliver(message.body) is True
        outbox = Path(built.settings.data_path) / "outbox" / f"{message.body['id']}.eml"
        sent = email.message_from_bytes(outbox.read_bytes(), policy=email.policy.default)
        assert sent.get_content().split()[-1].endswith(f"/s/{token}")
        # Delivered again (the ack was lost): nothing more is sent and no token is left.
        assert await built.background.notifications.deliver(message.body) is False
        assert await built.kv.get(f"share-mail:{created['id']}") is None
    finally:
        await built.close()
