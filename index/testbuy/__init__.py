"""Test-buy: pay one x402 endpoint once, safely, and record the proof.

`policy` holds the pure rules (quote binding, accept selection, caps, budget), `sign` the official
SDK signer fenced in by them, `fetch` the guarded requests, `ledger` the database side, and `run`
the flow that ties them together (`TestBuyer(engine, key).run(BuyRequest(...))`).

The names below are imported on first use: a command that reads only `policy`'s defaults (every
CLI call, through index.cli.options) does not load the SDK, the database layer and JSON Schema.
"""

from typing import Any

__all__ = ["BuyRequest", "BuyResult", "Limits", "Outcome", "Refusal", "TestBuyer"]
_HOMES = {"Limits": "policy", "Outcome": "policy", "Refusal": "policy",
          "BuyRequest": "run", "BuyResult": "run", "TestBuyer": "run"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
