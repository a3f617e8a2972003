"""The probes of issue 9, one function per defect, each returning what it saw."""

from __future__ import annotations

import base64
import concurrent.futures
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

PASSWORD = "probe password that is long enough"


@dataclass(frozen=True)
class Target:
    """The server under probe."""

    base: str
    data_dir: Path

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.base.removeprefix("http://").split(":")
        return host, int(port)


@dataclass(frozen=True)
class Result:
    """What one probe saw."""

    got: str
    passed: bool
    skipped: bool = False


@dataclass(frozen=True)
class Probe:
    """One row of the table."""

    defect: str
    name: str
    expected: str
    run: Callable[[Target], Result]


PROBES: list[Probe] = []


def probe(
    defect: str, name: str, expected: str
) -> Callable[[Callable[[Target], Result]], Callable[[Target], Result]]:
    """Register a probe."""

    def register(func: Callable[[Target], Result]) -> Callable[[Target], Result]:
        PROBES.append(Probe(defect, name, expected, func))
        return func

    return register


class UserClient(httpx.Client):
    """A client logged in as ``handle``."""

    handle: str = ""


def _user(target: Target) -> UserClient:
    """A new client logged in as a new user (with the site's Origin)."""
    http = UserClient(base_url=target.base, headers={"Origin": target.base}, timeout=30)
    http.handle = f"probe-{secrets.token_hex(4)}"
    signup = {"handle": http.handle, "password": PASSWORD}
    http.post("/api/auth/signup", json=signup).raise_for_status()
    return http


def _token(http: httpx.Client, scopes: tuple[str, ...] = ("read", "write")) -> str:
    answer = http.post("/api/tokens", json={"name": "probe", "scopes": list(scopes)})
    answer.raise_for_status()
    return str(answer.json()["token"])


def _artwork(http: httpx.Client, text: str = "probe", visibility: str = "public") -> str:
    answer = http.post("/api/artworks", json={"frames": [{"text": text}], "visibility": visibility})
    answer.raise_for_status()
    return str(answer.json()["id"])


def _close_seconds(target: Target, payload: bytes, limit: float = 15.0) -> tuple[float, bytes]:
    """Send ``payload`` and wait for the server to close: (seconds, what it answered)."""
    with socket.create_connection(target.address) as sock:
        sock.sendall(payload)
        started = time.monotonic()
        received = b""
        sock.settimeout(limit)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return time.monotonic() - started, received


def _statuses(responses: list[httpx.Response]) -> str:
    counts: dict[int, int] = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return " ".join(f"{n}x{code}" for code, n in sorted(counts.items()))


@probe("1", "malformed Origin / Host on /api/auth/login", "JSON 403, security headers")
def malformed_origin(target: Target) -> Result:
    seen = []
    with httpx.Client(base_url=target.base) as http:
        for header in (
            {"Origin": "http://127.0.0.1:99999"},
            {"Origin": "http://["},
            {"Origin": "http://127.0.0.1:abc"},
            {"Host": "["},
        ):
            answer = http.post("/api/auth/login", json={}, headers=header)
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            secured = "x-content-type-options" in answer.headers
            seen.append((answer.status_code, is_json and secured))
    ok = all(status in (400, 403) and good for status, good in seen)
    return Result(" ".join(f"{s}{'' if g else '(plain)'}" for s, g in seen), ok)


@probe("2", "new X-Forwarded-For per request, anonymous reads", "429 once the IP's budget is spent")
def forwarded_for(target: Target) -> Result:
    with httpx.Client(base_url=target.base) as http:
        codes = []
        for index in range(300):
            answer = http.get(
                "/api/gallery", headers={"X-Forwarded-For": f"10.9.{index // 250}.{index % 250}"}
            )
            codes.append(answer)
            if answer.status_code == 429:
                break
    _wait_retry(codes[-1])
    return Result(_statuses(codes), codes[-1].status_code == 429)


def _wait_retry(answer: httpx.Response) -> None:
    if answer.status_code == 429:
        time.sleep(int(answer.headers.get("retry-after", "1")))


