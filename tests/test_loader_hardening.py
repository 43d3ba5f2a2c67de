"""Issue 13, items 4-6: sizes read from files are checked before anything
is allocated, gzip data are decompressed with a limit, and every broken file
is a FormatError (or InvalidConfig) naming the file, line and column --
never zlib.error, _csv.Error, IndexError, UnicodeDecodeError or a request
for 149 GiB."""

from __future__ import annotations

import csv
import gzip
import re
import tracemalloc
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import nervenet as nv
from nervenet import cli
from nervenet.config import load_config
from nervenet.data import files
from nervenet.data.prepare import prepare
from nervenet.data.tables import read_table

MiB = 1 << 20


def _raises(exc: type, *fragments: str):
    """pytest.raises(exc) whose message contains every fragment, in any order."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


def _peak_bytes(call: Callable[[], object]) -> int:
    """The most memory Python and numpy held at once during ``call()``
    (numpy reports its buffers to tracemalloc), whatever it raised."""
    tracemalloc.start()
    try:
        call()
    except nv.NervenetError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _gzip_of_zeros(header: bytes, zeros: int) -> bytes:
    """``header`` + ``zeros`` zero bytes, gzip-compressed piece by piece
    (never holding the expanded data)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    parts = [c.compress(header)]
    piece = bytes(MiB)
    for _ in range(zeros // MiB):
        parts.append(c.compress(piece))
    parts.append(c.flush())
    return b"".join(parts)


# ---- item 4: IDX ---------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_idx_dimensions_multiplying_past_2_63_are_a_format_error(tmp_path: Path, gz: bool) -> None:
    content = bytes([0, 0, 8, 4]) + (65536).to_bytes(4, "big") * 4  # 2**64 values: wrapped to 0 in int64
    f = tmp_path / ("huge-idx4-ubyte" + (".gz" if gz else ""))
    f.write_bytes(gzip.compress(content) if gz else content)
    with _raises(nv.FormatError, str(f), "65536x65536x65536x65536", str(2**64), "truncated"):
        nv.data.read_idx(f)


def test_idx_empty_array_with_unrepresentable_dimensions(tmp_path: Path) -> None:
    # found by the fuzz suite: a 0 among the sizes makes 0 bytes of data, but
    # numpy cannot make an array of shape (2**31, 2**31, 2, 0)
    f = tmp_path / "odd-idx4-ubyte"
    f.write_bytes(_idx_header(0x08, [2**31, 2**31, 2, 0]))
    with _raises(nv.FormatError, str(f), "2147483648x2147483648x2x0", "too big"):
        nv.data.read_idx(f)
    f.write_bytes(_idx_header(0x08, [2**20, 2**20, 0]))  # representable: an empty array
    assert nv.data.read_idx(f).shape == (2**20, 2**20, 0)


def _idx_header(type_code: int, dims: list[int]) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def test_idx_gzip_is_decompressed_only_up_to_the_declared_size(tmp_path: Path) -> None:
    # the header declares 10 labels, the stream expands to 64 MiB more
    f = tmp_path / "bomb-labels-idx1-ubyte.gz"
    f.write_bytes(_gzip_of_zeros(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(10), 64 * MiB))
    assert f.stat().st_size < MiB
    with _raises(nv.FormatError, str(f), "extra bytes", "10 bytes of data", "at least"):
        nv.data.read_idx(f)
    assert _peak_bytes(lambda: nv.data.read_idx(f)) < 8 * MiB


def test_idx_gzip_declaring_more_than_it_can_hold_fails_before_decompressing(tmp_path: Path) -> None:
    f = tmp_path / "liar-images-idx3-ubyte.gz"
    f.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2))
    with _raises(nv.FormatError, str(f), "60000x28x28", "holds at most", f"{f.stat().st_size * 1032}"):
        nv.data.read_idx(f)


# ---- item 5: time series CSV and UCI ------------------------------------------------


