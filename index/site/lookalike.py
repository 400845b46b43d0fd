"""Look-alike text on pages: a word that mixes scripts (index.protocol.scripts) is shown with its
odd letters marked and a "mixed scripts" badge, so "Сoinbase" cannot pass for "Coinbase"."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from index.protocol.scripts import mixed_words

BADGE = Markup(' <span class="badge warn" title="letters of different scripts in one word: a look-alike">mixed scripts</span>')


def mark_scripts(value: Any) -> Any:
    """The text escaped, each letter of another script than its word's in <mark class="confusable">
    (titled with the letter's code point and script), then the badge. Text without a mixed word is
    returned as it is (the template escapes it)."""
    if not isinstance(value, str):
        return value
    words = mixed_words(value)
    if not words:
        return value
    odd = {i: script for w in words for i, script in w.odd}
    parts = []
    for i, char in enumerate(value):
        if i in odd:
            title = f"U+{ord(char):04X} {odd[i].title()}"
            parts.append(Markup('<mark class="confusable" title="{}">{}</mark>').format(title, char))
        else:
            parts.append(escape(char))
    return Markup("").join(parts) + BADGE
