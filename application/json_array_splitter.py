"""Turning a JSON array into JSON Lines, chunk by chunk, with numpy instead of a parser.

The bytes keep their positions: the array's brackets and raw newlines become spaces and the
commas between top-level elements become newlines. So element ``i`` of the array is line
``i`` of the output, the original text of any element is a slice of the input, and
pyarrow's fast JSON Lines reader can parse the result. State (string, escape, depth) is
carried from one chunk to the next, so memory stays bounded by the chunk size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTE, BACKSLASH, COMMA, NEWLINE, RETURN, SPACE = 34, 92, 44, 10, 13, 32
BRACE_OPEN, BRACE_CLOSE, BRACKET_OPEN, BRACKET_CLOSE = b"{}[]"


_LOOKAHEAD = 8


def _is_space(values: np.ndarray) -> np.ndarray:
    return (values == SPACE) | (values == NEWLINE) | (values == RETURN) | (values == 9)


def _line_breaks(data: np.ndarray, separators: np.ndarray) -> np.ndarray:
    """Where each separator's newline goes: on the last blank before the next element, so
    that the element's line starts with its first byte ('{'); else on the comma itself."""
    breaks = separators.copy()
    searching = np.ones(len(separators), dtype=bool)
    for step in range(1, _LOOKAHEAD + 1):
        position = separators + step
        searching &= position < len(data)
        if not searching.any():
            break
        found = searching.copy()
        found[searching] = ~_is_space(data[position[searching]])
        breaks[found] = position[found] - 1
        searching &= ~found
    return breaks


@dataclass
class _State:
    depth: int = 0
    in_string: bool = False
    backslashes: int = 0  # length of the backslash run that ended the previous chunk


class ArraySplitter:
    """Feed the bytes of a JSON array in order; they become JSON Lines of the same length."""

    def __init__(self) -> None:
        self._state = _State()

    def feed(self, chunk: memoryview) -> None:
        """Rewrite the next span in place: element separators become newlines, raw newlines
        and the array's brackets spaces."""
        if not len(chunk):
            return
        data = np.frombuffer(chunk, dtype=np.uint8)
        out = data  # in place: everything below reads positions it has not changed
        data[(data == NEWLINE) | (data == RETURN)] = SPACE
        state = self._state

        quotes = np.flatnonzero(data == QUOTE)
        quotes = quotes[~self._escaped(data, quotes)]
        structural = np.flatnonzero(
            (data == COMMA)
            | (data == BRACE_OPEN)
            | (data == BRACE_CLOSE)
            | (data == BRACKET_OPEN)
            | (data == BRACKET_CLOSE)
        )
        # A structural byte is outside strings when an even number of real quotes precede it.
        before = np.searchsorted(quotes, structural)
        outside = structural[((before + state.in_string) % 2) == 0]
        kinds = data[outside]
        delta = ((kinds == BRACE_OPEN) | (kinds == BRACKET_OPEN)).astype(np.int64)
        delta -= (kinds == BRACE_CLOSE) | (kinds == BRACKET_CLOSE)
        depth_after = state.depth + np.cumsum(delta)
        depth_before = depth_after - delta
        separators = outside[(kinds == COMMA) & (depth_before == 1)]
        out[separators] = SPACE
        out[_line_breaks(data, separators)] = NEWLINE
        # The array's own brackets: the opener that enters depth 1, the closer that leaves it.
        out[outside[(delta == 1) & (depth_before == 0)]] = SPACE
        out[outside[(delta == -1) & (depth_after == 0)]] = SPACE

        if len(outside):
            state.depth = int(depth_after[-1])
        state.in_string = bool((len(quotes) + state.in_string) % 2)
        tail = len(data) - 1
        run = 0
        while tail >= 0 and data[tail] == BACKSLASH:
            run += 1
            tail -= 1
        state.backslashes = run if tail >= 0 else state.backslashes + run

    def _escaped(self, data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
        """Which quotes are escaped: preceded by an odd run of backslashes (rare: a loop)."""
        escaped = np.zeros(len(quotes), dtype=bool)
        if not len(quotes):
            return escaped
        previous = data[np.maximum(quotes - 1, 0)]
        for i in np.flatnonzero((previous == BACKSLASH) | (quotes == 0)):
            run, j = 0, int(quotes[i]) - 1
            while j >= 0 and data[j] == BACKSLASH:
                run += 1
                j -= 1
            if j < 0:  # the run started in the previous chunk
                run += self._state.backslashes
            escaped[i] = run % 2 == 1
        return escaped

    @property
    def depth(self) -> int:
        return self._state.depth
