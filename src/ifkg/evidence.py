"""Find verbatim quotes in a source text and record where they are.

Quotes are matched with whitespace and the markdown marks ``#`` and ``*`` folded away, because
the PDF conversion split sentences across page breaks and put spaces around numbers. Offsets
always index the original text in code points (Web Annotation's TextPositionSelector).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

FOLDED = re.compile(r"[\s#*]")
KEPT = re.compile(r"[^\s#*]+")
SENTENCE_END = "。！？"
CONTEXT = 16
# A blank line after a line this long that does not end a sentence is a page break inside a
# sentence (the five page breaks of the reply split paragraphs of 100+ characters).
PAGE_BREAK_MIN_LINE = 60
SENTENCE_MARK = re.compile(f"[{SENTENCE_END}]")
LIST_OR_HEADING = re.compile(r"\n(?=[#-])")  # a line starting a heading or a list item


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
        self.folded = fold(text)
        # original offset of each folded character, run by run of kept characters
        positions: list[int] = []
        for m in KEPT.finditer(text):
            positions.extend(range(m.start(), m.end()))
        self.positions = positions
        self._boundaries = self._sentence_boundaries()
        # quote -> its span or the reason it was refused: a sentence is often quoted by a
        # mention and by the relations and measurements it supports
        self._found: dict[str, Span | str] = {}

    def _sentence_boundaries(self) -> list[int]:
        """Original offsets where a sentence starts."""
        text = self.text
        starts = {0}
        starts.update(m.end() for m in SENTENCE_MARK.finditer(text))
        for m in re.finditer(r"\n[ \t]*\n", text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line = text[line_start : m.start()].rstrip()
            if len(line) >= PAGE_BREAK_MIN_LINE and line[-1:] not in SENTENCE_END + "：:”**":
                continue  # a page break inside a sentence
            starts.add(m.end())
        starts.update(m.end() for m in LIST_OR_HEADING.finditer(text))
        return sorted(starts)

    def find(self, quote: str) -> Span:
        """Locate ``quote``; it must occur exactly once and stay within one sentence."""
        found = self._found.get(quote)
        if found is None:
            try:
                found = self._find(quote)
            except QuoteError as exc:
                found = str(exc)
            self._found[quote] = found
        if isinstance(found, str):
            raise QuoteError(found)
        return found

    def _find(self, quote: str) -> Span:
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
        b = self._boundaries
        i = bisect.bisect_right(b, start) - 1
        s = b[i] if i >= 0 else 0
        j = bisect.bisect_left(b, end)
        e = b[j] if j < len(b) else len(self.text)
        return fold(self.text[s:e])

    def contains(self, quote: str, needle: str) -> bool:
        """Whether ``needle`` occurs in ``quote`` once both are folded."""
        return fold(needle) in fold(quote)
