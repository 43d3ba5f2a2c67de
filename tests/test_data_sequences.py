"""nervenet.data: time series (EXAMM CSVs), text (PTB, tiny shakespeare) and
sequence helpers (lagged windows, padding, chunking, next-step targets), on
small synthetic data and on the real files in ../shared/data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import nervenet as nv
from nervenet.data.sequences import chunk_series, lagged_windows, next_step_targets, one_hot_ids, pad_sequences
from nervenet.data.text import TextData, Vocabulary, load_ptb, load_text
from nervenet.data.timeseries import TimeSeriesData, load_timeseries, read_timeseries_csv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COAL = DATA / "timeseries" / "2018_coal"
NGAFID = DATA / "timeseries" / "2019_ngafid_transfer"
PTB = DATA / "text" / "ptb"
SHAKESPEARE = DATA / "text" / "tinyshakespeare" / "input.txt"

real = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present")

COAL_COLUMNS = [
    "Conditioner_Inlet_Temp", "Conditioner_Outlet_Temp", "Coal_Feeder_Rate", "Primary_Air_Flow",
    "Primary_Air_Split", "System_Secondary_Air_Flow_Total", "Secondary_Air_Flow", "Secondary_Air_Split",
    "Tertiary_Air_Split", "Total_Comb_Air_Flow", "Supp_Fuel_Flow", "Main_Flm_Int",
]  # fmt: skip


def test_public_names_exported_from_nervenet_data() -> None:
    import nervenet.data as d

    for name in ["load_timeseries", "TimeSeriesData", "Vocabulary", "load_ptb", "load_text", "TextData",
                 "lagged_windows", "pad_sequences", "chunk_series", "next_step_targets", "one_hot_ids"]:
        assert hasattr(d, name), name


# ---- time series: synthetic CSVs ---------------------------------------------


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def two_files(tmp_path: Path) -> list[Path]:
    a = _csv(tmp_path / "a.csv", "x,y,z", ["1,10,100", "2,20,200", "3,30,300", "4,40,400", "5,50,500"])
    # the same columns in another order, and a blank line at the end
    b = _csv(tmp_path / "b.csv", "z, y ,x", ["-1,-2,-3", "-4,-5,-6", "-7,-8,-9", ""])
    return [a, b]


def test_load_timeseries_pads_shifts_and_masks(two_files: list[Path]) -> None:
    d = load_timeseries(two_files, outputs="z")
    assert isinstance(d, TimeSeriesData) and len(d) == 2
    assert d.input_names == ["x", "y", "z"] and d.output_names == ["z"] and d.time_offset == 1
    assert d.X.shape == (2, 4, 3) and d.Y.shape == (2, 4, 1) and d.mask.shape == (2, 4)
    assert d.X.dtype == d.Y.dtype == d.mask.dtype == np.float32
    assert d.lengths.tolist() == [4, 2]
    np.testing.assert_array_equal(d.X[0], [[1, 10, 100], [2, 20, 200], [3, 30, 300], [4, 40, 400]])
    np.testing.assert_array_equal(d.Y[0, :, 0], [200, 300, 400, 500])  # z one step ahead
    np.testing.assert_array_equal(d.X[1, :2], [[-3, -2, -1], [-6, -5, -4]])  # matched by name
    np.testing.assert_array_equal(d.Y[1, :2, 0], [-4, -7])
    np.testing.assert_array_equal(d.mask, [[1, 1, 1, 1], [1, 1, 0, 0]])
    assert not d.X[1, 2:].any() and not d.Y[1, 2:].any()  # zero padding


def test_load_timeseries_columns_offset_dtype(two_files: list[Path]) -> None:
    d = load_timeseries(two_files[0], inputs=["z", "x"], outputs=["y", "x"], time_offset=2, dtype="float64")
    assert d.X.dtype == np.float64 and d.input_names == ["z", "x"] and d.output_names == ["y", "x"]
    np.testing.assert_array_equal(d.X[0], [[100, 1], [200, 2], [300, 3]])
    np.testing.assert_array_equal(d.Y[0], [[30, 3], [40, 4], [50, 5]])
    same = load_timeseries(two_files[0], outputs="x", time_offset=0)
    np.testing.assert_array_equal(same.Y[0, :, 0], same.X[0, :, 0])
    assert same.lengths.tolist() == [5]


def test_load_timeseries_reads_gzip(tmp_path: Path, two_files: list[Path]) -> None:
    gz = tmp_path / "a.csv.gz"
    gz.write_bytes(gzip.compress(two_files[0].read_bytes()))
    np.testing.assert_array_equal(load_timeseries(gz, outputs="x").X, load_timeseries(two_files[0], outputs="x").X)


def test_load_timeseries_unknown_column_lists_the_available_ones(two_files: list[Path]) -> None:
    with pytest.raises(nv.ConfigError, match=r"outputs: .*a\.csv has no column named 'w'.*\['x', 'y', 'z'\]"):
        load_timeseries(two_files, outputs="w")
    with pytest.raises(nv.ConfigError, match=r"inputs: .*no column named 'q'"):
        load_timeseries(two_files, inputs=["x", "q"], outputs="y")
    with pytest.raises(ValueError):  # ConfigError is a ValueError
        load_timeseries(two_files, outputs=[])


@pytest.mark.parametrize(
    "rows, error, message",
    [
        (["1,2,3", "4,abc,6"], nv.FormatError, r"bad\.csv, line 3, column 2 \('y'\) holds 'abc', not a number"),
        (["1,2,3", "4,,6"], nv.FormatError, r"line 3, column 2 \('y'\) is empty"),
        (["1,2,3", "4,5"], nv.FormatError, r"line 3: 2 values, but the header names 3 columns"),
        (["1,2,3", "4,nan,6"], nv.DataError, r"line 3, column 2 \('y'\) is nan"),
        (["1,2,3"], nv.DataError, r"1 data rows leave no step to predict with time_offset=1"),
        ([], nv.FormatError, r"no data rows"),
    ],
)
def test_load_timeseries_names_file_line_and_column(tmp_path: Path, rows: list[str], error: type, message: str) -> None:
    bad = _csv(tmp_path / "bad.csv", "x,y,z", rows)
    with pytest.raises(error, match=message):
        load_timeseries(bad, outputs="z")


def test_load_timeseries_bad_arguments(tmp_path: Path, two_files: list[Path]) -> None:
    with pytest.raises(nv.ConfigError, match="time_offset"):
        load_timeseries(two_files, outputs="x", time_offset=-1)
    with pytest.raises(nv.DTypeError, match="float32 or float64"):
        load_timeseries(two_files, outputs="x", dtype="int32")
    with pytest.raises(nv.ConfigError, match="no files"):
        load_timeseries([], outputs="x")
    with pytest.raises(nv.ConfigError, match="named twice"):
        load_timeseries(two_files, inputs=["x", "x"], outputs="y")
    with pytest.raises(nv.DataFileNotFoundError, match="nope.csv"):
        load_timeseries(tmp_path / "nope.csv", outputs="x")
    headless = _csv(tmp_path / "headless.csv", "1,2", ["3,4"])
    with pytest.raises(nv.FormatError, match="header row of column names"):
        load_timeseries(headless, outputs="x")
    dup = _csv(tmp_path / "dup.csv", "x,y,x", ["1,2,3", "4,5,6"])
    with pytest.raises(nv.FormatError, match="'x' appears twice"):
        load_timeseries(dup, outputs="y")


def test_read_timeseries_csv_ignores_cells_of_unused_columns(tmp_path: Path) -> None:
    f = _csv(tmp_path / "notes.csv", "x,note,y", ["1,fine,2", "3,ok,4"])
    table, names = read_timeseries_csv(f, ["y", "x"])
    assert names == ["y", "x"]
    np.testing.assert_array_equal(table, [[2, 1], [4, 3]])
    with pytest.raises(nv.FormatError, match=r"column 2 \('note'\) holds 'fine'"):
        read_timeseries_csv(f)


# ---- time series: the real files ----------------------------------------------


@real
def test_coal_matches_examms_reference_run() -> None:
    """EXAMM's coal_mt.sh: burners 0-9 train, 10-11 test, all 12 columns in, Main_Flm_Int out, offset 1."""
    train = load_timeseries([COAL / f"burner_{i}.csv" for i in range(10)], outputs="Main_Flm_Int")
    test = load_timeseries([COAL / f"burner_{i}.csv" for i in (10, 11)], outputs="Main_Flm_Int")
    assert train.input_names == COAL_COLUMNS and train.output_names == ["Main_Flm_Int"]
    assert train.X.shape == (10, 14400, 12) and train.Y.shape == (10, 14400, 1)
    assert test.X.shape == (2, 14400, 12) and test.Y.shape == (2, 14400, 1)
    assert train.lengths.tolist() == [14400] * 10 and test.lengths.tolist() == [14400] * 2  # 14,401 rows - offset
    assert train.mask.all() and test.mask.all()
    assert 0.0 <= train.X.min() and train.X.max() <= 1.0  # min-max normalised
    # the output is the last input column one step later
    np.testing.assert_array_equal(train.Y[:, :-1, 0], train.X[:, 1:, 11])
    raw = np.loadtxt(COAL / "burner_10.csv", delimiter=",", skiprows=1, dtype=np.float32)
    assert raw.shape == (14401, 12)
    np.testing.assert_array_equal(test.X[0], raw[:-1])
    np.testing.assert_array_equal(test.Y[0, :, 0], raw[1:, 11])


