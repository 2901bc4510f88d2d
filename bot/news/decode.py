"""Content-Encoding undone as the bytes arrive, never more than a bounded piece at a time.

A response's body is fed in raw chunks; what comes out is yielded in pieces of at most `PIECE`
bytes, lazily, so whoever counts the decoded bytes can stop the moment a cap is passed: a
compression bomb is never expanded further than the cap plus one piece. Stacked encodings
(`gzip, gzip`) are decoded layer by layer the same way, each layer pulling at most a piece
from the one before, up to `MAX_LAYERS` layers; more is refused. Decoded: gzip and x-gzip (any
number of members), deflate (zlib-wrapped, or raw as some servers send it), identity. Anything
else (br, zstd, compress…) is refused with `Undecodable`, and `ACCEPT_ENCODING` advertises only
what is decoded here.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

PIECE = 64 * 1024
MAX_LAYERS = 3
ACCEPT_ENCODING = "gzip, deflate"
_GZIP = frozenset({"gzip", "x-gzip"})
_DEFLATE = frozenset({"deflate"})


class Undecodable(Exception):
    """A body that cannot be decoded; the message says why in plain words."""


class _Layer:
    """One gzip or deflate layer, decompressing a piece at a time."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._inflate: zlib._Decompress | None = None
        self._head = b""  # deflate: bytes held until the first two tell zlib from raw
        self._done = False  # the stream ended; what follows is ignored
        self._members = 0  # gzip members decoded to their end

    def _start(self, data: bytes) -> bool:
        if self.coding in _GZIP:
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return True
        if len(data) < 2:
            return False
        zlib_header = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        return True

    def push(self, data: bytes) -> Iterator[bytes]:
        data, self._head = self._head + data, b""
        while not self._done:
            if self._inflate is None:
                if not data:
                    return
                if self._members and data[:1] != b"\x1f":
                    self._done = True  # bytes after the last gzip member: ignored
                    return
                if not self._start(data):
                    self._head = data
                    return
            inflate = self._inflate
            assert inflate is not None
            try:
                out = inflate.decompress(data, PIECE)
            except zlib.error as e:
                raise Undecodable(f"broken {self.coding} data ({e})") from None
            if out:
                yield out
            if inflate.eof:
                data = inflate.unused_data
                if self.coding in _GZIP:  # gzip may hold several members, one after another
                    self._inflate, self._members = None, self._members + 1
                else:
                    self._done = True
                continue
            data = inflate.unconsumed_tail
            if not data and len(out) < PIECE:
                return  # all input taken and no output waiting inside zlib

    def end(self) -> None:
        if self._head:
            raise Undecodable(f"broken {self.coding} data (too short)")
        # A stream cut short is taken as far as it goes, as browsers do.


class Decoder:
    """Decodes a body sent with `encodings` (the Content-Encoding values, in the order the
    server applied them)."""

    def __init__(self, encodings: Sequence[str]) -> None:
        codings = [e.strip().lower() for e in encodings]
        codings = [c for c in codings if c and c != "identity"]
        for coding in codings:
            if coding not in _GZIP | _DEFLATE:
                raise Undecodable(f"unsupported Content-Encoding: {coding[:40]}")
        if len(codings) > MAX_LAYERS:
            raise Undecodable(f"{len(codings)} Content-Encodings stacked (at most {MAX_LAYERS})")
        self._layers = [_Layer(c) for c in reversed(codings)]

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded bytes of `chunk`, in pieces of at most PIECE bytes."""
        return self._through(0, chunk)

    def finish(self) -> None:
        """The body ended; raise Undecodable if it ended where it cannot."""
        for layer in self._layers:
            layer.end()

    def _through(self, i: int, data: bytes) -> Iterator[bytes]:
        if i == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[i].push(data):
            yield from self._through(i + 1, piece)
