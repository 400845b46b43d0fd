"""Test-buy on Solana: the exact scheme with the official SDK's SVM client, the same safeguards as on
EVM, paid end to end against the demo fleet's seller origin (its facilitator checks the transaction;
no chain), and refused above the cap with nothing signed or sent."""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from solders.keypair import Keypair

from index.protocol.svm_tx import associated_token_account, read_transfer
from index.protocol.challenge import parse_challenge
from index.store.engine import init_db
from index.testbuy import BuyRequest, Limits, Outcome, TestBuyer
from index.testbuy.policy import Refusal, select_accept
from index.testbuy.verify import check_signed
from index.testbuy.sign import sign_payment
from index.testbuy.svm_wallet import SolanaKey
from index.testbuy.wallet import WalletError, load_key
from tests.conftest import FAST, run_cli

DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
USDC_DEVNET = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
FEE_PAYER = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4"
BLOCKHASH = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"
LOCAL = frozenset({"127.0.0.1"})


def _challenge(pay_to: str, amount: str = "2000", extra: dict[str, Any] | None = None, asset: str = USDC_DEVNET) -> dict[str, Any]:
    return {"x402Version": 2, "resource": {"url": "https://seller.example/v1/geocode"},
            "accepts": [{"scheme": "exact", "network": DEVNET, "asset": asset, "amount": amount, "payTo": pay_to,
                         "maxTimeoutSeconds": 60,
                         "extra": {"feePayer": FEE_PAYER, "recentBlockhash": BLOCKHASH} if extra is None else extra}]}


def _select(obj: dict[str, Any], **limits: Any) -> Any:
    import base64

    header = base64.b64encode(json.dumps(obj).encode()).decode()
    challenge = parse_challenge(402, {"PAYMENT-REQUIRED": header}, b"")
    return select_accept(challenge.accepts, obj["accepts"], challenge.x402_version,
                         Limits(network=DEVNET, **limits))


def test_solana_key_forms_never_print_the_key(tmp_path: Path) -> None:
    keypair = Keypair()
    for text in (str(keypair), json.dumps(list(bytes(keypair)))):
        key = SolanaKey(text)
        assert key.address == str(keypair.pubkey())
        assert str(keypair) not in repr(key) and str(keypair) not in f"{key}"
        assert key.redact(f"leaked {text} here") == "leaked [redacted key] here"
        path = tmp_path / "sol.json"
        path.write_text(text + "\n")
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        assert load_key(path).address == key.address
    with pytest.raises(TypeError):
        __import__("pickle").dumps(key)
    with pytest.raises(WalletError) as err:
        SolanaKey("1" * 85)
    assert "1" * 85 not in str(err.value)


def test_selection_uses_our_mint_and_decimals_and_the_fee_payer() -> None:
    pay_to = str(Keypair().pubkey())
    sel = _select(_challenge(pay_to))
    assert (sel.family, sel.asset, sel.decimals, sel.fee_payer, sel.usd) == ("solana", USDC_DEVNET, 6, FEE_PAYER, Decimal("0.002"))


