"""Splitting long text and packing short texts into requests measured in UTF-8 bytes.

Comprehend Medical limits a request by bytes, while its offsets (and Python's) count
characters, so every span here is in characters and sized by its UTF-8 encoding.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Span:
    """Characters [begin, end) of a text."""

    begin: int
    end: int


class ByteMeasure:
    """UTF-8 size of any character span of one text, in O(1) after one pass."""

    def __init__(self, text: str) -> None:
        self._ascii = text.isascii()
        # prefix[i] = UTF-8 bytes of text[:i]
        self._prefix = None if self._ascii else [0, *accumulate(len(ch.encode("utf-8")) for ch in text)]

    def size(self, begin: int, end: int) -> int:
        if self._prefix is None:
            return end - begin
        return self._prefix[end] - self._prefix[begin]

    def furthest_end(self, begin: int, max_bytes: int, limit: int) -> int:
        """The largest end <= limit with size(begin, end) <= max_bytes."""
        if self._prefix is None:
            return min(limit, begin + max_bytes)
        return min(limit, bisect_right(self._prefix, self._prefix[begin] + max_bytes) - 1)


def chunk_spans(text: str, max_bytes: int, overlap_chars: int) -> list[Span]:
    """Spans covering `text`, each at most `max_bytes` in UTF-8, cut after whitespace where
    possible, each starting about `overlap_chars` before the previous one ended so an entity
    cut by one boundary is whole in the neighbouring chunk."""
    if max_bytes < 4:
        raise ValueError(f"max_bytes must allow at least one character, got {max_bytes}")
    measure = ByteMeasure(text)
    length = len(text)
    spans: list[Span] = []
    begin = 0
    while True:
        end = measure.furthest_end(begin, max_bytes, length)
        if end == length:
            spans.append(Span(begin, end))
            return spans
        end = _after_last_whitespace(text, begin + max(1, (end - begin) // 2), end) or end
        spans.append(Span(begin, end))
        next_begin = _after_first_whitespace(text, end - overlap_chars, end) or end - overlap_chars
        # Always advance, even with an overlap as long as the chunk.
        begin = max(next_begin, begin + 1)


def _after_last_whitespace(text: str, low: int, high: int) -> int | None:
    for index in range(high - 1, low - 1, -1):
        if text[index].isspace():
            return index + 1
    return None


def _after_first_whitespace(text: str, low: int, high: int) -> int | None:
    for index in range(max(low, 0), high):
        if text[index].isspace():
            return index + 1
    return None


@dataclass(frozen=True)
class Batch:
    """Several texts joined by a separator into one request, with where each one starts."""

    text: str
    members: tuple[int, ...]  # indices into the caller's list of texts
    starts: tuple[int, ...]   # character offset of each member inside `text`


BATCH_SEPARATOR = "\n\n"


def pack_batches(texts: Sequence[str], max_bytes: int) -> tuple[list[Batch], list[int]]:
    """Greedy packing of texts that are not blank into batches of at most `max_bytes`.

    Returns the batches and the indices of texts too long to share a request (to be chunked
    on their own). Many short strings in one request matter because each request is billed
    at least one 100-character unit.
    """
    separator_bytes = len(BATCH_SEPARATOR.encode("utf-8"))
    batches: list[Batch] = []
    alone: list[int] = []
    parts: list[str] = []
    members: list[int] = []
    starts: list[int] = []
    used_bytes = used_chars = 0

    def close() -> None:
        nonlocal parts, members, starts, used_bytes, used_chars
        if parts:
            batches.append(Batch(BATCH_SEPARATOR.join(parts), tuple(members), tuple(starts)))
        parts, members, starts, used_bytes, used_chars = [], [], [], 0, 0

    for index, text in enumerate(texts):
        if not text.strip():
            continue
        size = len(text.encode("utf-8"))
        if size > max_bytes:
            alone.append(index)
            continue
        extra = size + (separator_bytes if parts else 0)
        if used_bytes + extra > max_bytes:
            close()
            extra = size
        if parts:
            used_chars += len(BATCH_SEPARATOR)
        starts.append(used_chars)
        members.append(index)
        parts.append(text)
        used_chars += len(text)
        used_bytes += extra
    close()
    return batches, alone
