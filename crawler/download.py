"""Our HTTP/1.1 download handler: Scrapy's, with limits on what a response may cost before its body.

`DOWNLOAD_MAXSIZE` bounds a body. Nothing in Twisted or Scrapy bounds the rest of a response:
Twisted's client parser keeps every header line and every obs-fold continuation line it is sent,
so a server that streams 16 KiB header lines (or folds one header forever, or sends `100 Continue`
after `100 Continue`) grows the crawl's memory until the download timeout fires. And a body sent
as millions of one-byte chunks costs a Python call (and a Scrapy signal) per byte: 3 MiB took 30 s
of CPU and ended as a timeout, not as `too_large`.

The parser below counts, per request:
- the bytes and lines of the response head (status lines, 1xx interim responses and all their
  headers included): more than MAX_HEAD_BYTES or MAX_HEAD_LINES ends the request with
  `HeadersTooLarge` (outcome `too_large`, error code `headers_too_large`);
- the body as it arrives: more than MAX_BODY_PIECES pieces handed to Scrapy (chunks, or reads),
  or more than BODY_WIRE_FACTOR × DOWNLOAD_MAXSIZE bytes on the wire (chunk framing and padding
  included), ends it with `BodyTooFragmented` / `BodyWireTooLarge` (`too_large`).

The request ends as soon as a limit is passed: the connection is aborted, nothing more is read.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed
from twisted.web.http import _DataLoss

MAX_HEAD_BYTES = 64 * 1024  # status line(s) and headers of one response, interim 1xx included
MAX_HEAD_LINES = 256  # header lines (continuations included) of one response
# Body pieces handed on to Scrapy. A 2 MiB body read off a real network arrives in a few thousand
# reads at most; a server that needs more is sending one-byte chunks (or one-byte writes).
MAX_BODY_PIECES = 16 * 1024
BODY_WIRE_FACTOR = 2  # body bytes on the wire (framing included) per byte of DOWNLOAD_MAXSIZE


class ResponseLimitError(Exception):
    """A response passed one of our limits; `code` is its error code (index.probe.outcomes)."""

    code = "too_large"


class HeadersTooLarge(ResponseLimitError):
    code = "headers_too_large"


class BodyTooFragmented(ResponseLimitError):
    code = "body_too_fragmented"


class BodyWireTooLarge(ResponseLimitError):
    code = "too_large"


class _LimitedParser(_LenientHTTPClientParser):
    """Scrapy's lenient parser, counting what it is sent (see the module docstring).

    Installed by swapping the class of the parser Twisted builds (as Scrapy does for its own), so
    it has no __init__: the counters are class defaults until first set on the instance. They are
    never reset within a request, so an endless run of 1xx interim responses is counted as one head.
    """

    head_bytes = 0
    head_lines = 0
    body_pieces = 0
    body_wire = 0
    max_wire = 0  # 0: no wire limit (DOWNLOAD_MAXSIZE 0)
    limit_error: ResponseLimitError | None = None

    def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
        self.head_bytes += len(line) + 1
        self.head_lines += 1
        if self.head_bytes > MAX_HEAD_BYTES or self.head_lines > MAX_HEAD_LINES:
            self._fail(HeadersTooLarge(
                f"response head passed {MAX_HEAD_BYTES} bytes or {MAX_HEAD_LINES} lines "
                f"({self.head_bytes} bytes, {self.head_lines} lines read)"))
        super().lineReceived(line)

    def switchToBodyMode(self, decoder: Any) -> None:  # noqa: N802 - Twisted's name
        deliver = decoder.dataCallback

        def counted(data: bytes) -> None:
            self.body_pieces += 1
            if self.body_pieces > MAX_BODY_PIECES:
                self._fail(BodyTooFragmented(f"response body passed {MAX_BODY_PIECES} pieces"))
            deliver(data)

        decoder.dataCallback = counted
        super().switchToBodyMode(decoder)

    def rawDataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        self.body_wire += len(data)
        if self.max_wire and self.body_wire > self.max_wire:
            self._fail(BodyWireTooLarge(f"response body passed {self.max_wire} bytes on the wire"))
        super().rawDataReceived(data)

    def _fail(self, error: ResponseLimitError) -> None:
        """Stop reading at once; the protocol gives up on the request with `error`."""
        self.limit_error = error
        if self.transport is not None:
            self.transport.stopProducing()  # the transport proxy: stops reading the connection
        raise error

    def connectionLost(self, reason: Failure | None = None) -> None:  # noqa: N802 - Twisted's name
        if self.limit_error is not None and self.bodyDecoder is not None:
            # Mid-body: without this, a body without Content-Length would end as a short but
            # successful response (PotentialDataLoss). Report it as failed; Scrapy expects a
            # _DataLoss among the reasons of a failed body (and raises ResponseDataLossError,
            # whose cause carries our error).
            self.bodyDecoder = None
            self.response._bodyDataFinished(Failure(ResponseFailed(
                [Failure(self.limit_error), Failure(_DataLoss())], self.response)))
            return
        super().connectionLost(reason)


class _LimitedProtocol(_LenientHTTP11ClientProtocol):
    max_wire = 0

    def request(self, request: Any) -> Any:
        d = super().request(request)
        assert self._parser is not None  # Scrapy's request() just swapped its class too
        self._parser.__class__ = _LimitedParser
        self._parser.max_wire = self.max_wire
        return d

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        parser = self._parser
        super().dataReceived(data)
        if parser is not None and parser.limit_error is not None and self.transport is not None:
            self.transport.abortConnection()  # do not wait for the rest: it may never end


def _factory(max_wire: int) -> type[_LenientHTTP11ClientFactory]:
    class _LimitedFactory(_LenientHTTP11ClientFactory):
        def buildProtocol(self, addr: Any) -> _LimitedProtocol:  # noqa: N802 - Twisted's name
            protocol = _LimitedProtocol(self._quiescentCallback)
            protocol.max_wire = max_wire
            return protocol

    return _LimitedFactory


class LimitedHTTP11DownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with the limits of this module (settings: DOWNLOAD_HANDLERS)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        max_wire = crawler.settings.getint("DOWNLOAD_MAXSIZE") * BODY_WIRE_FACTOR
        self._pool._factory = _factory(max_wire)
