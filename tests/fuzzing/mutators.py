"""Seeded byte-level mutators: each takes the bytes of a valid file and a
``random.Random`` and returns a damaged copy. ``mutate`` applies one to
four of them, so the same (seed input, rng state) always gives the same
bytes."""

from __future__ import annotations

import random
import re
from typing import Callable

__all__ = ["MUTATORS", "mutate", "mutate_numbers"]

# Bytes that sit on edges: zero, all ones, the signed limits.
INTERESTING_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)
# Integers that overflow 32- or 64-bit sizes, or wrap to zero or negative.
HUGE = (2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 0, 1)
HUGE_TEXT = (b"4294967295", b"4294967296", b"18446744073709551616", b"-1", b"0", b"1e308", b"-0", b"2147483648",
             b"99999999999999999999999999", b"NaN", b"Infinity", b"1e-400")


def bit_flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def interesting_byte(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.choice(INTERESTING_BYTES)])
    i = rng.randrange(len(data))
    return data[:i] + bytes([rng.choice(INTERESTING_BYTES)]) + data[i + 1 :]


def insert_chunk(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    n = rng.choice((1, 2, 4, 8, 64, 1000))
    chunk = bytes(rng.choice(INTERESTING_BYTES + (rng.randrange(256),)) for _ in range(n))
    return data[:i] + chunk + data[i:]


def delete_chunk(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, min(64, len(data) - i)) :]


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    chunk = data[i : i + rng.randint(1, 256)]
    j = rng.randrange(len(data) + 1)
    return data[:j] + chunk * rng.choice((1, 2, 16)) + data[j:]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def huge_integer(data: bytes, rng: random.Random) -> bytes:
    """A binary integer field overwritten with a huge (or zero) value, 4 or 8 bytes, either byte order."""
    width = rng.choice((4, 8))
    value = rng.choice(HUGE) % (1 << (8 * width))
    raw = value.to_bytes(width, rng.choice(("big", "little")))
    i = rng.randrange(len(data) + 1)
    return data[:i] + raw + data[i + width :]


_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def huge_number_text(data: bytes, rng: random.Random) -> bytes:
    """A number written in text (JSON, CSV, TOML) replaced by a huge, negative or odd one."""
    found = list(_NUMBER.finditer(data))
    if not found:
        return huge_integer(data, rng)
    m = rng.choice(found)
    return data[: m.start()] + rng.choice(HUGE_TEXT) + data[m.end() :]


MUTATORS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    bit_flip, interesting_byte, insert_chunk, delete_chunk, duplicate_chunk, truncate, huge_integer, huge_number_text,
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one to four mutations (truncation rarely, so that most
    inputs keep their tail)."""
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        m = rng.choice(MUTATORS)
        if m is truncate and rng.random() < 0.5:
            m = bit_flip
        data = m(data, rng)
    return data


def mutate_numbers(data: bytes, rng: random.Random) -> bytes:
    """For structured text (JSON): mostly numbers replaced, so that the text
    still parses and the odd sizes reach the code behind the parser; now
    and then any mutation."""
    if rng.random() < 0.25:
        return mutate(data, rng)
    for _ in range(rng.choice((1, 1, 2, 3))):
        data = (size_field if rng.random() < 0.6 else huge_number_text)(data, rng)
    return data


_KEYED_NUMBER = re.compile(rb'"(\w+)":(-?\d+)')
_IDS = (b"id", b"src", b"dst", b"version", b"next_node_id", b"next_edge_id")
SIZES_TEXT = (b"4294967295", b"65536", b"2147483648", b"2147483647", b"0", b"1", b"1000000", b"100000")


def size_field(data: bytes, rng: random.Random) -> bytes:
    """A JSON size field (a count, a map side, a filter size: any keyed
    integer but ids) set to a huge or edge value that still parses."""
    found = [m for m in _KEYED_NUMBER.finditer(data) if m.group(1) not in _IDS]
    if not found:
        return huge_number_text(data, rng)
    m = rng.choice(found)
    return data[: m.start(2)] + rng.choice(SIZES_TEXT) + data[m.end(2) :]
