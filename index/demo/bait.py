"""Markup bait on the hostile origin, for the site's XSS tests (tests/browser/test_browser.py).

The hostile origin's homepage title and description, and the `tags` of its /bait-tags challenge,
carry `</script>`, `<img onerror>` and `javascript:` URLs. The crawler stores them as text; the site
must render every one inert: escaped text, no dialog, no script run, no link with a javascript: href.
Record titles stay plain: they take the provider from the part of the title before " · ".
"""

from __future__ import annotations

from html import escape
from typing import Any

BAIT_TITLE = 'Hostile test origin · </title></script><script>alert("title")</script>'
BAIT_DESCRIPTION = ('Misbehaving endpoints for crawler tests. "><img src=x onerror=alert("description")> '
                    '<a href="javascript:alert(3)">javascript:alert("description")</a> <!--<script>')
# The bazaar limits (index.protocol.challenge.MAX_TAGS, MAX_TAG): at most 5 tags of at most 32 characters.
BAIT_TAGS = ("</script><script>alert(4)", '"><img src=x onerror=alert(5)>', "javascript:alert(6)", "<!--<script>")


def bait_head() -> str:
    """The homepage's <title> and description, escaped as HTML so a parser reads the bait as text."""
    return (f"<title>{escape(BAIT_TITLE, quote=False)}</title>"
            f'<meta name="description" content="{escape(BAIT_DESCRIPTION, quote=True)}">')


def with_bait_tags(challenge: dict[str, Any]) -> dict[str, Any]:
    """A v2 challenge whose resource carries BAIT_TAGS."""
    challenge["resource"]["tags"] = list(BAIT_TAGS)
    return challenge
