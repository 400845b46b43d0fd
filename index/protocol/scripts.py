"""Look-alike text: words that mix letters of scripts drawn alike (Latin, Cyrillic, Greek, …). Pure.

"Сoinbase Оfficial" starts each word with a Cyrillic capital (С U+0421, О U+041E) among Latin letters:
it reads as "Coinbase Official" and is not. A word (a run of letters) that mixes two of the
CONFUSABLE scripts is flagged and its minority letters are named, so a page can show them. Words of
one script each, side by side, are ordinary multilingual text ("Погода API") and are not flagged.

`mixed_words` finds them; `mixed_script_findings` makes the `text_mixed_script` finding of the fields
of a challenge or a catalog record. Whole-script look-alikes (a word all in Cyrillic that reads as
Latin, "рау") are not detected: they need a confusables table, and no word of them mixes scripts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.findings import finding

# Scripts with letters drawn like Latin ones (Unicode's confusables are mostly among these).
CONFUSABLE = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})
MAX_WORDS_NAMED = 3  # in a finding's detail
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class MixedWord:
    start: int  # offsets in the text
    end: int
    script: str  # the word's main script (its most letters; Latin on a tie)
    odd: tuple[tuple[int, str], ...]  # (offset in the text, script) of each letter of another script


def script_of(char: str) -> str | None:
    """The script of a letter among CONFUSABLE, from its Unicode name (LATIN SMALL LETTER A → LATIN)."""
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return first if first in CONFUSABLE else None


def mixed_words(text: str | None) -> list[MixedWord]:
    """The words of `text` whose letters come from more than one CONFUSABLE script."""
    if not text or text.isascii():
        return []
    out = []
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():
            continue
        scripts = [script_of(c) for c in word]
        counts = Counter(s for s in scripts if s)
        if len(counts) < 2:
            continue
        main = max(counts, key=lambda s: (counts[s], s == "LATIN"))
        odd = tuple((match.start() + i, s) for i, s in enumerate(scripts) if s and s != main)
        out.append(MixedWord(match.start(), match.end(), main, odd))
    return out


def describe(text: str, word: MixedWord) -> str:
    """'Сoinbase': С (CYRILLIC) in a LATIN word."""
    letters = ", ".join(f"{text[i]} ({s})" for i, s in word.odd[:5]) + (", …" if len(word.odd) > 5 else "")
    return f"'{text[word.start:word.end][:40]}': {letters} in a {word.script} word"


def mixed_script_findings(texts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One `text_mixed_script` finding per field (where → text) that has a mixed word."""
    out = []
    for where, text in texts.items():
        if not isinstance(text, str):
            continue
        words = mixed_words(text)
        if words:
            named = "; ".join(describe(text, w) for w in words[:MAX_WORDS_NAMED])
            out.append(finding("text_mixed_script", where, named + ("; …" if len(words) > MAX_WORDS_NAMED else "")))
    return out
