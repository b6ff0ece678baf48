"""Turning a JSON array into JSON Lines, chunk by chunk, with numpy instead of a parser.

The bytes keep their positions: the array's brackets and raw newlines become spaces and the
commas between top-level elements become newlines. So element ``i`` of the array is line
``i`` of the output, the original text of any element is a slice of the input, and
pyarrow's fast JSON Lines reader can parse the result. State (string, escape, the open
brackets) is carried from one chunk to the next, so memory stays bounded by the chunk size.

Splitting by bracket depth is only right while the brackets are: a missing ``}`` would make
every later element one line, a stray ``}`` or an early ``]`` would cut elements into
fragments. So the structure is checked as it goes, and ``BrokenArray`` names the first byte
where it fails: a closer that does not match its opener (or has none), an element that
follows another without a comma, anything after the array's closing bracket. A file that
simply stops (cut short) is not broken here: its whole elements are read, its tail rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

QUOTE, BACKSLASH, COMMA, NEWLINE, RETURN, SPACE, TAB = 34, 92, 44, 10, 13, 32, 9
BRACE_OPEN, BRACE_CLOSE, BRACKET_OPEN, BRACKET_CLOSE = b"{}[]"
_OPENER_OF = {BRACE_CLOSE: BRACE_OPEN, BRACKET_CLOSE: BRACKET_OPEN}
BREAK_IN_STRING = 0x1F  # what a raw line break inside a string becomes (see feed)

_LOOKAHEAD = 8
# The events at the array's own level, in the order they come.
_OPEN, _COMMA, _START, _END, _CLOSE = range(5)


class BrokenArray(ValueError):
    """The array's brackets or commas are broken at ``offset`` (bytes from its start)."""

    def __init__(self, offset: int, what: str) -> None:
        super().__init__(f"the JSON array is broken at byte {offset:,}: {what}")
        self.offset = offset


def _is_space(values: np.ndarray) -> np.ndarray:
    return (values == SPACE) | (values == NEWLINE) | (values == RETURN) | (values == TAB)


