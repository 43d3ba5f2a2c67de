"""Reading a loader's file: present, gzip or not (recognised by content),
never more bytes than the caller can justify, and every failure a
:class:`nervenet.FormatError` naming the file.

Gzip data are decompressed as a stream with a limit, so a small file that
expands without bound (a "gzip bomb", or a corrupt length) stops at the
limit instead of filling memory:

* a format whose header declares its size (IDX) reads the header first and
  then exactly the declared bytes plus one (:class:`DataStream`);
* text formats (CSV, UCI tables, text corpora) stop at
  :data:`MAX_TEXT_BYTES` decompressed bytes.

Example::

    from pathlib import Path
    from nervenet.data.files import read_data, decode_text

    raw = read_data(Path("burner_0.csv.gz"), "time series file")
    text = decode_text(raw, Path("burner_0.csv.gz"))
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, Optional

from ..errors import DataFileNotFoundError, FormatError

__all__ = ["MAX_TEXT_BYTES", "DEFLATE_MAX_RATIO", "DataStream", "require_file", "read_data", "decode_text"]

#: The most decompressed bytes a text loader reads from one gzip file (4 GiB).
MAX_TEXT_BYTES = 1 << 32

#: Deflate encodes at most 258 bytes in 2 bits (about 1032:1); a gzip file
#: of n bytes can therefore not hold more than this many times n bytes.
DEFLATE_MAX_RATIO = 1032

_GZIP_MAGIC = b"\x1f\x8b"
_PIECE = 1 << 24


def require_file(path: object, what: str = "data file") -> Path:
    """``path`` as a Path, or :class:`DataFileNotFoundError` if it is not a file."""
    p = Path(path)  # type: ignore[arg-type]
    if not p.is_file():
        where = "is a directory, not a file" if p.is_dir() else "does not exist"
        raise DataFileNotFoundError(f"{p}: {what} {where}")
    return p


class DataStream:
    """A file's content as a stream, decompressed on the fly when it is gzip.

    ``read(n)`` returns at most ``n`` bytes (fewer at the end); corrupt or
    truncated gzip data raise FormatError naming the file. ``gz`` says
    whether the file is gzip, ``size`` is the file's size on disk and
    ``max_content`` the most bytes its content can hold (the size itself, or
    :data:`DEFLATE_MAX_RATIO` times it for gzip)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw = path.read_bytes()
        self.size = len(self._raw)
        self.gz = self._raw[:2] == _GZIP_MAGIC
        self.max_content = self.size * DEFLATE_MAX_RATIO if self.gz else self.size
        self._f: BinaryIO = gzip.GzipFile(fileobj=io.BytesIO(self._raw)) if self.gz else io.BytesIO(self._raw)

    def read(self, n: int) -> bytes:
        # In pieces: a buffered read(n) allocates n bytes up front, however
        # few the stream holds.
        pieces = []
        left = n
        try:
            while left > 0:
                piece = self._f.read(min(left, _PIECE))
                if not piece:
                    break
                pieces.append(piece)
                left -= len(piece)
        except EOFError as e:
            raise FormatError(
                f"{self.path}: truncated gzip stream: the {self.size}-byte file ends (at byte offset {self.size}) "
                f"before the end-of-stream marker ({e})"
            ) from None
        except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise FormatError(f"{self.path}: corrupt gzip stream ({self.size} bytes): {e}") from None
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def read_data(path: Path, what: str = "data file", *, limit: Optional[int] = None) -> bytes:
    """The file's content, decompressed if gzip; gzip data that expand past
    ``limit`` bytes (default :data:`MAX_TEXT_BYTES`) are a FormatError
    naming the file (a plain file is as large as it is on disk)."""
    limit = MAX_TEXT_BYTES if limit is None else limit
    stream = DataStream(require_file(path, what))
    if not stream.gz:
        return stream._raw  # already in memory: a copy would double it
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FormatError(
            f"{path}: the gzip data expand past {limit} bytes, the most a {what} may hold "
            f"(nervenet.data.files.MAX_TEXT_BYTES); the file is corrupt or too large to load"
        )
    return data


def decode_text(raw: bytes, path: Path, encoding: str = "utf-8") -> str:
    """``raw`` as text; invalid UTF-8 is a FormatError naming the file, line and byte offset."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise FormatError(
            f"{path}, line {line} (byte offset {e.start}): not UTF-8 text (byte {raw[e.start]:#04x})"
        ) from None
