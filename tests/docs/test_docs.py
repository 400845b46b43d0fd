"""The README documents every CLI command and every X402_* setting (sqlite-utils style)."""

from __future__ import annotations

import crawler.settings as settings
from index.cli.app import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_every_command_is_in_the_readme() -> None:
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert names
    for name in names:
        assert f"| `{name}` |" in README, name
        assert f"x402-index {name}" in README, name


def test_every_x402_setting_is_in_the_readme() -> None:
    names = [n for n in dir(settings) if n.startswith("X402_")]
    assert names
    for name in names:
        assert f"`{name}`" in README, name


def test_readme_shows_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README