@probe("3", "40 concurrent wrong passwords, one handle", "429 for all past the 10th")
def login_burst(target: Target) -> Result:
    http = _user(target)
    handle = http.handle
    with httpx.Client(base_url=target.base, headers={"Origin": target.base}, timeout=60) as anon:
        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            answers = list(
                pool.map(
                    lambda i: anon.post(
                        "/api/auth/login", json={"handle": handle, "password": f"wrong {i}"}
                    ),
                    range(40),
                )
            )
    refused = sum(a.status_code == 429 for a in answers)
    return Result(_statuses(answers), refused >= 29)


@probe("4a", "slow headers (one line, then silence)", "408 and closed within header timeout")
def slow_headers(target: Target) -> Result:
    seconds, answer = _close_seconds(target, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    return Result(
        f"{answer[:12].decode(errors='replace')!r} closed after {seconds:.1f}s",
        answer.startswith(b"HTTP/1.1 408") and seconds < 5,
    )


@probe("4b", "slow body (10 of 100 bytes)", "closed within body timeout")
def slow_body(target: Target) -> Result:
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    seconds, _ = _close_seconds(target, head + b'{"handle":')
    return Result(f"closed after {seconds:.1f}s", seconds < 5)


@probe("4c", "idle connection (no bytes)", "closed within header timeout")
def idle_socket(target: Target) -> Result:
    seconds, _ = _close_seconds(target, b"")
    return Result(f"closed after {seconds:.1f}s", seconds < 5)


@probe("4d", "32 MiB header line", "431, socket closed at the header cap")
def huge_header(target: Target) -> Result:
    sent = 0
    with socket.create_connection(target.address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            while sent < 32 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass
        sock.settimeout(5)
        try:
            answer = sock.recv(200)
        except OSError:
            answer = b""
    status = answer[:12].decode(errors="replace") or "(reset)"
    # ``sent`` counts what the client's kernel took, buffers included; the server reads
    # at most http_max_header_bytes plus one socket read before it answers and closes.
    return Result(
        f"{status!r}, closed after {sent // 1024} KiB sent", answer.startswith(b"HTTP/1.1 431")
    )


@probe("5a", "expensive class, 3 tokens of one user", "429 at the 11th request in all")
def expensive_per_user(target: Target) -> Result:
    http = _user(target)
    tokens = [_token(http) for _ in range(3)]
    answers = []
    with httpx.Client(base_url=target.base) as bare:
        for index in range(12):
            headers = {"Authorization": f"Bearer {tokens[index % 3]}"}
            answers.append(bare.post("/api/generate", json={}, headers=headers))  # 400, counted
    _wait_retry(answers[-1])
    return Result(_statuses(answers), answers[10].status_code == 429)


@probe("5b", "tokens minted in a burst of 60", "at most max_tokens_per_user (50) live")
def token_cap(target: Target) -> Result:
    http = _user(target)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda i: http.post("/api/tokens", json={"name": f"t{i}"}), range(60))
        )
    live = len(http.get("/api/tokens").json()["items"])
    return Result(f"{_statuses(answers)}; {live} live", live <= 50)


@probe("6", 'limit=² / days=5000 digits / frames="²"', "400 each")
def odd_numbers(target: Target) -> Result:
    http = _user(target)
    answers = [
        http.get("/api/gallery", params={"limit": "²"}),
        http.get("/api/analytics/usage", params={"days": "9" * 5000}),
        http.post("/api/generate", json={"prompt": "a cat", "frames": "²"}),
    ]
    return Result(
        " ".join(str(a.status_code) for a in answers), all(a.status_code == 400 for a in answers)
    )


