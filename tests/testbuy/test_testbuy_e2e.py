"""Test-buys against the demo fleet (real x402 servers on 127.0.0.1, the official SDK on both sides,
a facilitator that verifies signatures and settles into an in-memory ledger; no chain).

Every refusal proves that nothing was signed (the signer spy was never called, no test_buys row holds
a payment) and nothing was sent (the fleet's origins saw no payment header, the ledger did not grow).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from index.demo.spec import PAY_TO_CHAIN, PAY_TO_WEATHER
from index.store.engine import init_db
from index.testbuy import BuyRequest, Limits, Outcome, TestBuyer
from index.testbuy.ledger import spent_usd
from index.testbuy.sign import sign_payment
from index.testbuy.wallet import load_key, new_key_file
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "X402_DISCOVER_ORIGINS=False"]
LOCAL = frozenset({"127.0.0.1"})


@pytest.fixture(scope="module")
def shop(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A catalog of the fleet resources we buy (crawled like any other), and a throwaway wallet."""
    work = tmp_path_factory.mktemp("testbuy")
    db_path = work / "catalog.db"
    weather, chain = fleet["origins"]["weather"], fleet["origins"]["chain"]
    urls = {
        "forecast": weather + "/v1/forecast?city=Lisbon",
        "air_quality": weather + "/v1/air-quality?city=Lisbon",
        "risk": chain + "/api/wallet/risk",
        **{name: r["url"] for name, r in fleet["buyer"]["resources"].items()},
    }
    seeds = [f"GET {u}" for n, u in urls.items() if n != "risk"] + [f"POST {urls['risk']}"]
    run_cli("crawl", "--db", f"sqlite:///{db_path}", "--allow-host", "127.0.0.1", "--quiet", *FAST,
            *[a for s in seeds for a in ("--seed", s)], cwd=work)
    key_file = work / "wallet.key"
    address = new_key_file(key_file)
    key_hex = re.search(r"^0x([0-9a-f]{64})$", key_file.read_text(), re.M).group(1)  # type: ignore[union-attr]
    con = sqlite3.connect(db_path)
    slugs = {name: con.execute("select slug from resources where url = ?", (_canon(u),)).fetchone()[0] for name, u in urls.items()}
    con.close()
    return {"work": work, "db": f"sqlite:///{db_path}", "db_path": db_path, "urls": urls, "slugs": slugs,
            "key_file": key_file, "address": address, "key_hex": key_hex}


def _canon(url: str) -> str:
    from index.urls import canonical_url

    return canonical_url(url)


def fleet_state(fleet: dict[str, Any]) -> dict[str, Any]:
    return httpx.get(fleet["payments_url"], timeout=5).json()


class SignSpy:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return sign_payment(*args, **kwargs)


def buyer(shop: dict[str, Any]) -> tuple[TestBuyer, SignSpy]:
    spy = SignSpy()
    return TestBuyer(init_db(shop["db"]), load_key(shop["key_file"]), sign=spy), spy


def buy(shop: dict[str, Any], name: str, pay: bool = True, timeout: float = 10, accept_changes: bool = False,
        **limits: Any) -> tuple[Any, SignSpy]:
    tb, spy = buyer(shop)
    result = tb.run(BuyRequest(shop["urls"][name], pay=pay, limits=Limits(**limits), allow_hosts=LOCAL, timeout=timeout,
                               accept_changes=accept_changes))
    return result, spy


def row(shop: dict[str, Any], test_buy_id: int) -> dict[str, Any]:
    con = sqlite3.connect(shop["db_path"])
    con.row_factory = sqlite3.Row
    out = dict(con.execute("select * from test_buys where id = ?", (test_buy_id,)).fetchone())
    con.close()
    return out


def options(shop: dict[str, Any], name: str) -> list[tuple[int, int, str | None]]:
    con = sqlite3.connect(shop["db_path"])
    out = con.execute("select o.position, o.verified, o.verified_at from payment_options o join resources r "
                      "on r.id = o.resource_id where r.slug = ? order by o.position", (shop["slugs"][name],)).fetchall()
    con.close()
    return out