@real
def test_ngafid_files_of_different_lengths_are_padded() -> None:
    d = load_timeseries(sorted(NGAFID.glob("c172_file_*.csv")), outputs="Pitch")
    assert len(d.input_names) == 31 and "Pitch" in d.input_names
    assert d.lengths.tolist() == [5059, 4466, 4593]  # rows - 1
    assert d.X.shape == (3, 5059, 31) and d.mask.sum(axis=1).tolist() == [5059, 4466, 4593]
    with pytest.raises(nv.ConfigError, match=r"pa28_file_1\.csv has no column named 'BaroA'"):
        load_timeseries([NGAFID / "c172_file_1.csv", NGAFID / "pa28_file_1.csv"], outputs="Pitch")


# ---- vocabulary ------------------------------------------------------------------


def test_word_vocabulary_round_trip_and_eos() -> None:
    text = "the cat sat\non the mat\n"
    v = Vocabulary.build(text)
    assert v.frozen and v.level == "word" and len(v) == 6
    assert v.tokens[:2] == ["<eos>", "the"]  # most frequent first (2 each: ties alphabetical)
    ids = v.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (8,)
    assert v.decode(ids) == text
    assert [v.token(i) for i in ids[:4]] == ["the", "cat", "sat", "<eos>"]
    # unseen words: a frozen vocabulary without <unk> names the token and its position
    with pytest.raises(nv.DataError, match=r"token 'dog' at position 1 is not in the vocabulary"):
        v.encode("the dog")


