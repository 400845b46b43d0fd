"""Whatever a server sends, the parser returns a Challenge: never another exception."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from index.x402 import Challenge, parse_challenge

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
challenge_like = st.fixed_dictionaries({
    "x402Version": st.one_of(st.sampled_from([1, 2]), json_values),
    "accepts": st.one_of(st.lists(st.dictionaries(
        st.sampled_from(["scheme", "network", "amount", "maxAmountRequired", "asset", "payTo", "maxTimeoutSeconds",
                         "extra", "resource", "description", "mimeType", "outputSchema"]), json_values, max_size=12),
        max_size=3), json_values),
    "resource": json_values,
    "extensions": json_values,
})


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([402, 200, 500]), header=st.one_of(st.none(), st.text(max_size=200)), body=st.binary(max_size=500))
def test_any_bytes(status: int, header: str | None, body: bytes) -> None:
    headers = {"payment-required": header} if header is not None else {}
    assert isinstance(parse_challenge(status, headers, body), Challenge)


@settings(max_examples=300, deadline=None)
@given(obj=challenge_like, in_header=st.booleans())
def test_any_challenge_shaped_json(obj: dict, in_header: bool) -> None:
    raw = json.dumps(obj).encode()
    headers = {"PAYMENT-REQUIRED": base64.b64encode(raw).decode()} if in_header else {}
    ch = parse_challenge(402, headers, b"" if in_header else raw)
    assert isinstance(ch, Challenge)
    for acc in ch.accepts:
        assert acc.amount_atomic is None or acc.amount_atomic.isdigit()
