"""The frontier's serializer: Scrapy request dicts as tagged JSON, never pickle.

scrapy-redis pickles requests by default, so anyone who can write to Redis could run code in every
worker. Our requests are plain data (tests/crawler/test_requests_picklable.py), so JSON with four tags is
enough: bytes, tuples, sets (frozensets come back as frozensets) and dicts whose keys are not
strings (Scrapy's headers: bytes names). A module with `dumps` and `loads`, the shape scrapy-redis'
SCHEDULER_SERIALIZER expects.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_TAGS = ("__b", "__t", "__s", "__d")


def _tag(value: Any) -> Any:
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            tagged = {k: _tag(v) for k, v in value.items()}
            # a plain dict that happens to look like a tag is wrapped, so it comes back as it was
            return {"__d": [[k, v] for k, v in tagged.items()]} if len(value) == 1 and next(iter(value)) in _TAGS else tagged
        return {"__d": [[_tag(k), _tag(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, tuple):
        return {"__t": [_tag(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"__s": [_tag(v) for v in sorted(value, key=repr)]}
    if isinstance(value, (bytes, bytearray)):
        return {"__b": base64.b64encode(bytes(value)).decode("ascii")}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"the frontier carries plain data only, not {type(value).__name__}")


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "__b":
            return base64.b64decode(inner)
        if key == "__t":
            return tuple(_untag(v) for v in inner)
        if key == "__s":
            return frozenset(_untag(v) for v in inner)
        if key == "__d":
            return {_hashable(_untag(k)): _untag(v) for k, v in inner}
    return {k: _untag(v) for k, v in value.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def dumps(obj: Any) -> bytes:
    return json.dumps(_tag(obj), separators=(",", ":"), allow_nan=False).encode()


def loads(data: bytes | str) -> Any:
    return _untag(json.loads(data))
