"""Test-buy connects to the address its guard checked (no second lookup, so DNS rebinding cannot move
a request), keeps the name for the Host header and TLS, and checks the name again before signing.
Everything here talks to 127.0.0.1 or to nothing: other names are answered by a stub resolver."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from index.store.engine import init_db
from index.testbuy import fetch
from index.testbuy.policy import Outcome
from index.testbuy.run import BuyRequest, TestBuyer
from index.testbuy.wallet import PrivateKey

PUBLIC = "93.184.216.34"  # a global address the stub resolver hands out; nothing ever connects to it
SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"


def test_pinned_url_keeps_the_name_for_host_and_tls() -> None:
    assert fetch.pinned("http://shop.example:8080/buy?x=1", "203.0.113.9") == (
        "http://203.0.113.9:8080/buy?x=1", {"Host": "shop.example:8080"}, {})
    assert fetch.pinned("https://shop.example/buy", "2606:2800:220:1::1") == (
        "https://[2606:2800:220:1::1]/buy", {"Host": "shop.example"}, {"sni_hostname": "shop.example"})


def _stub_resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """getaddrinfo answering from `answers` (each lookup takes the next address of its list; the
    last repeats); every lookup is logged. Any other name fails, as it would with no DNS here."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host == "127.0.0.1":
            return real(host, port, *args, **kwargs)
        looked_up.append(host)
        if host not in answers:
            raise socket.gaierror(f"stub resolver: no answer for {host}")
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return looked_up


def test_guard_returns_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_resolver(monkeypatch, {"shop.example": [PUBLIC]})
    assert fetch.guard("https://shop.example/buy") == PUBLIC
    assert fetch.guard("http://127.0.0.1:9/x", allow_private=True) is None
    assert fetch.guard("http://127.0.0.1:9/x", allow_hosts=frozenset({"127.0.0.1"})) is None


class _Echo(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Echo.seen.append({"path": self.path, "host": self.headers.get("Host", "")})
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_request_connects_to_the_pinned_address_without_resolving_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        looked_up = _stub_resolver(monkeypatch, {})  # the name has no answer: a lookup would fail
        answer = fetch.request("GET", f"http://shop.invalid:{port}/v1/thing?q=1", {}, None, 5.0, connect_to="127.0.0.1")
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 200 and answer.body == b'{"ok": true}'
    assert _Echo.seen[-1] == {"path": "/v1/thing?q=1", "host": f"shop.invalid:{port}"}
    assert looked_up == []


def test_a_pinned_https_request_sends_the_name_as_sni_and_still_verifies_the_certificate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    import httpx

    from index.demo.tls import self_signed_certificate

    certfile, keyfile = self_signed_certificate(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    names: list[str | None] = []
    ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one() -> None:
        conn, _ = listener.accept()
        try:
            with ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refuses our self-signed certificate, as it must

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    looked_up = _stub_resolver(monkeypatch, {})
    try:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            fetch.request("GET", f"https://shop.invalid:{port}/v1/thing", {}, None, 5.0, connect_to="127.0.0.1")
    finally:
        thread.join(5)
        listener.close()
    assert names == ["shop.invalid"] and looked_up == []


def _challenge_answer(url: str) -> fetch.Answer:
    obj = {"x402Version": 2, "resource": {"url": url, "description": "a thing", "mimeType": "application/json"},
           "accepts": [{"scheme": "exact", "network": "eip155:84532", "amount": "1000", "asset": SEPOLIA_USDC,
                        "payTo": PAY_TO, "maxTimeoutSeconds": 300, "extra": {"name": "USDC", "version": "2"}}]}
    header = base64.b64encode(json.dumps(obj).encode()).decode()
    return fetch.Answer(402, {"payment-required": header, "content-type": "application/json"}, b"{}", 10.0)


class _Spy:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []
        self.signed = 0

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float,
             connect_to: str | None = None) -> fetch.Answer:
        self.sent.append((method, url, connect_to))
        return _challenge_answer(url)

    def sign(self, *args: Any, **kwargs: Any) -> Any:
        self.signed += 1
        raise AssertionError("nothing may be signed here")


def test_a_name_that_rebinds_to_a_private_address_is_refused_before_signing(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://shop.example/v1/thing"
    # first lookup (the unpaid probe): a public address; the next (before paying): the metadata address
    _stub_resolver(monkeypatch, {"shop.example": [PUBLIC, "169.254.169.254"]})
    spy = _Spy()
    buyer = TestBuyer(init_db(f"sqlite:///{tmp_path / 'c.db'}"), PrivateKey(secrets.token_hex(32)),
                      sign=spy.sign, send=spy.send)
    result = buyer.run(BuyRequest(url, pay=True, accept_changes=True))
    assert result.outcome is Outcome.REFUSED and result.reason == "blocked_address"
    assert spy.sent == [("GET", url, PUBLIC)]  # the probe went to the checked address; no paid request
    assert spy.signed == 0


def test_the_unpaid_probe_is_pinned_in_a_dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://shop.example/v1/thing"
    _stub_resolver(monkeypatch, {"shop.example": [PUBLIC]})
    spy = _Spy()
    buyer = TestBuyer(init_db(f"sqlite:///{tmp_path / 'c.db'}"), None, sign=spy.sign, send=spy.send)
    result = buyer.run(BuyRequest(url, accept_changes=True))
    assert result.outcome is Outcome.DRY_RUN, result.message
    assert spy.sent == [("GET", url, PUBLIC)] and spy.signed == 0