def test_timeseries_corrupt_deflate_stream_is_a_format_error(tmp_path: Path) -> None:
    body = "a,b\n" + "".join(f"{i}.5,{i * 7 % 13}.25\n" for i in range(2000))
    whole = bytearray(gzip.compress(body.encode()))
    whole[len(whole) // 2] ^= 0xFF  # inside the deflate data, not the header or trailer
    f = tmp_path / "broken.csv.gz"
    f.write_bytes(bytes(whole))
    with pytest.raises((zlib.error, OSError, EOFError)):  # what the reproducer gave
        gzip.decompress(bytes(whole))
    with _raises(nv.FormatError, str(f), "gzip"):
        nv.data.load_timeseries(f, outputs="b")


def test_timeseries_header_cell_past_the_csv_field_limit_is_a_format_error(tmp_path: Path) -> None:
    f = tmp_path / "wide.csv"
    f.write_text('"' + "x" * 131073 + '",b\n1,2\n3,4\n')
    with pytest.raises(csv.Error):  # what the reproducer gave
        next(csv.reader(['"' + "x" * 131073 + '"']))
    with _raises(nv.FormatError, str(f), "line 1", "header"):
        nv.data.load_timeseries(f, outputs="b")


def test_timeseries_gzip_text_stops_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "bomb.csv.gz"
    f.write_bytes(_gzip_of_zeros(b"a,b\n1,2\n", 32 * MiB))
    monkeypatch.setattr(files, "MAX_TEXT_BYTES", 4 * MiB)
    with _raises(nv.FormatError, str(f), "expand past", str(4 * MiB)):
        nv.data.load_timeseries(f, outputs="b")
    assert _peak_bytes(lambda: nv.data.load_timeseries(f, outputs="b")) < 16 * MiB
    plain = tmp_path / "plain.csv"  # the limit is for what gzip expands to, not for files on disk
    plain.write_text("a,b\n" + "1.5,2.5\n" * 100)
    monkeypatch.setattr(files, "MAX_TEXT_BYTES", 64)
    assert nv.data.load_timeseries(plain, outputs="b").X.shape == (1, 99, 2)
    (tmp_path / "small.csv.gz").write_bytes(gzip.compress(plain.read_bytes()))
    with _raises(nv.FormatError, "small.csv.gz", "expand past 64 bytes"):
        nv.data.load_timeseries(tmp_path / "small.csv.gz", outputs="b")


def test_uci_one_long_cell_does_not_pad_every_row(tmp_path: Path) -> None:
    lines = ["a,b,1.5,x"] * 200_000
    lines[7] = "a," + "b" * 100_000 + ",2.5,y"
    f = tmp_path / "long-cell.data"
    f.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    try:
        table = nv.data.load_uci(f)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # a rows x columns x longest-cell string table would be 149 GiB; the file is 2 MB
    assert peak < 1 << 30, f"load_uci held {peak / 2**30:.1f} GiB at once"
    assert table.X.shape == (200_000, 4)
    assert table.feature_names == ["a1=a", "a2=b", f"a2={'b' * 100_000}", "a3"]
    assert table.X[7].tolist() == [1.0, 0.0, 1.0, 2.5] and table.X[0].tolist() == [1.0, 1.0, 0.0, 1.5]
    assert table.classes == ["x", "y"] and table.y[7] == 1 and table.y[:7].tolist() == [0] * 7


def test_uci_messages_still_name_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "t.data"
    f.write_text("1,a,x\n2,b,y\nthree,c,x\n")
    with _raises(nv.DataError, str(f), "line 3", "column 1", "'three'", "not a number"):
        nv.data.load_uci(f, numeric=[0])
    with _raises(nv.DataError, str(f), "line 2", "column 2", "'b'"):
        nv.data.load_uci(f, names=nv.data.UCINames(["n", "c"], [["1", "2", "three"], ["a", "c"]], [["1", "2", "3"], ["a", "c"]]))


# ---- item 6: the CLI's table reader and TOML configs --------------------------------


def test_table_header_wider_or_narrower_than_the_rows(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("a,b,c,label\n1,2,0\n3,4,1\n")
    with _raises(nv.FormatError, str(f), "line 2", "column 4", "3 values", "names 4 columns"):
        read_table(f, target="label", header=True)
    f.write_text("a,label\n1,2,0\n")
    with _raises(nv.FormatError, str(f), "line 2", "column 3", "3 values", "names 2 columns"):
        read_table(f, target="label", header=True)


def test_table_invalid_utf8_and_bad_csv(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_bytes(b"a,b,label\n1,2,0\n1,2,\xff\n")
    with _raises(nv.FormatError, str(f), "line 3", "byte offset 20", "not UTF-8"):
        read_table(f, target="label", header=True)
    f.write_text('a,label\n"' + "x" * 131073 + '",1\n')
    with _raises(nv.FormatError, str(f), "line 2", "not valid CSV"):
        read_table(f, target="label", header=True)
    f.write_text("a,,label\n1,2,0\n")
    with _raises(nv.FormatError, str(f), "line 1", "column 2", "no column"):
        read_table(f, target="label", header=True)


def test_table_cells_are_not_padded_to_the_longest(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("a,label\n" + "x" * 10_000 + ",1\n" + "y,0\n" * 1000)
    X, y, names = read_table(f, target="label", header=True)
    assert X.dtype == object and X.shape == (1001, 1) and X[1, 0] == "y" and names == ["a"]
    assert X.nbytes < 1001 * 10_000


def test_test_file_missing_a_training_column(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    (tmp_path / "test.csv").write_text("b,label\n2,0\n4,1\n")
    spec = {"train": tmp_path / "train.csv", "test": tmp_path / "test.csv", "target": "label", "header": True}
    with _raises(nv.FormatError, str(tmp_path / "test.csv"), "no column 'a'"):
        prepare(spec, classify=True)
    (tmp_path / "test.csv").write_text("b,a,label\n2,1,0\n4,3,1\n")  # the same columns in another order
    out = prepare(spec, classify=True)
    assert out.test[0].shape == (2, 2)
    np.testing.assert_allclose(out.test[0], out.preprocessor.features(np.array([["1", "2"], ["3", "4"]], dtype=object)))


def test_npz_declaring_more_than_it_holds(tmp_path: Path) -> None:
    f = tmp_path / "d.npz"
    np.savez(f, X=np.zeros((2, 3)), y=np.zeros(2))
    raw = bytearray(f.read_bytes())
    at = raw.index(b"(2, 3)")
    raw[at : at + 6] = b"(9999" + b")"  # the header now says 9999 x ... in the same bytes
    f.write_bytes(bytes(raw))
    with _raises(nv.FormatError, str(f)):
        read_table(f)
    f.write_bytes(b"PK\x03\x04 not a zip")
    with _raises(nv.FormatError, str(f), "not a readable .npz"):
        read_table(f)


def test_toml_config_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.toml"
    f.write_bytes(b'[data]\ndataset = "digits"\n# caf\xe9\n')
    with _raises(nv.InvalidConfig, "line 3", "byte offset 31", "not UTF-8"):
        load_config(f)
    assert cli.main(["train", str(f), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "invalid config" in err and "not UTF-8" in err and "Traceback" not in err
