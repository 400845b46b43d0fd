"""Per-probe costs of our crawler's pieces, in-process and without the network.

    .venv/bin/python bench/micro.py [--batch 100]

Each line is microseconds per probe (best of 9), for the bench server's challenge. CPU time in one
process is far less disturbed by a busy machine than a crawl's rate, so this is the cost model behind
`bench/probe.py`'s numbers: the baseline spider's callback does only the first line; ours does the
rest on the reactor thread (plus whatever Scrapy does for both) and pickles each batch to the database
writer process (`crawler.storewriter`), which unpickles and writes it on the other core.
"""

from __future__ import annotations

import argparse
import base64
import json
import pickle
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server402 import challenge, encode_header  # noqa: E402

URL = "http://127.0.0.1:8402/r/{}"


def best_us(fn: Callable[[], Any], number: int, repeat: int = 9) -> float:
    """Best of `repeat` timings of `number` calls, in µs per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _response(spider: Any, i: int) -> Any:
    from scrapy.http import Response

    url = URL.format(i)
    request = spider._probe_request({"url": url, "method": "GET", "source": {"kind": "bench", "url": "micro"}})
    header = encode_header(challenge(url, i))
    return Response(url, status=402, body=b"{}", request=request,
                    headers={"Content-Type": "application/json", "PAYMENT-REQUIRED": header, "Content-Length": "2"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100, help="probes per database transaction (X402_STORE_BATCH)")
    args = parser.parse_args(argv)

    from scrapy.utils.misc import is_generator_with_return_value
    from scrapy.utils.test import get_crawler

    from crawler.spiders.probe import ProbeSpider, _flat_headers
    from crawler.storewriter import encode_frame
    from index.store import write as store
    from index.store.engine import init_db
    from index.probe.netguard import host_block_reason
    from index.urls import canonical_url
    from index.protocol.challenge import parse_challenge



    rows: list[tuple[str, float]] = []
    url = URL.format(7)
    header = encode_header(challenge(url, 7))
    headers = {"content-type": "application/json", "payment-required": header.decode(), "content-length": "2"}

    rows.append(("baseline callback: b64decode + json.loads", best_us(
        lambda: json.loads(base64.b64decode(header, validate=True)), 5000)))
    rows.append(("index.protocol.challenge.parse_challenge", best_us(lambda: parse_challenge(402, headers, b"{}", probed_url=url), 500)))
    try:
        from index.protocol.hints import extract_hints

        ext = challenge(url, 7)["extensions"]
        accepts = challenge(url, 7)["accepts"]
        rows.append(("  of which index.protocol.hints.extract_hints (bazaar check)", best_us(lambda: extract_hints(ext, accepts, []), 500)))
        from index.protocol.bazaar_schema import check_bazaar

        bazaar = ext["bazaar"]
        rows.append(("    of which index.protocol.bazaar_schema.check_bazaar (jsonschema)", best_us(
            lambda: check_bazaar(bazaar["info"], bazaar["schema"]), 500)))
    except (ImportError, TypeError):
        pass
    parsed = parse_challenge(402, headers, b"{}", probed_url=url)
    rows.append(("Challenge.model_dump(mode='json') for the item", best_us(lambda: parsed.model_dump(mode="json"), 2000)))
    rows.append(("canonical_url (once)", best_us(lambda: canonical_url(url), 5000)))
    rows.append(("SSRF host_block_reason (once per request)", best_us(lambda: host_block_reason(url, allow_private=True), 5000)))

    import crawler.settings as project_settings

    settings = {k: v for k, v in vars(project_settings).items() if k.isupper()}
    settings.update(X402_ALLOW_PRIVATE=True, LOG_LEVEL="WARNING")
    crawler = get_crawler(ProbeSpider, settings)
    spider = ProbeSpider.from_crawler(crawler, candidates=[])
    crawler.spider = spider
    responses = [_response(spider, i) for i in range(2000)]
    rows.append(("_flat_headers", best_us(lambda: _flat_headers(responses[0].headers, 65536), 5000)))
    it = iter(range(10**9))
    rows.append(("ProbeSpider._probe_request (start, per candidate)", best_us(
        lambda: spider._probe_request({"url": URL.format(next(it) + 10**6), "method": "GET",
                                       "source": {"kind": "bench", "url": "micro"}}), 1000)))
    items: list[dict[str, Any]] = []  # the first ones, for the store lines (no more: a growing heap slows the GC)
    done = [0]

    def callback() -> None:
        response = responses[done[0] % len(responses)]
        done[0] += 1
        for x in spider.parse_probe(response):
            if isinstance(x, dict) and len(items) < args.batch * 5:
                items.append(x)

    rows.append(("ProbeSpider.parse_probe (whole callback, item built)", best_us(callback, 400)))
    if items[0]["outcome"] != "paid":
        raise SystemExit(f"the callback did not see a paid challenge: {items[0]['outcome']}")
    item_size = len(json.dumps(items[0]))
    rows.append(("Scrapy generator-return check, cache miss: parse_probe (off in ours)", best_us(
        lambda: is_generator_with_return_value(spider.parse_probe), 50)))

    class _Tiny:
        def parse(self, response: Any) -> Any:
            obj = json.loads(base64.b64decode(response.headers[b"PAYMENT-REQUIRED"], validate=True))
            yield {"url": response.url, "status": response.status, "amount": obj["accepts"][0]["amount"]}

    tiny = _Tiny()
    rows.append(("Scrapy generator-return check, cache miss: baseline parse", best_us(
        lambda: is_generator_with_return_value(tiny.parse), 50)))

    probes = [dict(item) for item in items[: args.batch * 5]]
    batches = [probes[i:i + args.batch] for i in range(0, len(probes), args.batch)]
    rows.append((f"crawler.storewriter.encode_frame (pickle), batch {args.batch}", best_us(
        lambda: encode_frame(batches[0]), 20) / len(batches[0])))
    frame = encode_frame(batches[0])[8:]
    rows.append((f"  its unpickling in the writer, batch {args.batch}", best_us(
        lambda: pickle.loads(frame), 20) / len(batches[0])))
    with tempfile.TemporaryDirectory() as tmp:
        engine = init_db(f"sqlite:///{tmp}/micro.db")
        label = "index.store.write.record_probes (writer process)"
        timings = []
        for batch in batches:  # first crawl: every resource new
            timings.append(timeit.timeit(lambda b=batch: store.record_probes(engine, b), number=1) / len(batch) * 1e6)
        rows.append((f"{label}, new resources, batch {args.batch}", min(timings)))
        timings = []
        for batch in batches:  # the same probes again: every resource known
            timings.append(timeit.timeit(lambda b=batch: store.record_probes(engine, b), number=1) / len(batch) * 1e6)
        rows.append((f"{label}, known resources, batch {args.batch}", min(timings)))

    width = max(len(label) for label, _ in rows)
    for label, us in rows:
        print(f"{label:<{width}}  {us:9.1f} µs")
    print(f"(item: {item_size} bytes of JSON; header {len(header)} bytes)")
    print(json.dumps({label: round(us, 1) for label, us in rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
