"""A TCP proxy in front of the test database that can stop answering: a server that takes a
command and never replies, the failure no timeout on connecting can catch."""

from __future__ import annotations

import asyncio

from pymongo.uri_parser import parse_uri


class StallingProxy:
    """Passes bytes between clients and MongoDB until `stalled`; then drops the replies."""

    def __init__(self, upstream_uri: str) -> None:
        parsed = parse_uri(upstream_uri)
        if len(parsed["nodelist"]) != 1 or parsed["username"] or parsed["options"].get("tls"):
            raise ValueError("the proxy needs a MONGODB_URI of one host, without TLS or a user")
        self.upstream = parsed["nodelist"][0]
        self.stalled = False
        self.uri = ""
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        return self.uri

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self.upstream
        up_reader, up_writer = await asyncio.open_connection(host, port)
        for pump in (self._pump(reader, up_writer, False), self._pump(up_reader, writer, True)):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, replies: bool
    ) -> None:
        try:
            while data := await source.read(65536):
                if replies and self.stalled:
                    continue  # the command was taken; its reply never comes
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass  # either side hung up
        finally:
            sink.close()
