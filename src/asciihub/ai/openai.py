"""An AI generator over the OpenAI-compatible chat-completions API, streaming.

Works with OpenAI, Ollama, vLLM and Cloudflare Workers AI: anything that serves
``POST {base_url}/chat/completions`` with server-sent events when ``stream`` is true.
Frames are yielded as soon as the model finishes each one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from asciihub.ai.parse import FRAME_SEPARATOR, clamp_frame, sanitise, split_frames
from asciihub.engine.document import Frame
from asciihub.engine.procedural import GenerateLimits, check_request
from asciihub.errors import InvalidInput, RateLimited, Unavailable

SYSTEM_PROMPT = (
    "You draw ASCII art animations. Answer with frames only: plain printable ASCII, "
    "at most {width} characters per line and {height} lines per frame, exactly "
    "{frames} frames, each followed by a line holding only " + FRAME_SEPARATOR + ". "
    "No explanations, no code fences, no colour codes. Style hint: {style}."
)


@dataclass(frozen=True)
class ProviderConfig:
    """Where the model is and how long to wait for it (callers fill it from settings)."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 60.0
    temperature: float = 0.7


def _error_for(response: httpx.Response) -> Exception:
    status = response.status_code
    if status == 429:
        raw = response.headers.get("retry-after", "")
        # ASCII digits only, and few: "²".isdigit() is true but int() refuses it.
        retry = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 30
        message = f"the AI provider is rate limiting us; try again in {retry} s"
        return RateLimited(message, retry_after=retry, code="ai_rate_limited")
    if status in (401, 403):
        message = f"the AI provider refused our key (HTTP {status}); check ai_api_key"
        return Unavailable(message, code="ai_unauthorized")
    if status == 404:
        message = "the AI provider does not know this model or URL (HTTP 404); check ai_model"
        return Unavailable(message, code="ai_not_found")
    message = f"the AI provider answered HTTP {status}"
    return Unavailable(message, code="ai_provider_error")


def _malformed(detail: str) -> Unavailable:
    message = f"the AI provider sent malformed output: {detail}"
    return Unavailable(message, code="ai_malformed_output")


def iter_deltas(lines: Iterator[str]) -> Iterator[str]:
    """The content deltas of a chat-completions SSE stream, until ``[DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
            choice = event["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            msg = "an event is not a chat-completion chunk"
            raise _malformed(msg) from None
        if not isinstance(choice, dict):
            msg = "a choice is not an object"
            raise _malformed(msg)
        delta = choice.get("delta") or choice.get("message") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            yield content


class OpenAICompatibleGenerator:
    """A :class:`asciihub.engine.procedural.FrameGenerator` backed by a chat model."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        limits: GenerateLimits | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.limits = limits or GenerateLimits()
        self.transport = transport

    def _request(
        self, prompt: str, frames: int, width: int, height: int, style: str
    ) -> dict[str, Any]:
        system = SYSTEM_PROMPT.format(frames=frames, width=width, height=height, style=style)
        return {
            "model": self.config.model,
            "stream": True,
            "temperature": self.config.temperature,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
        }

    def generate(
        self,
        prompt: str,
        *,
        frames: int = 8,
        width: int = 80,
        height: int = 24,
        style: str = "dense",
        seed: int | None = None,
        fps: float = 10.0,
    ) -> Iterator[Frame]:
        """Stream frames from the model, sanitised and clamped to the requested size."""
        check_request(prompt, frames=frames, width=width, height=height, limits=self.limits)
        if not self.config.base_url:
            message = "no AI provider is configured; set ai_url and ai_model"
            raise InvalidInput(message, code="ai_not_configured")
        body = self._request(prompt, frames, width, height, style)
        if seed is not None:
            body["seed"] = seed
        duration = max(1, round(1000 / fps))
        emitted = 0
        for text in self._stream_frames(body):
            yield Frame(text=clamp_frame(text, width=width, height=height), duration_ms=duration)
            emitted += 1
            if emitted >= frames:
                return
        if emitted == 0:
            msg = "no frame of art in the answer"
            raise _malformed(msg)

    def _stream_frames(self, body: dict[str, Any]) -> Iterator[str]:
        headers = {"Accept": "text/event-stream"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        timeout = httpx.Timeout(self.config.timeout, connect=min(10.0, self.config.timeout))
        try:
            with httpx.Client(timeout=timeout, transport=self.transport) as client:
                with client.stream("POST", url, json=body, headers=headers) as response:
                    if response.status_code != 200:
                        raise _error_for(response)
                    yield from self._frames_of(iter_deltas(response.iter_lines()))
        except httpx.TimeoutException:
            message = f"the AI provider did not answer within {self.config.timeout:g} s"
            raise Unavailable(message, code="ai_timeout") from None
        except httpx.TransportError as exc:
            message = f"the AI provider cannot be reached: {exc}"
            raise Unavailable(message, code="ai_unreachable") from None

    @staticmethod
    def _frames_of(deltas: Iterator[str]) -> Iterator[str]:
        buffer = ""
        for delta in deltas:
            buffer += delta
            *complete, buffer = _split_keep_tail(buffer)
            for part in complete:
                cleaned = sanitise(part)
                if cleaned.strip():
                    yield cleaned
        tail = sanitise(buffer)
        yield from split_frames(tail)


def _split_keep_tail(buffer: str) -> list[str]:
    """Split on complete separator lines; the last item is the unfinished tail."""
    marker = f"\n{FRAME_SEPARATOR}"
    pieces: list[str] = []
    while True:
        start = buffer.find(marker) if not buffer.startswith(FRAME_SEPARATOR) else -1
        if buffer.startswith(FRAME_SEPARATOR + "\n"):
            buffer = buffer[len(FRAME_SEPARATOR) + 1 :]
            continue
        if start < 0:
            break
        end = buffer.find("\n", start + len(marker))
        if end < 0:
            break
        pieces.append(buffer[:start])
        buffer = buffer[end + 1 :]
    return [*pieces, buffer]
