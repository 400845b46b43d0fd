"""Content-Encoding decoding with a bound on what it produces, for test-buy's answers.

httpx decodes each raw chunk whole (`iter_bytes()`): a 1.8 KB `Content-Encoding: gzip, gzip`
answer or a 1.6 KB brotli one decoded to ~2 GB in memory before our size check ever ran. Here each
stage of the chain (the encodings in reverse order, as HTTP applies them in order) yields at most
PIECE bytes per call and is drained before it is fed again, so memory stays at a few pieces per
stage whatever the ratio, and `BoundedDecoder.feed` stops producing once `limit` bytes are out.

Encodings: gzip / x-gzip, deflate (zlib-wrapped or raw), br, zstd (when a zstd module exists),
identity. Unknown encodings are passed through undecoded, as httpx does. Corrupt data raises
httpx.DecodingError, as httpx does.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

import httpx

PIECE = 64 * 1024  # bytes a stage yields per call


class _Stage(Protocol):
    def feed(self, data: bytes) -> None: ...

    def read(self, n: int) -> bytes:
        """Up to n decoded bytes; b"" when it needs more input (or its stream has ended)."""
        ...


class _Identity:
    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> None:
        self.buf += data

    def read(self, n: int) -> bytes:
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class _Zlib:
    """gzip (wbits 16+15), zlib-wrapped deflate (15) or raw deflate (-15); for deflate the wrapping
    is read off the stream's first two bytes, as browsers do. Concatenated gzip members are read."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if kind == "gzip" else None
        self.tail = b""

    def feed(self, data: bytes) -> None:
        self.tail += data
        if self.obj is None and len(self.tail) >= 2:
            cmf, flg = self.tail[0], self.tail[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self.obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def read(self, n: int) -> bytes:
        if self.obj is None or not self.tail:
            return b""
        try:
            out = self.obj.decompress(self.tail, n)
        except zlib.error as exc:
            raise httpx.DecodingError(f"{self.kind}: {exc}") from None
        self.tail = self.obj.unconsumed_tail
        if self.obj.eof:
            rest = self.obj.unused_data
            self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS) if self.kind == "gzip" and rest[:2] == b"\x1f\x8b" else None
            self.tail = rest if self.obj is not None else b""
            if not out and self.tail:
                return self.read(n)
        return out


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self.error = brotli.error
        self.obj = brotli.Decompressor()
        self.pending = b""

    def feed(self, data: bytes) -> None:
        self.pending += data

    def read(self, n: int) -> bytes:
        if self.obj.is_finished():
            return b""
        try:
            if self.pending and self.obj.can_accept_more_data():
                data, self.pending = self.pending, b""
                return self.obj.process(data, output_buffer_limit=n)
            if not self.obj.can_accept_more_data():
                return self.obj.process(b"", output_buffer_limit=n)
        except self.error as exc:
            raise httpx.DecodingError(f"br: {exc}") from None
        return b""


class _Zstd:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.obj = module.ZstdDecompressor()
        self.pending = b""

    def feed(self, data: bytes) -> None:
        self.pending += data

    def read(self, n: int) -> bytes:
        try:
            if self.obj.eof:
                rest, self.obj = self.obj.unused_data + self.pending, self.module.ZstdDecompressor()
                self.pending = rest
            if not self.obj.needs_input:
                return self.obj.decompress(b"", n)
            if self.pending:
                data, self.pending = self.pending, b""
                return self.obj.decompress(data, n)
        except self.module.ZstdError as exc:
            raise httpx.DecodingError(f"zstd: {exc}") from None
        return b""


def _zstd_module() -> Any:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        try:
            from backports import zstd  # type: ignore[no-redef]
        except ImportError:
            return None
    return zstd


def _stage(encoding: str) -> _Stage | None:
    """The decoder of one Content-Encoding token, or None for identity and unknown tokens."""
    if encoding in ("gzip", "x-gzip"):
        return _Zlib("gzip")
    if encoding == "deflate":
        return _Zlib("deflate")
    if encoding == "br":
        try:
            return _Brotli()
        except ImportError:
            return None
    if encoding == "zstd":
        module = _zstd_module()
        return _Zstd(module) if module is not None else None
    return None


def accept_encoding() -> str:
    """The Accept-Encoding value naming every encoding this module can decode here."""
    names = ["gzip", "deflate"]
    if _stage("br") is not None:
        names.append("br")
    if _zstd_module() is not None:
        names.append("zstd")
    return ", ".join(names)


class _Full(Exception):
    pass


class BoundedDecoder:
    """Decodes a body sent with `content_encoding` (the header's tokens, in header order), giving
    out at most `limit` bytes in all; `full` is True once it had more to give than that."""

    def __init__(self, content_encoding: list[str], limit: int) -> None:
        tokens = [t.strip().lower() for value in content_encoding for t in value.split(",") if t.strip()]
        stages = [s for s in (_stage(t) for t in reversed(tokens)) if s is not None]
        self.stages: list[_Stage] = stages or [_Identity()]
        self.limit = limit
        self.out: list[bytes] = []
        self.size = 0
        self.full = False

    def feed(self, data: bytes) -> None:
        """Decode `data` (raw bytes off the wire) as far as the limit allows."""
        if self.full:
            return
        try:
            self._push(0, data)
        except _Full:
            self.full = True

    def _push(self, index: int, data: bytes) -> None:
        stage = self.stages[index]
        stage.feed(data)
        last = index == len(self.stages) - 1
        while piece := stage.read(PIECE):
            if not last:
                self._push(index + 1, piece)
                continue
            room = self.limit - self.size
            self.out.append(piece[:room])
            self.size += min(len(piece), room)
            if len(piece) > room:
                raise _Full

    def body(self) -> bytes:
        return b"".join(self.out)
