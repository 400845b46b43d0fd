"""Wire shapes the fleet sends, built from the spec: a faithful legacy v1 accept (as
`x402-express` emits it, or snake_case as the pre-2.0 Python middleware did) and a v2 accept."""

from __future__ import annotations

from typing import Any

from x402.extensions.bazaar import OutputConfig, declare_discovery_extension

from index.demo.spec import SOLANA_FEE_PAYER, DemoResource, Price
from index.protocol.networks import lookup_asset


def _extra(price: Price) -> dict[str, Any]:
    if price.caip2.startswith("solana:"):
        return {"feePayer": SOLANA_FEE_PAYER}
    asset = lookup_asset(price.caip2, price.asset)
    assert asset and asset.eip712_name
    return {"name": asset.eip712_name, "version": asset.eip712_version}


def v1_output_schema(res: DemoResource) -> dict[str, Any]:
    snake = res.legacy_snake_case
    request: dict[str, Any] = {"type": "http", "method": res.method, "discoverable": True}
    if res.method in ("GET", "HEAD", "DELETE"):
        request["query_params" if snake else "queryParams"] = {
            k: v.get("type", "string") for k, v in (res.query_schema.get("properties") or {}).items()}
    else:
        request["body_type" if snake else "bodyType"] = "json"
        request["body_fields" if snake else "bodyFields"] = {
            k: {**v, "required": k in (res.body_schema.get("required") or [])}
            for k, v in (res.body_schema.get("properties") or {}).items()}
    request["header_fields" if snake else "headerFields"] = {}
    return {"input": request, "output": res.output_example}


def v1_accept(res: DemoResource, price: Price, url: str) -> dict[str, Any]:
    return {
        "scheme": "exact", "network": price.network, "maxAmountRequired": price.atomic, "resource": url,
        "description": res.description, "mimeType": "application/json", "payTo": res.pay_to,
        "maxTimeoutSeconds": 60, "asset": price.asset, "outputSchema": v1_output_schema(res), "extra": _extra(price),
    }


def v1_challenge(res: DemoResource, url: str, error: str = "X-PAYMENT header is required") -> dict[str, Any]:
    return {"x402Version": 1, "error": error, "accepts": [v1_accept(res, p, url) for p in res.prices]}


def v2_accept(res: DemoResource, price: Price) -> dict[str, Any]:
    return {"scheme": "exact", "network": price.caip2, "asset": price.asset, "amount": price.atomic,
            "payTo": res.pay_to, "maxTimeoutSeconds": 300, "extra": _extra(price)}


def bazaar_extension(res: DemoResource, with_method: bool = False) -> dict[str, Any]:
    """The bazaar discovery extension the official SDK builds for a resource (`{"bazaar": {info,
    schema}}`): its example query or body, their JSON-Schema, and its output example. The SDK
    middleware fills in the method from the route; `with_method` writes it in, as a facilitator's
    catalog holds it."""
    body = res.method in ("POST", "PUT", "PATCH")
    ext = declare_discovery_extension(
        input=res.body_example if body else (res.query_example or None),
        input_schema=res.body_schema if body else (res.query_schema or None),
        body_type="json" if body else None,
        output=OutputConfig(example=res.output_example),
    )
    if with_method:
        ext["bazaar"]["info"]["input"]["method"] = res.method
    return ext