def test_char_vocabulary_round_trip() -> None:
    text = "Hello, world!\nSecond line.\n"
    v = Vocabulary.build(text, level="char")
    assert v.tokens == sorted(set(text)) and v.level == "char"
    ids = v.encode(text)
    assert v.decode(ids) == text and len(ids) == len(text)
    assert v.decode(v.encode("")) == ""
    with pytest.raises(nv.DataError, match=r"token 'z' at position 3"):
        v.encode("Hel" + "z")


def test_size_limit_adds_unk_and_maps_rare_words_to_it() -> None:
    text = "a a a a b b b c c d"
    v = Vocabulary.build(text, max_size=3)
    assert v.tokens == ["<unk>", "a", "b"] and v.unk_id == 0
    np.testing.assert_array_equal(v.encode("a b c d e"), [1, 2, 0, 0, 0])
    assert Vocabulary.build(text, min_count=2).tokens == ["<unk>", "a", "b", "c"]
    assert Vocabulary.build(text, specials=["<pad>"], max_size=3).tokens == ["<pad>", "<unk>", "a"]
    assert Vocabulary.build(text, order="first").tokens == ["a", "b", "c", "d"]
    assert Vocabulary.build(text, order="sorted", max_size=3).tokens == ["<unk>", "a", "b"]
    chars = Vocabulary.build("aaabbcd", level="char", max_size=3)
    assert chars.tokens == ["<unk>", "a", "b"]
    np.testing.assert_array_equal(chars.encode("abcx"), [1, 2, 0, 0])  # fast char path maps to <unk> too
    with pytest.raises(nv.ConfigError, match="no room"):
        Vocabulary.build(text, specials=["<pad>"], max_size=1)


