"""Find verbatim quotes in a source text and record where they are.

Quotes are matched with whitespace and the markdown marks ``#`` and ``*`` folded away, because
the PDF conversion split sentences across page breaks and put spaces around numbers. Offsets
always index the original text in code points (Web Annotation's TextPositionSelector).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FOLDED = re.compile(r"[\s#*]")
SENTENCE_END = "。！？"
CONTEXT = 16
# A blank line after a line this long that does not end a sentence is a page break inside a
# sentence (the five page breaks of the reply split paragraphs of 100+ characters).
PAGE_BREAK_MIN_LINE = 60


def fold(text: str) -> str:
    """Drop whitespace and markdown marks: the form quotes are compared in."""
    return FOLDED.sub("", text)


@dataclass(frozen=True)
class Span:
    """Where a quote stands in the original text: ``text[start:end] == exact``."""

    start: int
    end: int
    exact: str
    prefix: str
    suffix: str
    sentence: str


class QuoteError(ValueError):
    """A quote is missing, ambiguous or longer than one sentence."""


class SourceIndex:
    """A source text prepared for quote look-ups."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        positions: list[int] = []
        for i, ch in enumerate(text):
            if not FOLDED.fullmatch(ch):
                chars.append(ch)
                positions.append(i)
        self.folded = "".join(chars)
        self.positions = positions
        self._boundaries = self._sentence_boundaries()

    def _sentence_boundaries(self) -> list[int]:
        """Original offsets where a sentence starts."""
        text = self.text
        starts = {0}
        for i, ch in enumerate(text):
            if ch in SENTENCE_END:
                starts.add(i + 1)
        for m in re.finditer(r"\n[ \t]*\n", text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line = text[line_start : m.start()].rstrip()
            if len(line) >= PAGE_BREAK_MIN_LINE and line[-1:] not in SENTENCE_END + "：:”**":
                continue  # a page break inside a sentence
            starts.add(m.end())
        for m in re.finditer(r"\n", text):
            starts.add(m.end()) if text[m.end() : m.end() + 1] in ("#", "-") else None
        return sorted(starts)

    def find(self, quote: str) -> Span:
        """Locate ``quote``; it must occur exactly once and stay within one sentence."""
        q = fold(quote)
        if not q:
            raise QuoteError("empty quote")
        body = q[:-1] if q[-1] in SENTENCE_END else q
        if any(ch in body for ch in SENTENCE_END):
            raise QuoteError(f"quote runs past the end of a sentence: {quote!r}")
        first = self.folded.find(q)
        if first < 0:
            raise QuoteError(f"quote not found in the source: {quote!r}")
        second = self.folded.find(q, first + 1)
        if second >= 0:
            n = self.folded.count(q)
            raise QuoteError(f"quote occurs {n} times in the source, lengthen it: {quote!r}")
        start = self.positions[first]
        end = self.positions[first + len(q) - 1] + 1
        return Span(
            start=start,
            end=end,
            exact=self.text[start:end],
            prefix=self.text[max(0, start - CONTEXT) : start],
            suffix=self.text[end : end + CONTEXT],
            sentence=self.sentence(start, end),
        )

    def sentence(self, start: int, end: int) -> str:
        """The whole sentence around ``text[start:end]``, folded for display."""
        import bisect

        b = self._boundaries
        i = bisect.bisect_right(b, start) - 1
        s = b[i] if i >= 0 else 0
        j = bisect.bisect_left(b, end)
        e = b[j] if j < len(b) else len(self.text)
        return fold(self.text[s:e])

    def contains(self, quote: str, needle: str) -> bool:
        """Whether ``needle`` occurs in ``quote`` once both are folded."""
        return fold(needle) in fold(quote)
