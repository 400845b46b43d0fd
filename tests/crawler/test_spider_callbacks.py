"""Scrapy's check for `return value` in generator callbacks is off (crawler/settings.py, it re-parsed a
callback's source on every cache miss); this test runs the same check on our callbacks once instead."""

from __future__ import annotations

import inspect

from scrapy.utils.misc import is_generator_with_return_value

from crawler import settings
from crawler.spiders.origins import OriginDiscovery
from crawler.spiders.probe import ProbeSpider

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)


def test_the_per_response_check_is_off() -> None:
    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False


def test_no_generator_callback_returns_a_value() -> None:
    callbacks = [f for cls in (ProbeSpider, OriginDiscovery) for name, f in vars(cls).items()
                 if inspect.isgeneratorfunction(f) and not name.startswith("__")]
    assert len(callbacks) >= 5
    for callback in callbacks:
        assert not is_generator_with_return_value(callback), callback.__qualname__
