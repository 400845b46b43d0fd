"""schema.org JSON-LD of a record (pure): a `WebAPI` with its `Offer`, provider and a `BuyAction`
pointing at our test-buy instructions, in the shape of the seed records.

URLs on our site are absolute when the build knows its public URL (`site_url`), else root-relative.
"""

from __future__ import annotations

from typing import Any

from index.urls import is_http_url


def site_link(site_url: str, path: str) -> str:
    """`path` (relative to the site root, e.g. "r/x.html") on our site."""
    return f"{site_url.rstrip('/')}/{path}" if site_url else f"/{path}"


def json_ld(*, slug: str, name: str, description: str, url: str, category: str, page: str,
            origin_page: str, origin_url: str, origin_name: str, status: str,
            offer: dict[str, Any] | None, buy_target: str) -> dict[str, Any]:
    """`offer`: {price, currency, network, asset} of the cheapest priced accept, or None."""
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "WebAPI",
        "@id": page,
        "url": page,
        "identifier": slug,
        "name": name,
        "description": description,
        "applicationCategory": category,
        "provider": {"@type": "Organization", "@id": origin_page, "name": origin_name,
                     **({"url": origin_url} if is_http_url(origin_url) else {})},
        "potentialAction": {"@type": "BuyAction", "target": buy_target,
                            "description": "Test-buy this endpoint once with x402-index (dry run by default)"},
    }
    if is_http_url(url):
        doc["sameAs"] = url
    if offer is not None:
        doc["offers"] = {
            "@type": "Offer",
            "url": page,
            "price": offer["price"],
            "priceCurrency": offer["currency"],
            "availability": "https://schema.org/InStock" if status == "paid" else "https://schema.org/OutOfStock",
            "eligibleCustomerType": "Agent",
            "priceSpecification": {"@type": "UnitPriceSpecification", "price": offer["price"],
                                   "priceCurrency": offer["currency"], "unitText": "call"},
            "additionalProperty": [
                {"@type": "PropertyValue", "name": "paymentNetwork", "value": offer["network"]},
                {"@type": "PropertyValue", "name": "paymentAsset", "value": offer["asset"]},
            ],
        }
    return doc
