"""Test-buy: pay one x402 endpoint once, safely, and record the proof.

`policy` holds the pure rules (quote binding, accept selection, caps, budget), `sign` the official
SDK signer fenced in by them, `fetch` the guarded requests, `ledger` the database side, and `run`
the flow that ties them together (`TestBuyer(engine, key).run(BuyRequest(...))`).
"""

from index.testbuy.policy import Limits, Outcome, Refusal
from index.testbuy.run import BuyRequest, BuyResult, TestBuyer

__all__ = ["BuyRequest", "BuyResult", "Limits", "Outcome", "Refusal", "TestBuyer"]
