"""The OpenAI-compatible provider against a local fake chat-completions server.

The fake speaks the real protocol (``POST /v1/chat/completions`` with ``stream``,
answered as server-sent events) on a free port; each model name picks a behaviour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from asciihub.ai import OpenAICompatibleGenerator, ProviderConfig, sanitise
from asciihub.engine.procedural import GenerateLimits
from asciihub.errors import InvalidInput, RateLimited, TooLarge, Unavailable

ART = ["/\\\n\\/", "\x1b[31m<>\x1b[0m\n><", "||\n||"]
RELEASE = threading.Event()


def chunks_for(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeChat(BaseHTTPRequestHandler):
    """A tiny chat-completions server; the model name chooses the behaviour."""

    requests: list[dict[str, object]] = []

    def log_message(self, *args: object) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the timeout test), as real clients do

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        FakeChat.requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        model = body["model"]
        if self.path != "/v1/chat/completions":
            self.send_response(404)
            self.end_headers()
            return
        if model == "limited":
            self.send_response(429)
            self.send_header("Retry-After", "7")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if model == "slow":
            RELEASE.wait(5)
            self.send_response(200)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if model == "garbage":
            self.wfile.write(b"data: {not json\n\n")
        elif model == "good":
            text = "```\n" + "\n===FRAME===\n".join(ART) + "\n===FRAME===\n```"
            for piece in chunks_for(text):
                event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeChat)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    RELEASE.set()
    httpd.shutdown()
    httpd.server_close()


def provider(url: str, model: str, **kwargs: object) -> OpenAICompatibleGenerator:
    config = ProviderConfig(base_url=url, model=model, api_key="sk-test", **kwargs)  # type: ignore[arg-type]
    return OpenAICompatibleGenerator(config)


def test_streams_frames_sanitised_and_clamped(server: str) -> None:
    frames = list(provider(server, "good").generate("diamonds", frames=3, width=3, height=3))
    assert [f.text for f in frames] == ["/\\ \n\\/ \n   ", "<> \n>< \n   ", "|| \n|| \n   "]
    sent = FakeChat.requests[-1]
    assert sent["stream"] is True
    assert sent["auth"] == "Bearer sk-test"
    assert sent["messages"][1]["content"] == "diamonds"  # type: ignore[index]


def test_frames_are_yielded_as_they_arrive_and_capped(server: str) -> None:
    stream = provider(server, "good").generate("x", frames=2, width=1, height=1)
    assert next(stream).text == "/"
    assert [f.text for f in stream] == ["<"]


def test_rate_limit_is_a_clear_error(server: str) -> None:
    with pytest.raises(RateLimited) as caught:
        list(provider(server, "limited").generate("x"))
    assert caught.value.retry_after == 7
    assert caught.value.code == "ai_rate_limited"


@pytest.mark.parametrize("model", ["garbage", "empty"])
def test_malformed_output_is_a_clear_error(server: str, model: str) -> None:
    with pytest.raises(Unavailable) as caught:
        list(provider(server, model).generate("x"))
    assert caught.value.code == "ai_malformed_output"


def test_timeout_is_a_clear_error(server: str) -> None:
    with pytest.raises(Unavailable) as caught:
        list(provider(server, "slow", timeout=0.3).generate("x"))
    assert caught.value.code == "ai_timeout"


def test_unknown_route_and_unreachable(server: str) -> None:
    with pytest.raises(Unavailable) as caught:
        list(provider(server.removesuffix("/v1"), "good").generate("x"))
    assert caught.value.code == "ai_not_found"
    with pytest.raises(Unavailable) as caught:
        list(provider("http://127.0.0.1:9", "good").generate("x"))
    assert caught.value.code == "ai_unreachable"


def test_request_limits_are_checked_before_any_call() -> None:
    limited = OpenAICompatibleGenerator(
        ProviderConfig(base_url="http://127.0.0.1:9", model="m"),
        limits=GenerateLimits(max_prompt_chars=5),
    )
    with pytest.raises(TooLarge):
        list(limited.generate("too long a prompt"))
    with pytest.raises(InvalidInput):
        list(OpenAICompatibleGenerator(ProviderConfig(base_url="", model="m")).generate("x"))


def test_sanitise_strips_escapes_and_controls() -> None:
    dirty = "a\x1b[2J\x1b]0;title\x07b\x00c\u202ed\tz\r\n```python\n```"
    assert sanitise(dirty) == "abcd    z"