def _cursor(payload: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@probe("7", "crafted cursors on API and HTML listings", "400 each")
def crafted_cursors(target: Target) -> Result:
    http = _user(target)
    cursors = [
        ("popular", _cursor([1, "popular", "2026-01-01T00:00:00+00:00", "A" * 22, 2**63])),
        ("new", _cursor([1, "new", "0001-01-01T00:00:00+23:59", "A" * 22, 0])),
    ]
    codes = []
    for sort, cursor in cursors:
        for path in (
            "/api/gallery",
            f"/api/users/{http.handle}/artworks",
            "/",
            f"/u/{http.handle}",
        ):
            codes.append(http.get(path, params={"sort": sort, "cursor": cursor}).status_code)
    return Result(" ".join(map(str, codes)), all(code == 400 for code in codes))


@probe("8", "avatar PUT/DELETE with a write token", "403 session_required")
def avatar_token(target: Target) -> Result:
    from PIL import Image

    http = _user(target)
    secret = _token(http)
    png = io.BytesIO()
    Image.new("RGB", (16, 16)).save(png, "PNG")
    with httpx.Client(base_url=target.base, headers={"Authorization": f"Bearer {secret}"}) as bare:
        put = bare.put(
            "/api/me/avatar", content=png.getvalue(), headers={"Content-Type": "image/png"}
        )
        delete = bare.delete("/api/me/avatar")
    return Result(
        f"{put.status_code} {delete.status_code}", put.status_code == delete.status_code == 403
    )


@probe("9", "9 MiB body, urllib (Connection: close)", "the JSON 413, no reset")
def oversized_close(target: Target) -> Result:
    request = urllib.request.Request(
        f"{target.base}/api/auth/login",
        data=b"x" * (9 * 1024 * 1024),
        headers={"Content-Type": "application/json", "Origin": target.base},
    )
    try:
        urllib.request.urlopen(request, timeout=20)
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read()
        return Result(f"{exc.code} {body[:40]!r}", exc.code == 413 and b"body_too_large" in body)
    except OSError as exc:
        return Result(f"{type(exc).__name__}", False)
    return Result("accepted", False)


@probe("10", "frame with <!--<script on the artwork page", "player.js still loads")
def comment_frame(target: Target) -> Result:
    http = _user(target)
    artwork = _artwork(http, "<!--<script")
    page = http.get(f"/a/{artwork}").text
    island_end = page.rfind("</script>")
    ok = "player.js" in page and "<!--<script" not in page and island_end > 0
    return Result(
        "player.js present, frame escaped" if ok else "page swallowed after the island", ok
    )


@probe("11", "multi-line prompt / ESC in generate", "400 before accepting")
def job_text(target: Target) -> Result:
    http = _user(target)
    answers = [
        http.post("/api/generate", json={"prompt": "line one\nline two"}),
        http.post("/api/generate", json={"prompt": "red \x1b[31m"}),
    ]
    return Result(
        " ".join(str(a.status_code) for a in answers), all(a.status_code == 400 for a in answers)
    )


@probe("12", "10 concurrent PATCHes without If-Match", "200 or 409 concurrent_update, no keys")
def concurrent_patch(target: Target) -> Result:
    http = _user(target)
    artwork = _artwork(http)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(
                lambda i: http.patch(f"/api/artworks/{artwork}", json={"title": f"t{i}"}), range(10)
            )
        )
    bad = [a for a in answers if a.status_code not in (200, 409)]
    leaks = [a for a in answers if "artworks/" in a.text and a.status_code != 200]
    codes = {a.json()["error"]["code"] for a in answers if a.status_code >= 400}
    return Result(f"{_statuses(answers)} {sorted(codes)}", not bad and not leaks)


@probe("13", "kill -9 during a PATCH", "never half-applied")
def crash_patch(target: Target) -> Result:
    del target
    return Result(
        "not probed here (needs kill -9 rounds: python -m bench uploads-crash)", False, skipped=True
    )


@probe("14", "wait Retry-After, then read again", "200 after the wait")
def retry_after(target: Target) -> Result:
    with httpx.Client(base_url=target.base) as http:
        answer = http.get("/api/gallery")
        spent = 0
        while answer.status_code != 429 and spent < 2000:
            answer = http.get("/api/gallery")
            spent += 1
        for _ in range(20):  # impatient retries must not lengthen the wait
            http.get("/api/gallery")
        wait = int(answer.headers.get("retry-after", "0"))
        time.sleep(wait)
        after = http.get("/api/gallery")
    return Result(
        f"429 after {spent}, waited {wait}s, then {after.status_code}", after.status_code == 200
    )


@probe("15", "700 invalid bearer tokens from one IP", "429 past 30 per window")
def invalid_tokens(target: Target) -> Result:
    with httpx.Client(base_url=target.base) as http:
        answers = [
            http.get("/api/me", headers={"Authorization": f"Bearer ah_{secrets.token_urlsafe(32)}"})
            for _ in range(700)
        ]
    _wait_retry(answers[-1])
    return Result(_statuses(answers), answers[-1].status_code == 429)


