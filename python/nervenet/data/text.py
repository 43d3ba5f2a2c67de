"""Text as integer token ids: a :class:`Vocabulary`, the Penn Treebank
(Mikolov's preprocessed version, word and character level) and plain text
files such as tiny shakespeare.

Two tokenisations (``level``):

``"word"``
    tokens are the whitespace-separated words; every line end is the token
    ``<eos>`` (the PTB convention: ``"a b\\nc\\n"`` -> ``a b <eos> c <eos>``).
    ``decode`` joins words with one space and turns ``<eos>`` back into a
    line end, so ``decode(encode(x)) == x`` for text whose words are
    separated by single spaces, with no space at the start or end of a line.
``"char"``
    every character is a token, spaces and line ends included;
    ``decode(encode(x)) == x`` for any text the vocabulary covers.

Token ids are int64 numpy arrays; encoding is vectorised (the 929,589
tokens of the PTB training set encode in well under a second).
"""

from __future__ import annotations

import operator
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from .._checks import integer as _integer
from ..errors import ConfigError, DataError, DataFileNotFoundError, DTypeError, FormatError
from .files import decode_text

__all__ = ["Vocabulary", "TextData", "load_ptb", "load_text"]

PathLike = Union[str, "os.PathLike[str]"]

_LEVELS = ("word", "char")
_ORDERS = ("frequency", "sorted", "first")


def _level(level: str) -> str:
    if level not in _LEVELS:
        raise ConfigError(f"level must be 'word' or 'char', got {level!r}")
    return level