@pytest.mark.parametrize("obj, code", [
    (_challenge(str(Keypair().pubkey()), amount="200000"), "over_cap"),
    (_challenge(str(Keypair().pubkey()), asset=str(Keypair().pubkey())), "asset_not_allowed"),
    (_challenge(str(Keypair().pubkey()), extra={}), "fee_payer_invalid"),
    (_challenge(FEE_PAYER), "fee_payer_invalid"),
    (_challenge("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), "pay_to_invalid"),
])
def test_solana_refusals(obj: dict[str, Any], code: str) -> None:
    with pytest.raises(Refusal) as refusal:
        _select(obj)
    assert refusal.value.code == code


def test_the_sdk_signs_exactly_the_selection_and_a_changed_one_is_refused() -> None:
    payer, pay_to = Keypair(), str(Keypair().pubkey())
    obj = _challenge(pay_to)
    sel = _select(obj)
    signed = sign_payment(payer, sel, obj, Decimal("0.10"))
    check_signed(signed.payload, sel, str(payer.pubkey()), 0)  # no refusal
    transfer, _ = read_transfer(signed.payload["payload"]["transaction"])
    assert transfer.destination == associated_token_account(pay_to, USDC_DEVNET)
    assert transfer.amount == 2000 and transfer.authority_signed and not transfer.fee_payer_signed
    other = _select(_challenge(str(Keypair().pubkey())))
    with pytest.raises(Refusal) as refusal:
        check_signed(signed.payload, other, str(payer.pubkey()), 0)
    assert refusal.value.code == "signed_mismatch" and "recipient" in refusal.value.message
    with pytest.raises(Refusal):
        check_signed(signed.payload, sel, str(Keypair().pubkey()), 0)  # signed by another payer


@pytest.fixture
def solana_rpc(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A loopback stand-in for a Solana RPC (there is no chain here): it answers getLatestBlockhash,
    the one call a buyer makes, and counts the calls. X402_SOLANA_RPC_URL points at it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append(request["method"])
            result = {"context": {"slot": 1}, "value": {"blockhash": BLOCKHASH, "lastValidBlockHeight": 150}}
            body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("X402_SOLANA_RPC_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield calls
    server.shutdown()


def test_a_v1_solana_accept_is_signed_by_the_v1_client(solana_rpc: list[str]) -> None:
    """The v1 client asks the RPC for a blockhash (it ignores extra.recentBlockhash)."""
    import base64

    payer, pay_to = Keypair(), str(Keypair().pubkey())
    obj = {"x402Version": 1, "accepts": [{
        "scheme": "exact", "network": "solana-devnet", "asset": USDC_DEVNET, "maxAmountRequired": "1500",
        "payTo": pay_to, "resource": "https://seller.example/v1/x", "description": "x", "mimeType": "application/json",
        "maxTimeoutSeconds": 60, "extra": {"feePayer": FEE_PAYER, "recentBlockhash": BLOCKHASH}}]}
    challenge = parse_challenge(402, {}, json.dumps(obj).encode())
    sel = select_accept(challenge.accepts, obj["accepts"], 1, Limits(network="solana-devnet"))
    signed = sign_payment(payer, sel, obj, Decimal("0.10"))
    assert signed.header_name == "X-PAYMENT" and signed.payload["network"] == "solana-devnet"
    check_signed(signed.payload, sel, str(payer.pubkey()), 0)
    assert json.loads(base64.b64decode(signed.header_value))["payload"]["transaction"]
    assert solana_rpc == ["getLatestBlockhash"]


# -- end to end against the fleet's seller origin -------------------------------------------------


@pytest.fixture(scope="module")
def seller(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("svm")
    db = f"sqlite:///{work / 'catalog.db'}"
    paid = next(r for r in fleet["owner"]["resources"] if r["protocol"] == "x402")
    run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", "--seed", f"GET {paid['url']}", *FAST,
            "-s", "X402_DISCOVER_ORIGINS=False", cwd=work)
    key_file = work / "solana.json"
    keypair = Keypair()
    key_file.write_text(json.dumps(list(bytes(keypair))))
    os.chmod(key_file, 0o600)
    return {"work": work, "db": db, "url": paid["url"], "key_file": key_file, "payer": str(keypair.pubkey()),
            "secret": str(keypair)}


def _payments(fleet: dict[str, Any]) -> dict[str, Any]:
    return httpx.get(fleet["payments_url"], timeout=5).json()


def test_solana_test_buy_paid_end_to_end(seller: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = _payments(fleet)
    proc = run_cli("test-buy", seller["url"], "--db", seller["db"], "--network", DEVNET, "--key-file",
                   str(seller["key_file"]), "--pay", "--allow-host", "127.0.0.1", "--format", "json", cwd=seller["work"],
                   check=False)
    assert seller["secret"] not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["outcome"] == "success" and result["payer"] == seller["payer"]
    assert result["selection"]["network"] == DEVNET and result["selection"]["amount_atomic"] == "2000"
    assert result["plan"]["transfer"]["to"] == fleet["owner"]["solana_pay_to"]
    after = _payments(fleet)
    new = after["ledger"][len(before["ledger"]):]
    assert [(e["payer"], e["network"], e["value"], e["to"]) for e in new] == [
        (seller["payer"], DEVNET, "2000", fleet["owner"]["solana_pay_to"])]
    assert result["tx"] == new[0]["tx"]
    con = __import__("sqlite3").connect(seller["db"].removeprefix("sqlite:///"))
    assert con.execute("select count(*) from payment_options where network_caip2 = ? and verified", (DEVNET,)).fetchone()[0] == 1


def test_solana_test_buy_above_the_cap_is_refused_and_sends_nothing(seller: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = _payments(fleet)
    buyer = TestBuyer(init_db(seller["db"]), load_key(seller["key_file"]))
    result = buyer.run(BuyRequest(seller["url"], pay=True, limits=Limits(network=DEVNET, max_usd=Decimal("0.001")),
                                  allow_hosts=LOCAL))
    assert result.outcome is Outcome.REFUSED and result.reason == "over_cap"
    assert not result.signed
    after = _payments(fleet)
    assert after["ledger"] == before["ledger"]
    assert len(after["payments_received"]) == len(before["payments_received"])


def test_an_evm_key_cannot_pay_on_solana(seller: dict[str, Any], tmp_path: Path) -> None:
    from index.testbuy.wallet import new_key_file

    evm = tmp_path / "evm.key"
    new_key_file(evm)
    result = TestBuyer(init_db(seller["db"]), load_key(evm)).run(
        BuyRequest(seller["url"], pay=True, limits=Limits(network=DEVNET), allow_hosts=LOCAL))
    assert result.outcome is Outcome.REFUSED and result.reason == "key_wrong_family"
