"""What stands between the network and the challenge: slow clients, uploads in flight, the upload body.

``keraslab challenge serve`` runs with no proxy in front, so the server itself
must refuse cheaply what costs it something:

* :class:`GuardedH11Protocol` (uvicorn's h11 protocol) closes a connection whose
  request line and headers take longer than ``header_timeout_s`` (uvicorn itself has
  no such limit, only an idle keep-alive timeout), and closes a refused connection
  the way nginx does ("lingering close"): it sends the answer, stops writing, and
  throws away what the client still sends for at most ``LINGER_S`` seconds and
  ``LINGER_BYTES`` bytes, so that a client still sending its upload reads the 401
  instead of a connection reset.
* :class:`UploadGate` bounds the uploads being read or scored, in all and per team
  (503 with Retry-After, 429); it is taken only after the token, the close and the
  daily limit have been checked, so a client without a token never holds one.
* :func:`read_upload` reads the body from the ASGI stream itself, never spooled to
  disk: bounded in size, in total time and in rate, keeping only the ``file`` part
  and refusing a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from keraslab.challenge.store import ChallengeRefusal
from keraslab.challenge.submission import MAX_UPLOAD_BYTES

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the file
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
TOO_LARGE = f"upload over the {MAX_UPLOAD_BYTES // 2**20} MiB limit; submit one float32 score per jet (or zip it)"
LINGER_S = 2.0
LINGER_BYTES = 4 * 2**20


@dataclass(frozen=True)
class Limits:
    """How long and how slowly a client may talk, and how many uploads are read at once (per process)."""

    header_timeout_s: float = 10.0  # request line and headers, from the connection or the previous answer
    body_timeout_s: float = 60.0  # a whole upload body
    min_body_bytes_per_s: float = 16 * 1024  # average rate, enforced after the grace time
    rate_grace_s: float = 5.0
    uploads_in_flight: int = 16  # being read or scored at once: at most 16 x 20 MiB in memory
    uploads_per_team: int = 2
    keep_alive_s: float = 5.0  # idle time between requests on one connection
    max_header_bytes: int = 16 * 1024  # request line and headers
    max_connections: int = 1000  # beyond it, requests are answered 503 (uvicorn's limit_concurrency)


DEFAULT_LIMITS = Limits()


class _LingeringTransport:
    """The connection's transport, whose ``close`` first lets the client finish sending (see module doc)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self.lingering = False
        self.discarded = 0

    def close(self) -> None:
        if self.lingering or self._transport.is_closing():
            return
        if not self._transport.can_write_eof():
            self._transport.close()
            return
        self.lingering = True
        self._transport.write_eof()  # the answer goes out, then FIN
        self._transport.resume_reading()
        self._loop.call_later(LINGER_S, self._transport.close)

    def discard(self, data: bytes) -> None:
        self.discarded += len(data)
        if self.discarded > LINGER_BYTES:
            self._transport.close()

    def abort(self) -> None:
        self._transport.close()

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def __getattr__(self, name):
        return getattr(self._transport, name)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on request headers and a lingering close."""

    header_timeout_s = DEFAULT_LIMITS.header_timeout_s

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_LingeringTransport(transport, self.loop))
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.transport.lingering:
            self.transport.discard(data)
            return
        super().data_received(data)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers are complete
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        self._arm_header_deadline()  # the next request's headers (before: pipelined ones start here)
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


def protocol_class(limits: Limits) -> type[GuardedH11Protocol]:
    """The protocol for ``limits``; the default one is importable (uvicorn pickles it for --workers)."""
    if limits.header_timeout_s == GuardedH11Protocol.header_timeout_s:
        return GuardedH11Protocol
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout_s": limits.header_timeout_s})


def uvicorn_settings(limits: Limits) -> dict:
    """uvicorn options that go with ``limits``: the guarded protocol, idle and header-size limits."""
    return {
        "http": protocol_class(limits),
        "timeout_keep_alive": limits.keep_alive_s,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
        "limit_concurrency": limits.max_connections,
    }


class UploadGate:
    """Counts the uploads being read or scored; all on the event loop, so plain counters suffice."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.in_flight = 0
        self.by_team: Counter[int] = Counter()

    @contextlib.contextmanager
    def admit(self, team_id: int):
        if self.by_team[team_id] >= self.limits.uploads_per_team:
            raise ChallengeRefusal(
                429,
                f"your team already has {self.limits.uploads_per_team} uploads in progress; wait for their answers",
                retry_after=5,
            )
        if self.in_flight >= self.limits.uploads_in_flight:
            raise ChallengeRefusal(503, "the server is scoring many uploads right now; try again in a few seconds", retry_after=2)
        self.in_flight += 1
        self.by_team[team_id] += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            self.by_team[team_id] -= 1