class Vocabulary:
    """A bijection between tokens and the ids 0..len-1, with the tokenisation
    of its ``level`` ("word" or "char", see the module docstring).

    A vocabulary is *growing* or *frozen*. Encoding with a growing one adds
    unseen tokens (ids in order of first appearance). A frozen one (what
    :meth:`build` returns, and what :meth:`freeze` makes) maps a token it
    does not hold to ``unk`` (``"<unk>"``) when ``unk`` is one of its tokens,
    and otherwise raises DataError naming the token and its position.

    ``eos`` (word level) is the token for a line end. Neither ``unk`` nor
    ``eos`` is added by the constructor; :meth:`build` adds ``unk`` when
    its size limit or ``min_count`` leaves tokens out.
    """

    __slots__ = ("_tokens", "_index", "_level", "_unk", "_eos", "_frozen", "_table")

    def __init__(
        self,
        tokens: Iterable[str] = (),
        *,
        level: str = "word",
        unk: Optional[str] = "<unk>",
        eos: Optional[str] = "<eos>",
        frozen: bool = False,
    ) -> None:
        self._level = _level(level)
        for name, value in (("unk", unk), ("eos", eos)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{name} must be a non-empty string or None, got {value!r}")
        if eos is not None and level == "word" and len(eos.split()) != 1:
            raise ConfigError(f"eos must be a single word without whitespace, got {eos!r}")
        self._unk = unk
        self._eos = eos if level == "word" else None
        self._tokens: list[str] = []
        self._index: dict[str, int] = {}
        self._table: Optional[np.ndarray] = None
        self._frozen = False
        for i, t in enumerate(tokens):
            if not isinstance(t, str) or not t:
                raise ConfigError(f"tokens: entry {i} is {t!r}; tokens are non-empty strings")
            if t in self._index:
                raise ConfigError(f"tokens: {t!r} appears twice (entries {self._index[t]} and {i})")
            self._add(t)
        self._frozen = bool(frozen)

    # ---- building ---------------------------------------------------------

    @classmethod
    def build(
        cls,
        text: Union[str, Iterable[str]],
        *,
        level: str = "word",
        max_size: Optional[int] = None,
        min_count: int = 1,
        order: Optional[str] = None,
        specials: Sequence[str] = (),
        unk: Optional[str] = "<unk>",
        eos: Optional[str] = "<eos>",
    ) -> "Vocabulary":
        """A frozen vocabulary of the tokens of ``text`` (a string, tokenised
        at ``level``, or an iterable of tokens).

        ``order``: "frequency" (most frequent first, ties alphabetical; the
        default at word level), "sorted" (by token; the default at char
        level, as in char-rnn) or "first" (first appearance). ``specials``
        come first, in the order given. Tokens seen fewer than ``min_count``
        times are left out, then the least frequent ones until the vocabulary
        holds ``max_size`` tokens (specials and ``unk`` included); if any
        token is left out, ``unk`` is added (after the specials) so that
        encoding maps them to it.
        """
        level = _level(level)
        order = order if order is not None else ("frequency" if level == "word" else "sorted")
        if order not in _ORDERS:
            raise ConfigError(f"order must be one of {list(_ORDERS)}, got {order!r}")
        min_count = _integer(min_count, "min_count", 1)
        if max_size is not None:
            max_size = _integer(max_size, "max_size", 1)
        proto = cls((), level=level, unk=unk, eos=eos)
        if isinstance(text, str) and level == "char":
            codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
            freq = np.bincount(codes) if codes.size else np.zeros(0, dtype=np.int64)
            seen = np.flatnonzero(freq)
            # Counter order (first appearance) for order="first"
            first = np.unique(codes, return_index=True)[1] if order == "first" else None
            if first is not None:
                seen = codes[np.sort(first)]
            counts = Counter({chr(int(c)): int(freq[c]) for c in seen})
        else:
            counts = Counter(proto.tokenize(text) if isinstance(text, str) else list(text))
        specials = list(dict.fromkeys(specials))
        if max_size is not None and len(specials) > max_size:
            raise ConfigError(f"max_size={max_size} leaves no room for the {len(specials)} specials")
        rest = [t for t in counts if t not in specials]  # first-appearance order
        kept = [t for t in rest if counts[t] >= min_count]
        room = None if max_size is None else max_size - len(specials)
        if (len(kept) < len(rest) or (room is not None and len(kept) > room)) and unk is not None:
            if unk not in specials:  # some tokens are left out: they will encode as unk
                specials.append(unk)
                kept = [t for t in kept if t != unk]
                if room is not None:
                    room -= 1
                    if room < 0:
                        raise ConfigError(f"max_size={max_size} leaves no room for {unk!r} after the specials")
        if room is not None and len(kept) > room:
            top = set(sorted(kept, key=lambda t: (-counts[t], t))[:room])
            kept = [t for t in kept if t in top]
        if order == "frequency":
            kept.sort(key=lambda t: (-counts[t], t))
        elif order == "sorted":
            kept.sort()
        return cls(specials + kept, level=level, unk=unk, eos=eos, frozen=True)

    def _add(self, token: str) -> int:
        i = len(self._tokens)
        self._tokens.append(token)
        self._index[token] = i
        self._table = None
        return i

    def add(self, token: str) -> int:
        """The id of ``token``, adding it if new (ConfigError if frozen)."""
        if token in self._index:
            return self._index[token]
        if self._frozen:
            raise ConfigError(f"the vocabulary is frozen; cannot add {token!r}")
        if not isinstance(token, str) or not token:
            raise ConfigError(f"tokens are non-empty strings, got {token!r}")
        return self._add(token)

    def update(self, text: Union[str, Iterable[str]]) -> "Vocabulary":
        """Adds the tokens of ``text`` (a string or an iterable of tokens) not yet held."""
        for t in self.tokenize(text) if isinstance(text, str) else text:
            self.add(t)
        return self

    def freeze(self) -> "Vocabulary":
        """Stops the vocabulary growing (see the class docstring); returns it."""
        self._frozen = True
        return self

    # ---- description ------------------------------------------------------

    @property
    def level(self) -> str:
        return self._level

    @property
    def tokens(self) -> list[str]:
        """The tokens in id order (a copy)."""
        return list(self._tokens)

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def unk(self) -> Optional[str]:
        return self._unk

    @property
    def eos(self) -> Optional[str]:
        return self._eos

    @property
    def unk_id(self) -> Optional[int]:
        """The id unknown tokens map to, or None when ``unk`` is not a token."""
        return None if self._unk is None else self._index.get(self._unk)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def index(self, token: str) -> int:
        """The id of ``token``; KeyError if absent."""
        try:
            return self._index[token]
        except KeyError:
            raise KeyError(f"{token!r} is not in the vocabulary ({len(self)} tokens)") from None

    def token(self, id: int) -> str:
        i = operator.index(id)
        if not 0 <= i < len(self._tokens):
            raise DataError(f"id {i} is out of range for a vocabulary of {len(self)} tokens")
        return self._tokens[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (self._tokens, self._level, self._unk, self._eos) == (
            other._tokens,
            other._level,
            other._unk,
            other._eos,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self._tokens[:5]) + (", ..." if len(self) > 5 else "")
        state = "frozen" if self._frozen else "growing"
        return f"Vocabulary({len(self)} {self._level} tokens, {state}: [{head}])"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description; :meth:`from_dict` reads it back."""
        return {"level": self._level, "tokens": list(self._tokens), "unk": self._unk, "eos": self._eos,
                "frozen": self._frozen}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Vocabulary":
        try:
            return cls(d["tokens"], level=d.get("level", "word"), unk=d.get("unk", "<unk>"),
                       eos=d.get("eos", "<eos>"), frozen=bool(d.get("frozen", True)))
        except (KeyError, TypeError) as e:
            raise FormatError(f"not a vocabulary description: {e}") from None

    # ---- encoding ---------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` at this vocabulary's level."""
        if not isinstance(text, str):
            raise DTypeError(f"text must be a str, got {type(text).__name__}")
        if self._level == "char":
            return list(text)
        if self._eos is None:
            return text.split()
        return text.replace("\n", f" {self._eos} ").split()

    def encode(self, text: str) -> np.ndarray:
        """The ids (int64, 1-D) of the tokens of ``text``."""
        if not isinstance(text, str):
            raise DTypeError(f"text must be a str, got {type(text).__name__}; use encode_tokens for a token list")
        if self._level == "char" and (self._frozen or self._covers(text)):
            return self._encode_chars(text)
        return self.encode_tokens(self.tokenize(text))

    def encode_tokens(self, tokens: Iterable[str]) -> np.ndarray:
        """The ids (int64, 1-D) of an iterable of tokens."""
        toks = tokens if isinstance(tokens, list) else list(tokens)
        try:
            return np.fromiter(map(self._index.__getitem__, toks), dtype=np.int64, count=len(toks))
        except (KeyError, TypeError):
            pass
        if not self._frozen:
            for t in toks:
                if t not in self._index:
                    self.add(t)
            return np.fromiter(map(self._index.__getitem__, toks), dtype=np.int64, count=len(toks))
        unk = self.unk_id
        if unk is None:
            pos = next(i for i, t in enumerate(toks) if t not in self._index)
            raise DataError(self._unknown_message(toks[pos], pos))
        return np.fromiter((self._index.get(t, unk) for t in toks), dtype=np.int64, count=len(toks))

    def _unknown_message(self, token: str, pos: int) -> str:
        why = f"has no {self._unk!r} token" if self._unk is not None else "has no unknown-token (unk=None)"
        return (
            f"token {token!r} at position {pos} is not in the vocabulary ({len(self)} tokens), which {why}; "
            "build it with max_size/min_count (adds <unk>) or from text that covers it"
        )

    def _char_table(self) -> np.ndarray:
        if self._table is None:
            singles = [(ord(t), i) for i, t in enumerate(self._tokens) if len(t) == 1]
            size = max((c for c, _ in singles), default=-1) + 1
            table = np.full(size, -1, dtype=np.int64)
            for c, i in singles:
                table[c] = i
            self._table = table
        return self._table

    def _covers(self, text: str) -> bool:
        return set(text) <= self._index.keys()

    def _encode_chars(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)
        table = self._char_table()
        ids = np.full(codes.shape, -1, dtype=np.int64)
        inside = codes < len(table)
        ids[inside] = table[codes[inside]]
        missing = ids < 0
        if missing.any():
            unk = self.unk_id
            if unk is None:
                pos = int(np.argmax(missing))
                raise DataError(self._unknown_message(text[pos], pos))
            ids[missing] = unk
        return ids

    def decode(self, ids: Any) -> str:
        """The text of a 1-D sequence of ids (the inverse of :meth:`encode`)."""
        arr = np.asarray(ids)
        if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
            raise DTypeError(f"ids must be integers, got dtype {arr.dtype}")
        if arr.ndim > 1:
            raise DataError(f"decode takes a 1-D sequence of ids, got shape {arr.shape}")
        arr = arr.reshape(-1).astype(np.int64)
        bad = (arr < 0) | (arr >= len(self._tokens))
        if bad.any():
            pos = int(np.argmax(bad))
            raise DataError(
                f"id {int(arr[pos])} at position {pos} is out of range for a vocabulary of {len(self)} tokens"
            )
        toks = np.array(self._tokens, dtype=object)[arr].tolist() if arr.size else []
        if self._level == "char":
            return "".join(toks)
        eos_id = None if self._eos is None else self._index.get(self._eos)
        if eos_id is None:
            return " ".join(toks)
        lines, start = [], 0
        for stop in np.flatnonzero(arr == eos_id).tolist():
            lines.append(" ".join(toks[start:stop]))
            start = stop + 1
        lines.append(" ".join(toks[start:]))
        return "\n".join(lines)


@dataclass
class TextData:
    """A text as token ids (int64, 1-D) with the vocabulary that maps them."""

    ids: np.ndarray
    vocabulary: Vocabulary
    path: Optional[Path] = None

    def __len__(self) -> int:
        return len(self.ids)

    def text(self) -> str:
        """The decoded text."""
        return self.vocabulary.decode(self.ids)


def _read(path: Path) -> str:
    if not path.is_file():
        raise DataFileNotFoundError(f"no such text file: {path}")
    return decode_text(path.read_bytes(), path)


_SPLITS = ("train", "valid", "test")


def _ptb_text(folder: Path, level: str, split: str) -> tuple[Path, str]:
    name = f"ptb.{split}.txt" if level == "word" else f"ptb.char.{split}.txt"
    path = folder / name
    if not path.is_file():
        raise DataFileNotFoundError(f"no such file: {path} (load_ptb wants the folder holding Mikolov's ptb.*.txt files)")
    text = _read(path)
    if level == "char":
        # ptb.char.*: one symbol per token, separated by spaces, '_' between
        # words; dropping the separators gives the characters themselves.
        m = re.search(r"\S\S", text)
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
            raise FormatError(f"{path}, line {line}: {m.group()!r} is not a single character followed by a space; "
                              "ptb.char files hold space-separated characters")
        text = text.replace(" ", "")
    return path, text


def load_ptb(
    dir: PathLike,
    *,
    level: str = "word",
    split: str = "train",
    vocabulary: Optional[Vocabulary] = None,
) -> TextData:
    """One split of the Penn Treebank (Mikolov's ``ptb.*.txt`` in ``dir``).

    ``level="word"``: ``ptb.{split}.txt``, whitespace-separated words with
    ``<eos>`` at every line end; the vocabulary built from the training split
    has 10,000 types (9,999 words, ``<unk>`` among them, plus ``<eos>``), most
    frequent first. Train is 929,589 tokens (887,521 words + 42,068 line ends),
    valid 73,760, test 82,430.

    ``level="char"``: ``ptb.char.{split}.txt``, the same text one character at
    a time with ``_`` between words and ``"\\n"`` at line ends (50 symbols in
    training, sorted); the ``_`` boundaries are kept as characters.

    Without ``vocabulary``, the training split's vocabulary is used (built
    here), so ids of every split agree; pass one to reuse it.
    """
    level = _level(level)
    if split not in _SPLITS:
        raise ConfigError(f"split must be one of {list(_SPLITS)}, got {split!r}")
    folder = Path(dir)
    if not folder.is_dir():
        raise DataFileNotFoundError(f"no such folder: {folder} (load_ptb wants the folder holding ptb.*.txt)")
    if vocabulary is not None and not isinstance(vocabulary, Vocabulary):
        raise ConfigError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
    if vocabulary is not None and vocabulary.level != level:
        raise ConfigError(f"vocabulary is {vocabulary.level}-level but level={level!r}")
    path, text = _ptb_text(folder, level, split)
    if vocabulary is None:
        train = text if split == "train" else _ptb_text(folder, level, "train")[1]
        vocabulary = Vocabulary.build(train, level=level)
    return TextData(vocabulary.encode(text), vocabulary, path)


def load_text(
    path: PathLike,
    *,
    level: str = "char",
    vocabulary: Optional[Vocabulary] = None,
) -> TextData:
    """A UTF-8 text file as token ids, e.g. tiny shakespeare (1,115,394
    characters, 65 distinct). Without ``vocabulary``, one is built from the
    file itself (sorted characters at char level, see :meth:`Vocabulary.build`)."""
    level = _level(level)
    if vocabulary is not None and not isinstance(vocabulary, Vocabulary):
        raise ConfigError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
    if vocabulary is not None and vocabulary.level != level:
        raise ConfigError(f"vocabulary is {vocabulary.level}-level but level={level!r}")
    p = Path(path)
    text = _read(p)
    if vocabulary is None:
        vocabulary = Vocabulary.build(text, level=level)
    return TextData(vocabulary.encode(text), vocabulary, p)
