"""The pieces behind issue 20's published rules: every value of a repeated header, the bounds of a
plausible amount, mixed-script words and how a page shows them, the risk notes they raise, and an
origin's look-alike title from the store (SQLite and PostgreSQL) to its record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.http import Headers

from crawler.spiders.probe import _flat_headers
from index.catalog.build import build_records, find_record
from index.catalog.trust import Facts, risk_notes, tier
from index.demo.hostile2 import OTHER_PAY_TO, SEPOLIA_USDC, challenge
from index.findings import finding
from index.protocol.challenge import parse_challenge
from index.protocol.other402 import other_protocol
from index.protocol.plausible import MAX_STABLE_UNITS, MAX_UNKNOWN_ATOMIC, implausible
from index.protocol.scripts import mixed_script_findings, mixed_words
from index.protocol.wire import MAX_HEADER_VALUES, encode_header_json
from index.site.lookalike import mark_scripts
from index.store.engine import dispose_engine, init_db
from index.store.pages import record_origin_pages
from index.store.write import record_probes
from tests.store.test_store_hostile import _probe

URL = "https://api.example.com/quote"
BASE = "eip155:8453"
BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"


def _codes(ch: Any) -> list[str]:
    return [f["code"] for f in ch.findings]


# -- repeated PAYMENT-REQUIRED -------------------------------------------------------------------

def test_the_spider_keeps_every_value_of_a_repeated_header() -> None:
    cheap, dear = encode_header_json(challenge(URL)), encode_header_json(challenge(URL, amount="1000000000"))
    raw = Headers({"Payment-Required": [cheap, dear], "Content-Type": "application/json"})
    flat = _flat_headers(raw, 64 * 1024)
    assert flat == {"payment-required": [cheap, dear], "content-type": "application/json"}
    ch = parse_challenge(402, flat, b"{}", probed_url=URL)
    assert "header_ambiguous" in _codes(ch)
    assert ch.accepts[0].amount_atomic == "1000"  # the first value's terms, flagged, not silently chosen
    assert other_protocol(402, flat) is None  # the other readers of the same headers take lists


def test_disagreeing_values_are_an_error_finding_naming_both_terms() -> None:
    values = [encode_header_json(challenge(URL)), encode_header_json(challenge(URL, amount="1000000000", payTo=OTHER_PAY_TO))]
    for headers in ({"payment-required": values}, {"PAYMENT-REQUIRED": ", ".join(values)}):  # lines, or joined (httpx)
        ch = parse_challenge(402, headers, b"", probed_url=URL)
        [found] = [f for f in ch.findings if f["code"] == "header_ambiguous"]
        assert found["severity"] == "error" and found["where"] == "PAYMENT-REQUIRED"
        assert found["detail"].startswith("2 values: value 1: 1000 of ") and "value 2: 1000000000 of " in found["detail"]
        assert OTHER_PAY_TO in found["detail"]


def test_copies_of_one_challenge_are_no_finding() -> None:
    value = encode_header_json(challenge(URL))
    unpadded = value.rstrip("=") + "\n"  # another encoding of the same JSON
    for headers in ({"payment-required": [value, value]}, {"payment-required": [value, unpadded]},
                    {"payment-required": f"{value}, {value}"}):
        assert "header_ambiguous" not in _codes(parse_challenge(402, headers, b"", probed_url=URL))


def test_a_second_value_that_does_not_decode_is_ambiguous() -> None:
    ch = parse_challenge(402, {"payment-required": [encode_header_json(challenge(URL)), "bm90IGpzb24="]}, b"", probed_url=URL)
    [found] = [f for f in ch.findings if f["code"] == "header_ambiguous"]
    assert "value 2: not a challenge (header_invalid_json)" in found["detail"]


def test_values_past_the_ones_we_decode_are_counted() -> None:
    values = [encode_header_json(challenge(URL, amount=str(1000 + i))) for i in range(MAX_HEADER_VALUES + 3)]
    [found] = [f for f in parse_challenge(402, {"payment-required": values}, b"").findings if f["code"] == "header_ambiguous"]
    assert found["detail"].startswith(f"{MAX_HEADER_VALUES + 3} values") and "3 more not read" in found["detail"]


# -- plausible amounts ---------------------------------------------------------------------------

def test_the_stablecoin_bound_is_a_million_dollars() -> None:
    bound = MAX_STABLE_UNITS * 10**6
    assert implausible(str(bound), BASE, BASE_USDC) is None
    assert "above 1,000,000 USDC ($1,000,000)" in (implausible(str(bound + 1), BASE, BASE_USDC) or "")
    assert implausible(str(2**256 - 1), "eip155:84532", SEPOLIA_USDC) is not None


def test_an_unknown_asset_is_bounded_in_atomic_units() -> None:
    other = "0x1111111111111111111111111111111111111111"
    assert implausible(str(MAX_UNKNOWN_ATOMIC), BASE, other) is None
    assert implausible(str(MAX_UNKNOWN_ATOMIC + 1), BASE, other) is not None
    assert implausible(None, BASE, other) is None


def test_an_implausible_amount_is_an_error_finding_on_its_accept() -> None:
    obj = challenge(URL, amount=str(2**256 - 1))
    obj["accepts"].append({**obj["accepts"][0], "amount": "1000"})
    ch = parse_challenge(402, {"payment-required": encode_header_json(obj)}, b"", probed_url=URL)
    found = [f for f in ch.findings if f["code"] == "amount_implausible"]
    assert [(f["severity"], f["where"]) for f in found] == [("error", "accepts[0]")]
    assert found[0]["detail"].startswith("11579208923731619542… (78 digits) is above 1,000,000 USDC")


# -- mixed scripts -------------------------------------------------------------------------------

def test_words_that_mix_scripts_are_found_with_their_odd_letters() -> None:
    text = "\u0421oinbase \u041efficial"
    words = mixed_words(text)
    assert [(text[w.start:w.end], w.script, w.odd) for w in words] == [
        ("\u0421oinbase", "LATIN", ((0, "CYRILLIC"),)), ("\u041efficial", "LATIN", ((9, "CYRILLIC"),))]
    assert mixed_words("\u0391pple") and mixed_words("p\u0430yp\u0430l")  # Greek Alpha; Cyrillic a
    # one script a word: multilingual text, not a look-alike; CJK mixes are not confusable scripts
    for fine in ("Погода API", "Coinbase Official", "東京タワー and Tokyo", "Café déjà vu", "", None):
        assert mixed_words(fine) == [], fine


def test_mixed_script_findings_name_the_field_and_the_letters() -> None:
    [found] = mixed_script_findings({"origin.title": "\u0421oinbase", "origin.description": "plain", "x": None})
    assert (found["code"], found["severity"], found["where"]) == ("text_mixed_script", "warning", "origin.title")
    assert found["detail"] == "'\u0421oinbase': \u0421 (CYRILLIC) in a LATIN word"


def test_a_page_marks_the_odd_letters_escaped_with_a_badge() -> None:
    html = str(mark_scripts("<b>\u0421oin</b> & Pay"))
    assert html.startswith('&lt;b&gt;<mark class="confusable" title="U+0421 Cyrillic">\u0421</mark>oin&lt;/b&gt; &amp; Pay')
    assert html.endswith(">mixed scripts</span>")
    assert mark_scripts("Coinbase <b>") == "Coinbase <b>"  # unchanged: the template escapes it
    assert mark_scripts(None) is None


# -- trust -----------------------------------------------------------------------------------------

def _facts(findings: list[dict[str, Any]]) -> Facts:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Facts(status="paid", ever_paid=True, last_paid_at=now, window_end=now, url=URL, verified=False,
                 origin_identified=True, error_findings=sum(f["severity"] == "error" for f in findings), findings=findings)


def test_the_findings_raise_risk_notes_and_cost_conformant() -> None:
    ambiguous, huge = finding("header_ambiguous", "PAYMENT-REQUIRED", "2 values"), finding("amount_implausible", "accepts[0]", "big")
    alike = finding("text_mixed_script", "resource.description", "'\u0421oin'")
    for errors in ([ambiguous], [huge]):
        assert tier(_facts(errors))[0] == "live"
    assert tier(_facts([alike]))[0] == "conformant"
    notes = {n["code"]: n for n in risk_notes(_facts([ambiguous, huge, alike]))}
    assert notes["terms_ambiguous"]["detail"] == "PAYMENT-REQUIRED 2 values"
    assert notes["amount_implausible"]["severity"] == "error"
    assert notes["look_alike_text"]["detail"] == "resource.description '\u0421oin'"


# -- an origin's look-alike title, store to record -------------------------------------------------

def test_an_origin_title_that_mixes_scripts_is_a_finding_of_its_records(db_url: str) -> None:
    engine = init_db(db_url)
    record_probes(engine, [_probe("https://shop.example/x")])
    record_origin_pages(engine, [{"origin": "https://shop.example", "url": "https://shop.example/", "page_kind": "homepage",
                                  "status": 200, "extracted": {"title": "\u0421oinbase \u041efficial", "description": "Prices"}}])
    [slug] = [r.slug for r in build_records(engine)]
    record = find_record(engine, slug)
    assert record is not None and record.origin.title == "\u0421oinbase \u041efficial"
    found = [f for f in record.conformance.findings if f.code == "text_mixed_script"]
    assert [f.where for f in found] == ["origin.title"]
    assert "look_alike_text" in {n.code for n in record.risks}
    dispose_engine(db_url)


def test_test_buy_reads_no_challenge_from_joined_disagreeing_lines() -> None:
    from index.testbuy.run import raw_challenge

    cheap, dear = encode_header_json(challenge(URL)), encode_header_json(challenge(URL, amount="1000000000"))
    assert raw_challenge({"payment-required": f"{cheap}, {dear}"}, b"{}") is None  # what httpx hands us: nothing to sign
    assert raw_challenge({"payment-required": cheap}, b"{}") == challenge(URL)