@probe("16", "300 anonymous reads of a public artwork", "views +1 at most, fresh in the API")
def view_flood(target: Target) -> Result:
    http = _user(target)
    artwork = _artwork(http)
    with httpx.Client(base_url=target.base) as anon:
        for _ in range(300):
            anon.get(f"/api/artworks/{artwork}")
        time.sleep(6)  # views_flush_seconds is 5
        views = anon.get(f"/api/artworks/{artwork}").json().get("views")
        gallery_views = next(
            (
                item.get("views")
                for item in http.get(f"/api/users/{http.handle}/artworks").json()["items"]
                if item["id"] == artwork
            ),
            None,
        )
    counted = [v for v in (views, gallery_views) if isinstance(v, int)]
    ok = len(counted) == 2 and max(counted) <= 2 and views == gallery_views
    return Result(f"views={views} in GET, {gallery_views} in the listing", ok)


@probe("17", "PATCH with X-Share-Token", "no-store and no-referrer")
def share_patch(target: Target) -> Result:
    http = _user(target)
    artwork = _artwork(http, visibility="private")
    share = http.post(f"/api/artworks/{artwork}/shares", json={"permission": "edit"}).json()
    with httpx.Client(base_url=target.base) as anon:
        answer = anon.patch(
            f"/api/artworks/{artwork}",
            json={"title": "via share"},
            headers={"X-Share-Token": share["token"]},
        )
    cache, referrer = answer.headers.get("cache-control"), answer.headers.get("referrer-policy")
    return Result(
        f"{answer.status_code} cache={cache} referrer={referrer}",
        cache == "no-store" and referrer == "no-referrer",
    )


@probe("18", "/metrics without / with the scrape token", "403 then 200")
def metrics(target: Target) -> Result:
    with httpx.Client(base_url=target.base) as http:
        bare = http.get("/metrics")
        forwarded = http.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
        scraped = http.get("/metrics", headers={"Authorization": "Bearer probe-scrape-token"})
    codes = (bare.status_code, forwarded.status_code, scraped.status_code)
    return Result(" ".join(map(str, codes)), codes == (403, 403, 200))


@probe("19", "share link sent by e-mail", "token not in the queue file")
def share_email(target: Target) -> Result:
    http = _user(target)
    artwork = _artwork(http, visibility="private")
    share = http.post(
        f"/api/artworks/{artwork}/shares",
        json={"permission": "view", "email": "friend@example.org"},
    ).json()
    raw = b"".join(p.read_bytes() for p in target.data_dir.glob("queue.sqlite3*"))
    leaked = share["token"].encode() in raw
    return Result("token found in queue file" if leaked else "token not in queue file", not leaked)


@probe("20", "ids from new_id (20,000 drawn)", "none starts with '-'")
def dash_ids(target: Target) -> Result:
    from asciihub.services.ids import new_id

    drawn = sum(new_id().startswith("-") for _ in range(20_000))
    return Result(f"{drawn} of 20000 start with '-'", drawn == 0)


@probe("21", "missing asyncpg; Redis queue without AOF", "one line each, non-zero exit")
def startup_errors(target: Target) -> Result:
    del target
    with tempfile.TemporaryDirectory() as tmp:
        shadow = Path(tmp) / "shadow" / "asyncpg"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text(
            "raise ModuleNotFoundError(\"No module named 'asyncpg'\", name='asyncpg')\n"
        )
        base = {**os.environ, "ASCIIHUB_DATA_DIR": tmp, "ASCIIHUB_LOG_LEVEL": "warning"}
        cases = {
            "asyncpg": {
                "PYTHONPATH": str(shadow.parent),
                "ASCIIHUB_METADATA_URL": "postgresql://x@127.0.0.1/x",
            },
            "aof": {"ASCIIHUB_QUEUE_URL": "redis://127.0.0.1:6379/15"},
        }
        seen = []
        for name, env in cases.items():
            done = subprocess.run(
                [sys.executable, "-m", "asciihub", "serve", "--port", "0"],
                env={**base, **env},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            lines = (done.stdout + done.stderr).strip().splitlines()
            seen.append((name, done.returncode, len(lines)))
    ok = all(code != 0 and lines == 1 for _, code, lines in seen)
    return Result(" ".join(f"{n}: exit {c}, {k} line(s)" for n, c, k in seen), ok)
