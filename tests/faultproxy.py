"""A TCP proxy that tests can cut and restore, to stand between asciihub and a server.

``cut()`` closes every open connection and refuses new ones (as a dead server would);
``restore()`` accepts again. Runs on its own event loop in a thread, so it works for
in-process apps and subprocesses alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Iterator


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target_host:target_port`` until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.opened = 0
        """Connections accepted so far."""
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> FaultProxy:
        """Listen on a free port."""
        self._thread.start()
        self._call(self._listen())
        return self

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    async def _listen(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        pair = (writer, up_writer)
        self._pairs.add(pair)
        self.opened += 1
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))
        self._pairs.discard(pair)

    async def _cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._call(self._cut())

    async def _drop(self, fraction: float, rng: random.Random, at_least: int) -> int:
        pairs = sorted(self._pairs, key=id)
        doomed = [pair for pair in pairs if rng.random() < fraction]
        spared = [pair for pair in pairs if pair not in doomed]
        rng.shuffle(spared)
        doomed += spared[: max(0, at_least - len(doomed))]
        for client, upstream in doomed:
            client.transport.abort()
            upstream.transport.abort()
        return len(doomed)

    def drop_some(self, fraction: float, rng: random.Random, *, at_least: int = 0) -> int:
        """Abort each open connection with probability ``fraction`` (and at least
        ``at_least`` of them while that many are open); how many were cut.

        New connections are still accepted (a flaky network, not a dead server).
        """
        return int(self._call(self._drop(fraction, rng, at_least)))  # type: ignore[call-overload]

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._call(self._listen(self.port))

    def stop(self) -> None:
        """Shut the proxy down."""
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@contextlib.contextmanager
def proxied(host: str, port: int) -> Iterator[FaultProxy]:
    """A started proxy to ``host:port``, stopped afterwards."""
    proxy = FaultProxy(host, port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