@pytest.fixture
def drift(fleet: dict[str, Any]) -> Iterator[Any]:
    """Change what /v2/drift asks (as a server changing its price after the crawl); restored after."""
    def change(**terms: str) -> None:
        httpx.post(fleet["buyer"]["terms_url"], json={"path": "/v2/drift", **terms}, timeout=5).raise_for_status()

    yield change
    httpx.post(fleet["buyer"]["reset_url"], timeout=5).raise_for_status()


# ---------------------------------------------------------------------------------------------
# paying for real (against the local facilitator)


def test_cli_pays_a_v2_sdk_resource_and_a_rebuild_shows_it_verified(shop: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = fleet_state(fleet)
    proc = run_cli("test-buy", shop["urls"]["forecast"], "--pay", "--key-file", str(shop["key_file"]), "--db", shop["db"],
                   "--allow-host", "127.0.0.1", cwd=shop["work"])
    after = fleet_state(fleet)
    assert "receipt (PAYMENT-RESPONSE): success True" in proc.stdout and "PAID" in proc.stdout, proc.stdout
    new = after["payments_received"][len(before["payments_received"]):]
    assert [(p["origin"], p["path"], p["payment_header"]) for p in new] == [("weather", "/v1/forecast", "PAYMENT-SIGNATURE")]
    settled = after["ledger"][-1]
    assert len(after["ledger"]) == len(before["ledger"]) + 1
    assert (settled["payer"], settled["to"], settled["value"], settled["network"]) == (shop["address"], PAY_TO_WEATHER, "1000", "eip155:84532")
    assert settled["tx"] in proc.stdout
    con = sqlite3.connect(shop["db_path"])
    tb = con.execute("select outcome, dry_run, tx, http_status, response_type, response_size, payer, network, amount_atomic, "
                     "payment_sha256, receipt from test_buys order by id desc limit 1").fetchone()
    assert tb[:9] == ("success", 0, settled["tx"], 200, "application/json", tb[5], shop["address"], "eip155:84532", "1000")
    assert tb[5] > 0 and len(tb[9]) == 64 and json.loads(tb[10])["success"] is True
    assert [(p, v) for p, v, _ in options(shop, "forecast")] == [(0, 1), (1, 0)] and options(shop, "forecast")[0][2]

    out = shop["work"] / "public"
    run_cli("build", "--db", shop["db"], "--out", str(out), "--quiet", cwd=shop["work"])
    twin = json.loads((out / "r" / f"{shop['slugs']['forecast']}.json").read_text())
    assert [a["verified"] for a in twin["accepts"]] == [True, False] and twin["accepts"][0]["verified_at"]
    page = (out / "r" / f"{shop['slugs']['forecast']}.html").read_text()
    assert page.count('class="badge verified">verified<') == 1 and twin["accepts"][0]["verified_at"] in page


def test_cli_pays_a_v1_resource_and_the_key_never_shows(shop: dict[str, Any], fleet: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Key from X402_PRIVATE_KEY: paid (X-PAYMENT / X-PAYMENT-RESPONSE), refused, failed and broken-key
    runs; the key's hex appears in no output and nowhere in the database files."""
    key_hex = shop["key_hex"]
    monkeypatch.setenv("X402_PRIVATE_KEY", "0x" + key_hex)
    before = fleet_state(fleet)
    common = ["--db", shop["db"], "--allow-host", "127.0.0.1"]
    paid = run_cli("test-buy", shop["slugs"]["risk"], "--pay", *common, cwd=shop["work"])
    assert "receipt (X-PAYMENT-RESPONSE): success True" in paid.stdout, paid.stdout
    after = fleet_state(fleet)
    new = after["payments_received"][len(before["payments_received"]):]
    assert [(p["path"], p["payment_header"]) for p in new] == [("/api/wallet/risk", "X-PAYMENT")]
    assert after["ledger"][-1]["to"] == PAY_TO_CHAIN and after["ledger"][-1]["value"] == "50000"
    runs = [paid,
            run_cli("test-buy", shop["slugs"]["risk"], "--pay", "--format", "json", "--max-amount", "0.01", *common,
                    cwd=shop["work"], check=False),
            run_cli("test-buy", shop["slugs"]["crash_after_pay"], "--pay", *common, cwd=shop["work"], check=False),
            run_cli("test-buy", shop["slugs"]["forecast"], "--pay", "--db", shop["db"], cwd=shop["work"], check=False)]
    assert [r.returncode for r in runs] == [0, 1, 3, 1]
    assert json.loads(runs[1].stdout)["reason"] == "over_cap" and "UNRECONCILED" in runs[2].stdout
    monkeypatch.setenv("X402_PRIVATE_KEY", "0x" + key_hex[:-1] + "g")  # malformed: the error must not echo it
    broken = run_cli("test-buy", shop["slugs"]["forecast"], "--pay", *common, cwd=shop["work"], check=False)
    assert broken.returncode == 1 and "X402_PRIVATE_KEY" in broken.stderr and "Traceback" not in broken.stderr
    runs.append(broken)
    for spelling in (key_hex, key_hex.upper(), key_hex[:-1]):
        for r in runs:
            assert spelling not in r.stdout and spelling not in r.stderr
        for path in shop["db_path"].parent.glob("catalog.db*"):
            data = path.read_bytes()
            assert spelling.encode() not in data and spelling.encode("utf-16-le") not in data, path


def test_a_v2_challenge_in_the_body_only_is_paid(shop: dict[str, Any], fleet: dict[str, Any]) -> None:
    result, spy = buy(shop, "body_only")
    assert result.outcome is Outcome.SUCCESS, result.message
    assert spy.calls == 1 and result.probe["source"] == "body" and result.payment_header == "PAYMENT-SIGNATURE"
    assert result.receipt_header == "PAYMENT-RESPONSE" and result.receipt["success"] is True
    assert result.verified_position == 0 and fleet_state(fleet)["ledger"][-1]["tx"] == result.tx


def test_a_dry_run_describes_exactly_what_would_be_signed(shop: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = fleet_state(fleet)
    result, spy = buy(shop, "forecast", pay=False)
    assert result.outcome is Outcome.DRY_RUN and spy.calls == 0 and not result.signed
    assert result.plan["domain"] == {"name": "USDC", "version": "2", "chainId": 84532,
                                     "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
    message = result.plan["message"]
    assert (message["to"], message["value"], message["validAfter"], message["from"]) == (PAY_TO_WEATHER, "1000", "0", shop["address"])
    assert fleet_state(fleet)["payments_received"] == before["payments_received"]
    assert row(shop, result.test_buy_id)["outcome"] == "dry_run"


# ---------------------------------------------------------------------------------------------
# refusals: nothing signed, nothing sent


REFUSALS = [
    ("over the cap", "forecast", {"max_usd": Decimal("0.0005")}, "over_cap"),
    ("cheap first accept, expensive one selected", "cheap_first", {}, "over_cap"),
    ("unknown asset", "unknown_asset", {}, "asset_not_allowed"),
    ("spoofed EIP-712 name", "spoofed_domain", {}, "eip712_domain_mismatch"),
    ("zero payTo", "zero_pay_to", {}, "pay_to_zero"),
    ("absurd timeout", "long_timeout", {}, "timeout_too_long"),
    ("mainnet without --mainnet", "air_quality", {"network": "eip155:8453"}, "mainnet_not_allowed"),
    ("no accept on the default network", "air_quality", {}, "no_accept_on_network"),
    ("daily budget", "forecast", {"daily_budget_usd": Decimal("0.0001")}, "budget_exceeded"),
]


def _assert_nothing_signed_or_sent(result: Any, spy: SignSpy, before: dict[str, Any], after: dict[str, Any],
                                   shop: dict[str, Any]) -> None:
    assert spy.calls == 0 and not result.signed and result.payment_header is None
    assert after["payments_received"] == before["payments_received"] and after["ledger"] == before["ledger"]
    tb = row(shop, result.test_buy_id)
    assert (tb["outcome"], tb["dry_run"], tb["payment_sha256"], tb["nonce"], tb["tx"]) == ("refused", 0, None, None, None)


@pytest.mark.parametrize(("case", "name", "limits", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_sign_and_send_nothing(shop: dict[str, Any], fleet: dict[str, Any], case: str, name: str,
                                        limits: dict[str, Any], code: str) -> None:
    before = fleet_state(fleet)
    result, spy = buy(shop, name, **limits)
    assert (result.outcome, result.reason) == (Outcome.REFUSED, code), (case, result.message)
    _assert_nothing_signed_or_sent(result, spy, before, fleet_state(fleet), shop)


@pytest.mark.parametrize(("terms", "field"), [({"amount": "2000"}, "amount"),
                                              ({"payTo": "0x1111111111111111111111111111111111111111"}, "payTo")],
                         ids=["changed price", "changed payTo"])
def test_a_changed_quote_is_refused_with_a_diff(shop: dict[str, Any], fleet: dict[str, Any], drift: Any,
                                                terms: dict[str, str], field: str) -> None:
    drift(**terms)
    before = fleet_state(fleet)
    result, spy = buy(shop, "drift")
    assert (result.outcome, result.reason) == (Outcome.REFUSED, "quote_changed")
    assert [line.split(":")[0] for line in result.diff] == [f"accepts[0].{field}"]
    assert next(iter(terms.values())) in result.diff[0]
    _assert_nothing_signed_or_sent(result, spy, before, fleet_state(fleet), shop)


def test_accepted_changes_pay_the_live_quote_but_verify_nothing_in_the_catalog(shop: dict[str, Any], drift: Any) -> None:
    drift(amount="2000")
    result, spy = buy(shop, "drift", accept_changes=True)
    assert result.outcome is Outcome.SUCCESS and spy.calls == 1 and result.selection["amount_atomic"] == "2000"
    assert result.diff and result.verified_position is None
    assert [v for _, v, _ in options(shop, "drift")] == [0]


def test_private_addresses_are_refused_by_default(shop: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = fleet_state(fleet)["request_counts"].get("weather GET /v1/forecast", 0)
    tb, spy = buyer(shop)
    result = tb.run(BuyRequest(shop["urls"]["forecast"], pay=True))
    assert (result.outcome, result.reason) == (Outcome.REFUSED, "blocked_address") and spy.calls == 0
    assert fleet_state(fleet)["request_counts"].get("weather GET /v1/forecast", 0) == before  # not even probed


def test_a_url_outside_the_catalog_needs_accept_changes(shop: dict[str, Any], fleet: dict[str, Any]) -> None:
    url = fleet["origins"]["ai"] + "/v1/summarize"
    tb, spy = buyer(shop)
    refused = tb.run(BuyRequest(url, method="POST", allow_hosts=LOCAL))
    assert (refused.outcome, refused.reason) == (Outcome.REFUSED, "not_in_catalog")
    dry = tb.run(BuyRequest(url, method="POST", allow_hosts=LOCAL, accept_changes=True))
    assert dry.outcome is Outcome.DRY_RUN and dry.selection["usd"] == "0.02" and spy.calls == 0


# ---------------------------------------------------------------------------------------------
# a payment that leaves and then goes wrong: unreconciled, never retried


@pytest.mark.parametrize(("name", "reason"), [("crash_after_pay", "http_500"), ("hang_after_pay", "timeout"),
                                              ("redirect_after_pay", "redirect_not_followed")])
def test_a_failed_paid_request_is_unreconciled_and_paid_once(shop: dict[str, Any], fleet: dict[str, Any],
                                                             name: str, reason: str) -> None:
    path = fleet["buyer"]["resources"][name]["url"].split(fleet["buyer"]["url"], 1)[1]
    before, spent = fleet_state(fleet), spent_usd(init_db(shop["db"]))
    result, spy = buy(shop, name, timeout=1.0)
    after = fleet_state(fleet)
    assert (result.outcome, result.reason) == (Outcome.UNRECONCILED, reason), result.message
    new = after["payments_received"][len(before["payments_received"]):]
    assert [p["path"] for p in new] == [path] and spy.calls == 1  # one payment, no retry
    assert len(after["ledger"]) == len(before["ledger"]) + 1  # the server did settle it: a real possible spend
    assert after["request_counts"].get("buyer GET /__landing", 0) == before["request_counts"].get("buyer GET /__landing", 0)
    tb = row(shop, result.test_buy_id)
    assert (tb["outcome"], tb["reason"], tb["dry_run"]) == ("unreconciled", reason, 0) and tb["payment_sha256"]
    assert spent_usd(init_db(shop["db"])) == spent + Decimal("0.001")  # it counts against the budget
    assert [v for _, v, _ in options(shop, name)] == [0]
