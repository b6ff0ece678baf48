"""ArraySplitter against orjson on random JSON, cut into random spans."""

from __future__ import annotations

import random

import orjson
import pytest

from application.processing.json_array_splitter import ArraySplitter

TRICKY = ['"', "\\", "\\\\", '\\"', ",", "[", "]", "{", "}", "\n", "\t", " ", "é", "€", "\u2028", "x"]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.choice(["str", "int", "float", "bool", "null", "list", "dict"] if depth < 4 else ["str", "int"])
    if kind == "str":
        return "".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 12)))
    if kind == "int":
        return rng.randint(-(10**12), 10**12)
    if kind == "float":
        return rng.uniform(-1e6, 1e6)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {str(random_value(rng, 4)): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def split(data: bytes, rng: random.Random) -> list[bytes]:
    buffer = bytearray(data)
    splitter = ArraySplitter()
    start = 0
    while start < len(buffer):
        end = min(len(buffer), start + rng.randint(1, 64))
        splitter.feed(memoryview(buffer)[start:end])
        start = end
    assert splitter.depth == 0
    return [line for line in bytes(buffer).split(b"\n") if line.strip()]


@pytest.mark.parametrize("seed", range(25))
def test_each_element_becomes_one_line_whatever_the_spans(seed: int) -> None:
    rng = random.Random(seed)
    elements = [random_value(rng) for _ in range(rng.randint(1, 30))]
    option = rng.choice([0, orjson.OPT_INDENT_2])
    data = orjson.dumps(elements, option=option)
    lines = split(data, rng)
    assert [orjson.loads(line) for line in lines] == elements
    assert len(b"".join(lines)) <= len(data)  # nothing added: bytes only change in place