class _FilePart:
    """Incremental multipart/form-data parsing that keeps only the ``file`` part, in memory."""

    def __init__(self, content_type: str):
        kind, options = parse_options_header(content_type)
        if kind != b"multipart/form-data" or not options.get(b"boundary"):
            raise ChallengeRefusal(422, "the upload is not multipart/form-data; send it with curl -F file=@result.npy")
        self.data = bytearray()
        self.file_parts = 0
        self._in_file = False
        self._field = b""
        self._value = b""
        self._name: bytes | None = None
        self._parser = MultipartParser(
            options[b"boundary"],
            {
                "on_part_begin": self._part_begin,
                "on_header_field": lambda data, start, end: self._add("_field", data[start:end]),
                "on_header_value": lambda data, start, end: self._add("_value", data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
            },
        )

    def _add(self, attribute: str, data: bytes) -> None:
        setattr(self, attribute, getattr(self, attribute) + data)

    def _part_begin(self) -> None:
        self._name, self._in_file = None, False

    def _header_end(self) -> None:
        if self._field.strip().lower() == b"content-disposition":
            self._name = parse_options_header(self._value)[1].get(b"name")
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        self._in_file = self._name == b"file"
        if self._in_file:
            self.file_parts += 1
            if self.file_parts > 1:
                raise ChallengeRefusal(422, "the upload has two file parts; send exactly one: curl -F file=@result.npy")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.data += data[start:end]
            if len(self.data) > MAX_UPLOAD_BYTES:
                raise ChallengeRefusal(413, TOO_LARGE)

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as err:
            raise ChallengeRefusal(422, f"the multipart body is malformed ({err}); send it with curl -F file=@result.npy") from None

    def finish(self) -> bytes:
        try:
            self._parser.finalize()
        except MultipartParseError as err:
            raise ChallengeRefusal(422, f"the multipart body is malformed ({err}); send it with curl -F file=@result.npy") from None
        if self.file_parts == 0:
            raise ChallengeRefusal(422, "file: field required; upload result.npy as the multipart field file (curl -F file=@result.npy)")
        return bytes(self.data)


async def read_upload(request, limits: Limits) -> bytes:
    """The ``file`` part of a multipart upload, read from the stream within the time and rate limits."""
    parts = _FilePart(request.headers.get("content-type", ""))
    start = time.monotonic()
    received = 0
    chunks = request.stream().__aiter__()
    while True:
        # the next chunk must come before the total deadline and before the average rate falls below the minimum
        rate_deadline = start + max(limits.rate_grace_s, received / limits.min_body_bytes_per_s)
        wait = min(start + limits.body_timeout_s, rate_deadline) - time.monotonic()
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), timeout=max(wait, 0.001))
        except StopAsyncIteration:
            break
        except ClientDisconnect:  # nobody to answer; no traceback in the server log
            raise ChallengeRefusal(400, "the connection closed before the upload was complete; submit again") from None
        except TimeoutError:
            raise ChallengeRefusal(
                408,
                f"the upload came too slowly (at least {limits.min_body_bytes_per_s / 1024:.0f} KiB/s, "
                f"{limits.body_timeout_s:.0f} s in all); try again on a better connection",
            ) from None
        received += len(chunk)
        if received > MAX_REQUEST_BYTES:
            raise ChallengeRefusal(413, TOO_LARGE)
        parts.feed(chunk)
    return parts.finish()