def _first_text(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each span [start, end) of ``data``, where its first non-blank byte is (-1: none).
    Spans between elements are short: the first ``_LOOKAHEAD * 4`` bytes of all of them are
    looked at together, the rare longer rest one by one."""
    found = np.full(len(starts), -1)
    filled = np.flatnonzero(ends > starts)  # most gaps are empty: '},{' in compact JSON
    if not len(filled):
        return found
    if len(filled) < len(starts):
        found[filled] = _first_text(data, starts[filled], ends[filled])
        return found
    width = _LOOKAHEAD * 4
    cells = starts[:, None] + np.arange(width)[None, :]
    inside = cells < ends[:, None]
    text = inside & ~_is_space(data[np.minimum(cells, len(data) - 1)])
    hit = text.any(axis=1)
    found[hit] = cells[hit, text[hit].argmax(axis=1)]
    for i in np.flatnonzero(~hit & (ends - starts > width)):
        rest = np.flatnonzero(~_is_space(data[starts[i] + width : ends[i]]))
        if len(rest):
            found[i] = starts[i] + width + rest[0]
    return found


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


def _mismatch(position: int, closer: int, opener: tuple[int, int]) -> tuple[int, str]:
    """A closer that does not close the bracket its level opened: (where, what)."""
    kind, opened_at = opener
    should = "}" if kind == BRACE_OPEN else "]"
    return (
        position,
        f"{chr(closer)!r} where {should!r} should close the {chr(kind)!r} at byte {opened_at:,}"
        " (a bracket is missing or extra in that element)",
    )


@dataclass
class _State:
    depth: int = 0
    in_string: bool = False
    backslashes: int = 0  # length of the backslash run that ended the previous chunk
    offset: int = 0  # of the next chunk's first byte
    # The opener (byte, offset) of each open level, the array's own first.
    open: list[tuple[int, int]] = field(default_factory=list)
    last_event: int = -1  # the last event at the array's level (_OPEN ... _CLOSE), -1: none yet
    text_after_event: int = -1  # offset of the first non-blank byte after it, at its level
    element_start: int = 0  # offset just past the last '[' or ',' at the array's level
    last_container: tuple[int, int] = (0, 0)  # the last element's opening bracket and offset


class ArraySplitter:
    """Feed the bytes of a JSON array in order; they become JSON Lines of the same length."""

    def __init__(self, offset: int = 0) -> None:
        """``offset``: where the first byte fed is in the file (after a byte order mark)."""
        self._state = _State(offset=offset)

    def feed(self, chunk: memoryview) -> None:
        """Rewrite the next span in place: element separators become newlines, raw newlines
        and the array's brackets spaces. Raises ``BrokenArray``."""
        if not len(chunk):
            return
        data = np.frombuffer(chunk, dtype=np.uint8)
        out = data  # in place: everything below reads positions it has not changed
        breaks = np.flatnonzero((data == NEWLINE) | (data == RETURN))
        data[breaks] = SPACE
        state = self._state

        quotes = np.flatnonzero(data == QUOTE)
        quotes = quotes[~self._escaped(data, quotes)]
        if len(breaks):
            # A raw line break inside a string is not JSON (the API refuses it): it becomes a
            # control character, which keeps the element on its line and gets it rejected.
            inside = ((np.searchsorted(quotes, breaks) + state.in_string) % 2) == 1
            out[breaks[inside]] = BREAK_IN_STRING
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
        self._check(data, outside, kinds, delta, depth_before, depth_after)

        separators = outside[(kinds == COMMA) & (depth_before == 1)]
        openers = outside[(delta == 1) & (depth_before == 0)]
        if len(separators) or len(openers):
            state.element_start = state.offset + int(max(separators.max(initial=-1), openers.max(initial=-1))) + 1
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
        state.offset += len(data)

    def _check(
        self,
        data: np.ndarray,
        outside: np.ndarray,
        kinds: np.ndarray,
        delta: np.ndarray,
        depth_before: np.ndarray,
        depth_after: np.ndarray,
    ) -> None:
        """Raise ``BrokenArray`` at the first byte of this chunk that breaks the array's
        structure; else carry what the next chunk needs to go on checking."""
        state = self._state
        problems: list[tuple[int, str]] = []
        closers = delta == -1
        stray = np.flatnonzero(closers & (depth_before <= 0))
        if len(stray):
            problems.append((int(outside[stray[0]]), f"a {chr(kinds[stray[0]])!r} with nothing open to close"))
        checked = len(outside) if not len(stray) else int(stray[0])
        problems += self._mismatched(outside[:checked], kinds[:checked], delta[:checked], depth_after[:checked])
        problems += self._level_one(data, outside[:checked], kinds[:checked], delta[:checked], depth_before[:checked])
        if problems:
            position, what = min(problems)
            raise BrokenArray(state.offset + position, what)

    def _mismatched(
        self, outside: np.ndarray, kinds: np.ndarray, delta: np.ndarray, depth_after: np.ndarray
    ) -> list[tuple[int, str]]:
        """Closers that do not close the kind of bracket their level opened; updates the
        stack of open brackets."""
        state = self._state
        brackets = np.flatnonzero(delta != 0)
        if not len(brackets):
            return []
        opener = delta[brackets] == 1
        level = np.where(opener, depth_after[brackets], depth_after[brackets] + 1)
        # By level, then position (already ascending): a stable sort on small integers is a
        # radix sort in numpy.
        small = level.astype(np.int16) if level.max() < np.iinfo(np.int16).max else level
        order = brackets[np.argsort(small, kind="stable")]
        ordered_level = np.where(delta[order] == 1, depth_after[order], depth_after[order] + 1)
        is_closer = delta[order] == -1
        starts_group = np.ones(len(order), dtype=bool)
        starts_group[1:] = ordered_level[1:] != ordered_level[:-1]
        found: list[tuple[int, str]] = []
        # A closer's opener is the item before it at its level, or one carried from earlier.
        inside = np.flatnonzero(is_closer & ~starts_group)
        wanted = np.where(kinds[order[inside]] == BRACE_CLOSE, BRACE_OPEN, BRACKET_OPEN)
        wrong = inside[kinds[order[inside - 1]] != wanted]
        for i in wrong[:1]:
            opener = (int(kinds[order[i - 1]]), state.offset + int(outside[order[i - 1]]))
            found.append(_mismatch(int(outside[order[i]]), int(kinds[order[i]]), opener))
        for i in np.flatnonzero(is_closer & starts_group):
            carried = state.open[int(ordered_level[i]) - 1]
            if carried[0] != _OPENER_OF[int(kinds[order[i]])]:
                found.append(_mismatch(int(outside[order[i]]), int(kinds[order[i]]), carried))
                break
        if found:
            return found
        # The new stack: at each level still open, this chunk's last opener, or the carried one.
        depth_end = int(depth_after[-1])
        ends = np.flatnonzero(np.append(starts_group[1:], True))
        last_at_level = {int(ordered_level[i]): int(order[i]) for i in ends}
        stack = state.open[:depth_end]
        stack += [(0, 0)] * (depth_end - len(stack))
        for level_number, i in last_at_level.items():
            if level_number <= depth_end and delta[i] == 1:
                stack[level_number - 1] = (int(kinds[i]), state.offset + int(outside[i]))
        state.open = stack
        return []

    def _level_one(
        self, data: np.ndarray, outside: np.ndarray, kinds: np.ndarray, delta: np.ndarray, depth_before: np.ndarray
    ) -> list[tuple[int, str]]:
        """At the array's own level: every element follows '[' or ',' with nothing else
        before it, is followed by ',' or ']' with nothing else after it, and nothing
        follows the closing ']'."""
        state = self._state
        depth_after = depth_before + delta
        event = np.full(len(outside), -1)
        event[(delta == 1) & (depth_before == 0)] = _OPEN
        event[(kinds == COMMA) & (depth_before == 1)] = _COMMA
        event[(delta == 1) & (depth_before == 1)] = _START
        event[(delta == -1) & (depth_after == 1)] = _END
        event[(delta == -1) & (depth_after == 0)] = _CLOSE
        at_level = np.flatnonzero(event >= 0)
        positions, events = outside[at_level], event[at_level]
        # Gap i lies between event i - 1 (the carried one for i = 0) and event i (the end of
        # the chunk for the last gap).
        bounds = np.concatenate(([-1], positions, [len(data)]))
        previous = np.concatenate(([state.last_event], events))
        following = np.concatenate((events, [-1]))
        wanted = (following == _START) | (previous == _END) | (previous == _CLOSE)
        wanted |= (previous == _COMMA) & ((following == _COMMA) | (following == _CLOSE))
        wanted |= (previous == _OPEN) & (following == _COMMA)
        wanted[-1] = True  # the next chunk may need to know what the last gap holds
        text_at = np.full(len(bounds) - 1, -1)
        chosen = np.flatnonzero(wanted)
        text_at[chosen] = _first_text(data, bounds[chosen] + 1, bounds[chosen + 1])
        has_text = text_at != -1
        if state.text_after_event >= 0:  # text after the last event, seen in an earlier chunk
            text_at[0], has_text[0] = state.text_after_event - state.offset, True  # (a negative offset)
        found: list[tuple[int, str]] = []
        for i in np.flatnonzero(following == _START):
            if previous[i] not in (_OPEN, _COMMA):
                found.append((int(bounds[i + 1]), "an element without a ',' before it"))
            elif has_text[i]:
                found.append((int(text_at[i]), "a value and an element without a ',' between them"))
        for i in np.flatnonzero((previous == _END) & has_text):
            found.append((int(text_at[i]), "something after an element where ',' or ']' should be"))
        for i in np.flatnonzero(~has_text & (previous == _COMMA) & (following == _CLOSE)):
            found.append((int(bounds[i]), "a ',' with no element after it (a trailing comma)"))
        for i in np.flatnonzero(~has_text & (previous == _COMMA) & (following == _COMMA)):
            found.append((int(bounds[i + 1]), "an empty element between two ','"))
        for i in np.flatnonzero(~has_text & (previous == _OPEN) & (following == _COMMA)):
            found.append((int(bounds[i + 1]), "a ',' with no element before it"))
        for i in np.flatnonzero(previous == _CLOSE):
            if has_text[i] or following[i] >= 0:
                where = int(text_at[i]) if has_text[i] else int(bounds[i + 1])
                found.append((where, "something after the array's closing ']'"))
        starts = np.flatnonzero(events == _START)
        if len(starts):
            last = int(positions[starts[-1]])
            state.last_container = (int(data[last]), state.offset + last)
        if len(events):
            state.last_event = int(events[-1])
        state.text_after_event = state.offset + int(text_at[-1]) if has_text[-1] else -1
        return found

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

    def unclosed(self) -> str | None:
        """At the end of the file: why an array that was never closed is broken, not merely
        cut short. Its last element complete and an array means a '[' too many (it nests every
        element after it into one), not a file cut short."""
        state = self._state
        if state.depth == 1 and state.last_event == _END and state.last_container[0] == BRACKET_OPEN:
            return (
                f"the JSON array is broken at byte {state.last_container[1]:,}: a '[' too many there "
                "(the array is never closed, and its last element is an array holding the rest)"
            )
        return None

    @property
    def in_string(self) -> bool:
        """Whether the bytes fed so far end inside a string."""
        return self._state.in_string

    @property
    def element_start(self) -> int:
        """Where the last element at the array's level began (past its '[' or ',')."""
        return self._state.element_start