def test_growing_and_frozen_vocabularies() -> None:
    v = Vocabulary()
    assert not v.frozen
    np.testing.assert_array_equal(v.encode("x y x\nz"), [0, 1, 0, 2, 3])  # grows, <eos> included
    assert v.tokens == ["x", "y", "<eos>", "z"]
    v.freeze()
    with pytest.raises(nv.ConfigError, match="frozen"):
        v.add("w")
    with pytest.raises(nv.DataError, match="'w' at position 0"):
        v.encode("w")
    with_unk = Vocabulary(["<unk>", "x"], frozen=True)
    np.testing.assert_array_equal(with_unk.encode("x w"), [1, 0])
    c = Vocabulary(level="char")
    np.testing.assert_array_equal(c.encode("abca"), [0, 1, 2, 0])
    assert c.decode([2, 1, 0]) == "cba"


def test_vocabulary_serialises_and_rejects_bad_input() -> None:
    v = Vocabulary.build("a b c a b", max_size=2)
    assert v.tokens == ["<unk>", "a"]
    w = Vocabulary.from_dict(v.to_dict())
    assert w == v and w.frozen
    with pytest.raises(nv.FormatError):
        Vocabulary.from_dict({"level": "word"})
    with pytest.raises(nv.ConfigError, match="appears twice"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(nv.ConfigError, match="level"):
        Vocabulary(level="byte")
    with pytest.raises(nv.DataError, match=r"id 7 at position 1 is out of range for a vocabulary of 2"):
        v.decode([0, 7])
    with pytest.raises(nv.DTypeError, match="integers"):
        v.decode(np.array([0.0, 1.0]))
    with pytest.raises(nv.DTypeError):
        v.encode(["a", "b"])  # type: ignore[arg-type]
    np.testing.assert_array_equal(v.encode_tokens(["a", "zzz"]), [1, 0])
    with pytest.raises(KeyError):
        v.index("zzz")


# ---- text: the real files ----------------------------------------------------------


@pytest.fixture(scope="module")
def ptb_word() -> dict[str, TextData]:
    train = load_ptb(PTB, level="word", split="train")
    return {"train": train, **{s: load_ptb(PTB, split=s, vocabulary=train.vocabulary) for s in ("valid", "test")}}


@real
def test_ptb_word_counts_match_the_readme(ptb_word: dict[str, TextData]) -> None:
    # README: 887,521 / 70,390 / 78,669 words on 42,068 / 3,370 / 3,761 lines; one <eos> per line
    for split, words, lines in [("train", 887_521, 42_068), ("valid", 70_390, 3_370), ("test", 78_669, 3_761)]:
        d = ptb_word[split]
        assert len(d) == words + lines, split
        assert int((d.ids == d.vocabulary.index("<eos>")).sum()) == lines
    v = ptb_word["train"].vocabulary
    assert len(v) == 10_000 and "<eos>" in v and "<unk>" in v and "N" in v
    assert v.tokens[0] == "the" and v.frozen
    # valid and test hold no word outside the train vocabulary, and reading them
    # without a vocabulary uses the train one
    alone = load_ptb(PTB, split="valid")
    assert alone.vocabulary == v
    np.testing.assert_array_equal(alone.ids, ptb_word["valid"].ids)


@real
def test_ptb_word_round_trip_and_encoding(ptb_word: dict[str, TextData]) -> None:
    v = ptb_word["train"].vocabulary
    raw = (PTB / "ptb.train.txt").read_text()
    ids = v.encode(raw)  # its speed: benches/data_loading.py
    np.testing.assert_array_equal(ids, ptb_word["train"].ids)
    text = v.decode(ids)
    assert text == "".join(line.strip() + "\n" for line in raw.splitlines())  # words single-spaced
    np.testing.assert_array_equal(v.encode(text), ids)


@real
def test_ptb_char_level() -> None:
    train = load_ptb(PTB, level="char")
    v = train.vocabulary
    assert v.level == "char" and len(v) == 50 and "_" in v and "\n" in v and " " not in v
    symbols = (PTB / "ptb.char.train.txt").read_text().split()
    assert len(train) == len(symbols) + 42_068  # one "\n" per line
    words = (PTB / "ptb.train.txt").read_text()
    assert train.text() == "".join(line.strip().replace(" ", "_") + "\n" for line in words.splitlines())
    test = load_ptb(PTB, level="char", split="test", vocabulary=v)
    assert len(test) == len((PTB / "ptb.char.test.txt").read_text().split()) + 3_761
    with pytest.raises(nv.ConfigError, match="word-level"):
        load_ptb(PTB, level="char", vocabulary=Vocabulary.build("a b"))


def test_load_ptb_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(nv.ConfigError, match="split"):
        load_ptb(tmp_path, split="dev")
    with pytest.raises(nv.ConfigError, match="level"):
        load_ptb(tmp_path, level="byte")
    with pytest.raises(nv.DataFileNotFoundError, match=r"ptb\.train\.txt"):
        load_ptb(tmp_path)
    (tmp_path / "ptb.char.train.txt").write_text("a b _ c\nd ef\n")
    with pytest.raises(nv.FormatError, match=r"line 2: 'ef' is not a single character"):
        load_ptb(tmp_path, level="char")


@real
def test_tiny_shakespeare_has_65_characters() -> None:
    d = load_text(SHAKESPEARE)
    raw = SHAKESPEARE.read_text()
    assert len(d.vocabulary) == 65 and len(d) == 1_115_394 == len(raw)
    assert d.vocabulary.tokens == sorted(set(raw))
    assert d.text() == raw
    words = load_text(SHAKESPEARE, level="word")
    assert words.vocabulary.level == "word" and len(words) == len(raw.split()) + raw.count("\n")


# ---- lagged windows (NOE / NARX inputs) --------------------------------------------


def test_lagged_windows_drop_and_pad() -> None:
    s = np.column_stack([np.arange(6.0), 10 * np.arange(6.0)])  # (6, 2)
    X = lagged_windows(s, 2)
    assert X.shape == (4, 6)
    np.testing.assert_array_equal(X[0], [2, 20, 1, 10, 0, 0])  # t=2: x_t, x_{t-1}, x_{t-2}
    np.testing.assert_array_equal(X[-1], [5, 50, 4, 40, 3, 30])
    P = lagged_windows(s, 2, start="pad")
    assert P.shape == (6, 6)
    np.testing.assert_array_equal(P[0], [0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(P[1], [1, 10, 0, 0, 0, 0])
    np.testing.assert_array_equal(P[2:], X)
    np.testing.assert_array_equal(lagged_windows(np.arange(3.0), 0), [[0], [1], [2]])


def test_lagged_windows_targets_noe_and_narx() -> None:
    s = np.column_stack([np.arange(6.0), 10 * np.arange(6.0)])
    X, Y = lagged_windows(s, 1, targets=1)  # NOE: the target column is lagged among the inputs
    assert X.shape == (4, 4) and Y.shape == (4, 1)
    np.testing.assert_array_equal(X[:, 0], [1, 2, 3, 4])  # times t = 1..4
    np.testing.assert_array_equal(Y[:, 0], [20, 30, 40, 50])  # x1 at t + 1
    X2, Y2 = lagged_windows(s, 1, targets=[0, 1], offset=2, start="pad")
    np.testing.assert_array_equal(Y2, s[2:])
    assert X2.shape == (4, 4)
    y = np.arange(6.0) ** 2  # NARX: exogenous inputs, separate target values
    X3, Y3 = lagged_windows(s[:, :1], 2, targets=y)
    np.testing.assert_array_equal(X3, [[2, 1, 0], [3, 2, 1], [4, 3, 2]])
    np.testing.assert_array_equal(Y3[:, 0], [9, 16, 25])
    batch = np.stack([s, -s])  # (2, 6, 2)
    Xb, Yb = lagged_windows(batch, 1, targets=0)
    assert Xb.shape == (2, 4, 4) and Yb.shape == (2, 4, 1)
    np.testing.assert_array_equal(Xb[1], -X)
    np.testing.assert_array_equal(Yb[1, :, 0], -np.arange(2.0, 6.0))


def test_lagged_windows_errors() -> None:
    s = np.zeros((5, 2))
    with pytest.raises(nv.ConfigError, match="lags"):
        lagged_windows(s, -1)
    with pytest.raises(nv.ConfigError, match="start"):
        lagged_windows(s, 1, start="zeros")
    with pytest.raises(nv.ShapeError, match=r"5 steps, too few for lags=4 and offset=1"):
        lagged_windows(s, 4, targets=0)
    with pytest.raises(nv.ConfigError, match="column 2 is out of range"):
        lagged_windows(s, 1, targets=2)
    with pytest.raises(nv.ShapeError, match="targets has shape"):
        lagged_windows(s, 1, targets=np.zeros(4))
    with pytest.raises(nv.ShapeError, match="series must be"):
        lagged_windows(np.zeros((1, 2, 3, 4)), 1)
    with pytest.raises(nv.DTypeError):
        lagged_windows(np.array(["a", "b"]), 1)


def test_noe_windows_train_a_feed_forward_network() -> None:
    """Lecture 5: with lagged inputs an NOE network trains as a plain FFNN."""
    t = np.arange(400.0)
    series = np.sin(0.1 * t) + 0.5 * np.sin(0.37 * t)
    X, Y = lagged_windows(series, 3, targets=0)
    assert X.shape == (396, 4) and Y.shape == (396, 1)
    net = nv.Network(nv.mlp([4, 8, 1], "tanh"), dtype="float64", seed=0)
    before = net.evaluate(X, Y)["loss"]
    net.fit(X, Y, loss="mse", optimizer=nv.optim.Adam(0.01), batch_size=32, epochs=30, verbose=0)
    assert net.evaluate(X, Y)["loss"] < 0.1 * before


# ---- padding and chunking ----------------------------------------------------------


def test_pad_sequences() -> None:
    X, mask = pad_sequences([np.array([1, 2, 3]), np.array([4]), np.array([], dtype=np.int64)])
    np.testing.assert_array_equal(X, [[1, 2, 3], [4, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    assert X.dtype == np.int64 and mask.dtype == np.float32
    F, m = pad_sequences([np.ones((2, 3)), np.ones((4, 3), dtype=np.float32)], length=5, value=-1.0)
    assert F.shape == (2, 5, 3) and F.dtype == np.float64 and m.dtype == np.float64
    assert (F[0, 2:] == -1).all() and m.sum(axis=1).tolist() == [2, 4]
    with pytest.raises(nv.ShapeError, match=r"sequences\[1\] has shape \(2, 4\) but sequences\[0\] has \(2, 3\)"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(nv.ShapeError, match=r"sequences\[1\] has 4 steps, more than length=3"):
        pad_sequences([np.ones(2), np.ones(4)], length=3)
    with pytest.raises(nv.ConfigError, match="empty"):
        pad_sequences([])


def test_padded_sequences_feed_a_recurrent_network(small_graph: nv.Graph) -> None:
    seqs = [np.random.default_rng(i).normal(size=(n, 2)) for i, n in enumerate([5, 3, 1])]
    X, mask = pad_sequences(seqs)
    Y = np.full(X.shape[:2] + (1,), 0.5)
    net = nv.Network(small_graph, dtype="float64", seed=0)
    loss, _ = net.loss_and_gradient(X, Y, loss="l2", mask=mask)
    # masked padding does not count: the same as the sum over each sequence alone
    alone = sum(net.loss_and_gradient(s[None], np.full((1, len(s), 1), 0.5), loss="l2")[0] for s in seqs)
    assert loss == pytest.approx(alone, rel=1e-12)


def test_chunk_series_drop_pad_and_stride() -> None:
    s = np.arange(10)
    c, m = chunk_series(s, 4)
    np.testing.assert_array_equal(c, [[0, 1, 2, 3], [4, 5, 6, 7]])
    assert m.all() and m.shape == (2, 4)
    c, m = chunk_series(s, 4, remainder="pad")
    np.testing.assert_array_equal(c[-1], [8, 9, 0, 0])
    np.testing.assert_array_equal(m[-1], [1, 1, 0, 0])
    np.testing.assert_array_equal(c[m > 0], s)  # every step exactly once
    c, m = chunk_series(s, 4, stride=3)
    np.testing.assert_array_equal(c, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    c, m = chunk_series(np.arange(11), 4, stride=3, remainder="pad")
    np.testing.assert_array_equal(c[-1], [9, 10, 0, 0])
    c, m = chunk_series(np.arange(3), 4, remainder="pad")
    np.testing.assert_array_equal(c, [[0, 1, 2, 0]])
    feats = np.arange(20.0).reshape(10, 2)
    c, m = chunk_series(feats, 5)
    assert c.shape == (2, 5, 2) and m.dtype == np.float64
    np.testing.assert_array_equal(c.reshape(10, 2), feats)


def test_chunk_series_lists_and_padded_batches() -> None:
    a, b = np.arange(7.0)[:, None], 100 + np.arange(3.0)[:, None]
    c, m = chunk_series([a, b], 3, remainder="pad")
    assert c.shape == (4, 3, 1)
    np.testing.assert_array_equal(c[m > 0][:, 0], np.concatenate([a, b])[:, 0])
    X, mask = pad_sequences([a, b])  # (2, 7, 1)
    c2, m2 = chunk_series(X, 3, remainder="pad", lengths=mask.sum(axis=1).astype(int))
    np.testing.assert_array_equal(c2, c)
    np.testing.assert_array_equal(m2, m)
    c3, _ = chunk_series(X, 3)  # without lengths, all 7 steps of both
    assert c3.shape == (4, 3, 1)


@real
def test_chunk_coal_sequences_keep_inputs_and_outputs_aligned() -> None:
    d = load_timeseries([COAL / "burner_10.csv", COAL / "burner_11.csv"], outputs="Main_Flm_Int")
    Xc, mx = chunk_series(d.X, 1000, lengths=d.lengths)
    Yc, my = chunk_series(d.Y, 1000, lengths=d.lengths)
    assert Xc.shape == (28, 1000, 12) and Yc.shape == (28, 1000, 1)  # 14 full chunks per burner, 400 steps dropped
    np.testing.assert_array_equal(mx, my)
    np.testing.assert_array_equal(Yc[:, :-1, 0], Xc[:, 1:, 11])
    Xp, mp = chunk_series(d.X, 1000, lengths=d.lengths, remainder="pad")
    assert Xp.shape == (30, 1000, 12) and mp.sum() == 2 * 14_400


def test_chunk_series_errors() -> None:
    with pytest.raises(nv.ConfigError, match="length"):
        chunk_series(np.arange(5), 0)
    with pytest.raises(nv.ConfigError, match="stride"):
        chunk_series(np.arange(5), 2, stride=0)
    with pytest.raises(nv.ConfigError, match="remainder"):
        chunk_series(np.arange(5), 2, remainder="keep")
    with pytest.raises(nv.ShapeError, match="no chunk of length 6 fits: the longest series has 5 steps"):
        chunk_series(np.arange(5), 6)
    with pytest.raises(nv.ShapeError, match=r"X\[1\] has shape"):
        chunk_series([np.zeros((4, 2)), np.zeros((4, 3))], 2)
    with pytest.raises(nv.DataError, match=r"lengths\[1\] = 9 is outside 0..4"):
        chunk_series(np.zeros((2, 4, 1)), 2, lengths=[4, 9])
    with pytest.raises(nv.ConfigError, match="lengths"):
        chunk_series(np.zeros(4), 2, lengths=[4])


# ---- language modelling pairs ------------------------------------------------------------


def test_next_step_targets() -> None:
    ids = np.array([3, 1, 4, 1, 5])
    x, y = next_step_targets(ids)
    np.testing.assert_array_equal(x, [3, 1, 4, 1])
    np.testing.assert_array_equal(y, [1, 4, 1, 5])
    xo, yo = next_step_targets(ids[None], one_hot=True, n_classes=6)
    assert xo.shape == (1, 4, 6) and xo.dtype == np.float32 and yo.shape == (1, 4)
    np.testing.assert_array_equal(xo.argmax(-1), x[None])
    assert xo.sum() == 4
    xb, yb = next_step_targets(ids, one_hot="both", n_classes=6, dtype="float64")
    assert yb.shape == (4, 6) and yb.dtype == np.float64
    np.testing.assert_array_equal(yb.argmax(-1), y)
    padded, mask = pad_sequences([ids, ids[:3]])
    _, _, m = next_step_targets(padded, mask=mask)
    np.testing.assert_array_equal(m, [[1, 1, 1, 1], [1, 1, 0, 0]])
    np.testing.assert_array_equal(one_hot_ids([[0, 2]], 3), [[[1, 0, 0], [0, 0, 1]]])


def test_next_step_targets_errors() -> None:
    with pytest.raises(nv.DTypeError, match="integer ids"):
        next_step_targets(np.array([0.0, 1.0]))
    with pytest.raises(nv.ShapeError, match="at least 2"):
        next_step_targets(np.array([1]))
    with pytest.raises(nv.DataError, match=r"ids\[2\] = 7 is out of range for n_classes=5"):
        next_step_targets(np.array([0, 1, 7]), n_classes=5)
    with pytest.raises(nv.ConfigError, match="n_classes"):
        next_step_targets(np.array([0, 1, 2]), one_hot=True)
    with pytest.raises(nv.ConfigError, match="one_hot"):
        next_step_targets(np.array([0, 1, 2]), one_hot="targets", n_classes=3)
    with pytest.raises(nv.ShapeError, match="mask has shape"):
        next_step_targets(np.array([0, 1, 2]), mask=np.ones(2))


@real
def test_ptb_chunks_give_every_next_word_once(ptb_word: dict[str, TextData]) -> None:
    ids = ptb_word["valid"].ids
    L = 36
    chunks, mask = chunk_series(ids, L, stride=L - 1)  # chunk k+1 starts at chunk k's last target
    x, y = next_step_targets(chunks)
    assert x.shape == y.shape == (len(chunks), L - 1)
    n = len(chunks) * (L - 1)
    np.testing.assert_array_equal(y.reshape(-1), ids[1 : n + 1])
    np.testing.assert_array_equal(x.reshape(-1), ids[:n])
    xo, _ = next_step_targets(chunks[:4], one_hot=True, n_classes=len(ptb_word["valid"].vocabulary))
    assert xo.shape == (4, L - 1, 10_000)
