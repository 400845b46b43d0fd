"""Offline spider harness: a ProbeSpider made by Scrapy's get_crawler with the project's settings,
responses built by hand (TextResponse/HtmlResponse) and handed to its callbacks. No reactor, no network."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.spiders.probe import ProbeSpider

PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"


def make_spider(overrides: dict[str, Any] | None = None, **kwargs: Any) -> ProbeSpider:
    values = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    values.update(overrides or {})
    crawler = get_crawler(ProbeSpider, values)
    return ProbeSpider.from_crawler(crawler, **kwargs)


def start(spider: ProbeSpider) -> list[Any]:
    async def collect() -> list[Any]:
        return [x async for x in spider.start()]

    return asyncio.run(collect())


def challenge_header(url: str, amount: str = "1000") -> str:
    obj = {"x402Version": 2, "resource": {"url": url, "description": "A forecast", "mimeType": "application/json"},
           "accepts": [{"scheme": "exact", "network": "eip155:8453", "asset": BASE_USDC, "amount": amount, "payTo": PAY_TO,
                        "maxTimeoutSeconds": 300, "extra": {"name": "USD Coin", "version": "2"}}]}
    return base64.b64encode(json.dumps(obj).encode()).decode()


def answer(request: Request, status: int, body: bytes | str = b"", headers: dict[str, str] | None = None,
           html: bool = False, url: str | None = None) -> TextResponse:
    """`request`'s response, as Scrapy would hand it to the callback (meta reachable through it)."""
    cls = HtmlResponse if html else TextResponse
    data = body.encode() if isinstance(body, str) else body
    return cls(url or request.url, status=status, body=data, headers=headers or {}, request=request, encoding="utf-8")


def paid(request: Request) -> TextResponse:
    return answer(request, 402, b"{}", {"Payment-Required": challenge_header(request.url)})


def requests_of(out: list[Any]) -> list[Request]:
    return [x for x in out if isinstance(x, Request)]


def items_of(out: list[Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [x for x in out if isinstance(x, dict) and (kind is None or x.get("kind") == kind)]
