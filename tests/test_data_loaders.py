"""The image and table loaders of nervenet.data (MNIST IDX, CIFAR-10 binary,
UCI mushroom / iris): the real files in ../shared/data, and small corrupt
files written to tmp_path, each of which must raise FormatError (or DataError
for a bad value) naming the file and the position."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

import nervenet as nv
from nervenet.data import cifar, mnist, uci

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MNIST = DATA / "mnist"
CIFAR = DATA / "cifar10" / "cifar-10-batches-bin"
MUSHROOM = DATA / "uci" / "mushroom" / "agaricus-lepiota.data"
MUSHROOM_NAMES = DATA / "uci" / "mushroom" / "agaricus-lepiota.names"
IRIS = DATA / "uci" / "iris" / "iris.data"

# Lecture 4 of the notes: "The number of classes per attribute is: 1(6), 2(4), 3(10), ... 22(7)" -> "126 binary values".
NOTES_VALUES_PER_ATTRIBUTE = [6, 4, 10, 2, 9, 4, 3, 2, 12, 2, 7, 4, 4, 9, 9, 2, 4, 3, 8, 9, 6, 7]


def _idx(type_code: int, dims: list[int], payload: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def _mnist_pair(tmp_path: Path, n: int = 3, n_labels: int | None = None, labels: bytes | None = None,
                size: tuple[int, int] = (28, 28), gz: bool = False) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(n, *size), dtype=np.uint8)
    m = n if n_labels is None else n_labels
    lab = labels if labels is not None else bytes(i % 10 for i in range(m))
    img, lbl = _idx(0x08, [n, *size], pixels.tobytes()), _idx(0x08, [len(lab)], lab)
    ip, lp = tmp_path / "train-images-idx3-ubyte", tmp_path / "train-labels-idx1-ubyte"
    if gz:
        img, lbl, ip, lp = gzip.compress(img), gzip.compress(lbl), ip.with_suffix(".gz"), lp.with_suffix(".gz")
    ip.write_bytes(img)
    lp.write_bytes(lbl)
    return ip, lp


def _raises(exc: type, path: Path, *fragments: str):
    """pytest.raises(exc) whose message must name ``path`` and contain every fragment."""
    return pytest.raises(exc, match="(?s)" + re.escape(str(path)) + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# ---- MNIST -------------------------------------------------------------------------


def test_mnist_train_and_test_match_the_published_counts() -> None:
    images, labels = mnist.load_mnist(MNIST, kind="train")  # its speed: benches/data_loading.py
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    images, labels = mnist.load_mnist(MNIST, kind="test")
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_read_idx_reads_gzip_and_raw_alike(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "gz").mkdir()
    ip, _ = _mnist_pair(tmp_path / "raw")
    gp, gl = _mnist_pair(tmp_path / "gz", gz=True)
    assert np.array_equal(mnist.read_idx(ip), mnist.read_idx(gp))
    raw_images, raw_labels = mnist.load_mnist(tmp_path / "raw")  # the folder, raw names
    gz_images, gz_labels = mnist.load_mnist((gp, gl))  # an explicit pair
    assert np.array_equal(raw_images, gz_images) and raw_labels.tolist() == gz_labels.tolist() == [0, 1, 2]
    assert raw_images.flags.writeable


def test_read_idx_handles_other_idx_types(tmp_path: Path) -> None:
    values = np.array([[1, -2, 3], [70000, 5, -6]], dtype=">i4")
    f = tmp_path / "ints.idx"
    f.write_bytes(_idx(0x0C, [2, 3], values.tobytes()))
    out = mnist.read_idx(f)
    assert out.shape == (2, 3) and out.dtype == np.int32 and out.tolist() == values.tolist()


def test_mnist_kind_test_reads_the_t10k_files(tmp_path: Path) -> None:
    ip, lp = _mnist_pair(tmp_path, n=2)
    ip.rename(tmp_path / "t10k-images-idx3-ubyte")
    lp.rename(tmp_path / "t10k-labels-idx1-ubyte")
    images, labels = mnist.load_mnist(tmp_path, kind="test")
    assert images.shape == (2, 28, 28) and labels.tolist() == [0, 1]
    with pytest.raises(nv.FormatError, match="no MNIST train images file") as e:
        mnist.load_mnist(tmp_path, kind="train")
    assert isinstance(e.value, FileNotFoundError)
    with pytest.raises(nv.ConfigError, match="kind"):
        mnist.load_mnist(tmp_path, kind="validation")


def test_idx_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope-idx1-ubyte.gz"
    with _raises(nv.FormatError, missing, "does not exist") as e:
        mnist.read_idx(missing)
    assert isinstance(e.value, FileNotFoundError)
    with _raises(nv.FormatError, tmp_path / "absent", "does not exist"):
        mnist.load_mnist(tmp_path / "absent")


@pytest.mark.parametrize(
    "content, fragments",
    [
        (b"", ["not an IDX file", "0 bytes", "byte offset 0"]),
        (b"PK\x03\x04rest", ["not an IDX file", "0x504b0304", "byte offset 0"]),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01x", ["not an IDX file", "byte offset 0"]),  # unknown type 0x07
        (b"\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00", ["truncated IDX header", "byte offset 16", "ends at byte offset 10"]),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", ["truncated", "holds 3 bytes", "byte offset 8", "end at byte offset 13"]),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", ["extra bytes", "holds 3 bytes", "end at byte offset 10"]),
    ],
    ids=["empty", "zip-magic", "unknown-type", "short-header", "truncated-data", "trailing-bytes"],
)
def test_idx_corrupt_files_raise_format_error(tmp_path: Path, content: bytes, fragments: list[str]) -> None:
    f = tmp_path / "bad-idx-ubyte"
    f.write_bytes(content)
    with _raises(nv.FormatError, f, *fragments):
        mnist.read_idx(f)
    g = tmp_path / "bad-idx-ubyte.gz"  # the same inside gzip: offsets are in the decompressed stream
    g.write_bytes(gzip.compress(content))
    with _raises(nv.FormatError, g, *fragments, "decompressed"):
        mnist.read_idx(g)


def test_idx_truncated_or_corrupt_gzip(tmp_path: Path) -> None:
    ip, _ = _mnist_pair(tmp_path, gz=True)
    whole = ip.read_bytes()
    cut = tmp_path / "cut-images-idx3-ubyte.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with _raises(nv.FormatError, cut, "truncated gzip", f"byte offset {len(whole) // 2}"):
        mnist.read_idx(cut)
    flipped = tmp_path / "crc-images-idx3-ubyte.gz"
    flipped.write_bytes(whole[:-8] + bytes([whole[-8] ^ 0xFF]) + whole[-7:])  # break the CRC32
    with _raises(nv.FormatError, flipped, "corrupt gzip"):
        mnist.read_idx(flipped)


def test_mnist_wrong_magic_for_the_role(tmp_path: Path) -> None:
    ip, lp = _mnist_pair(tmp_path)
    with _raises(nv.FormatError, lp, "magic number 2049", "byte offset 0", "not 2051"):
        mnist.load_mnist((lp, lp))
    with _raises(nv.FormatError, ip, "magic number 2051", "byte offset 0", "not 2049"):
        mnist.load_mnist((ip, ip))


def test_mnist_image_and_label_counts_must_agree(tmp_path: Path) -> None:
    ip, lp = _mnist_pair(tmp_path, n=3, n_labels=2)
    with _raises(nv.FormatError, ip, str(lp), "3 images", "2 labels", "byte offset 4"):
        mnist.load_mnist(tmp_path)


def test_mnist_images_must_be_28x28(tmp_path: Path) -> None:
    ip, _ = _mnist_pair(tmp_path, size=(32, 32))
    with _raises(nv.FormatError, ip, "28x28", "32x32"):
        mnist.load_mnist(tmp_path)


def test_mnist_label_out_of_range_is_a_data_error(tmp_path: Path) -> None:
    _, lp = _mnist_pair(tmp_path, labels=bytes([1, 2, 12]))
    with _raises(nv.DataError, lp, "label 12", "sample 2", "byte offset 10"):
        mnist.load_mnist(tmp_path)


# ---- CIFAR-10 ----------------------------------------------------------------------


def test_cifar10_batches_match_the_published_counts() -> None:
    files = [CIFAR / "data_batch_1.bin", CIFAR / "data_batch_2.bin"]
    images, labels, names = cifar.load_cifar10(files, label_names=True)  # its speed: benches/data_loading.py
    assert images.shape == (20000, 3, 32, 32) and images.dtype == np.uint8
    assert labels.shape == (20000,) and labels.dtype == np.uint8
    assert np.bincount(labels[:10000]).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert np.bincount(labels[10000:]).tolist() == [984, 1007, 1010, 995, 1010, 988, 1008, 1026, 987, 985]
    assert names == list(cifar.CIFAR10_CLASSES)
    dir_images, dir_labels = cifar.load_cifar10(CIFAR)  # the folder: data_batch_1, data_batch_2 in order
    assert np.array_equal(dir_images, images) and np.array_equal(dir_labels, labels)


def test_cifar10_test_subset_first_records() -> None:
    images, labels = cifar.load_cifar10(CIFAR / "test_batch_first1000.bin")
    assert images.shape == (1000, 3, 32, 32)
    assert labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert images[0, 0, 0, :10].tolist() == [158, 159, 165, 166, 160, 156, 162, 159, 158, 159]  # red plane, row 0
    assert np.bincount(labels).tolist() == [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]


def test_cifar10_record_layout(tmp_path: Path) -> None:
    plane = np.arange(1024, dtype=np.uint32) % 251
    record = bytes([7]) + b"".join(((plane + c) % 256).astype(np.uint8).tobytes() for c in range(3))
    f = tmp_path / "one.bin"
    f.write_bytes(record * 2)
    images, labels = cifar.load_cifar10(f)
    assert labels.tolist() == [7, 7] and images.shape == (2, 3, 32, 32)
    assert images[1, 2, 1, 3] == (32 + 3 + 2) % 251 % 256  # blue plane, row 1, column 3


def test_cifar10_corrupt_files(tmp_path: Path) -> None:
    missing = tmp_path / "data_batch_9.bin"
    with _raises(nv.FormatError, missing, "does not exist") as e:
        cifar.load_cifar10([missing])
    assert isinstance(e.value, FileNotFoundError)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with _raises(nv.FormatError, empty, "empty"):
        cifar.load_cifar10(empty)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(bytes(3073 * 2 + 100))
    with _raises(nv.FormatError, truncated, "not a whole number", "byte offset 6146", "record 2", "only 100 bytes"):
        cifar.load_cifar10(truncated)
    bad_label = tmp_path / "bad_label.bin"
    bad_label.write_bytes(bytes(3073) + bytes([10]) + bytes(3072) + bytes([200]) + bytes(3072))
    with _raises(nv.DataError, bad_label, "record 1", "byte offset 3073", "label 10", "2 such"):
        cifar.load_cifar10([bad_label])
    with _raises(nv.FormatError, tmp_path, "no CIFAR-10 training batches"):
        cifar.load_cifar10(tmp_path)


def test_cifar10_label_names_file(tmp_path: Path) -> None:
    (tmp_path / "data_batch_1.bin").write_bytes(bytes(3073))
    with _raises(nv.FormatError, tmp_path / "batches.meta.txt", "does not exist"):
        cifar.load_cifar10(tmp_path, label_names=True)
    (tmp_path / "batches.meta.txt").write_text("\n".join(cifar.CIFAR10_CLASSES[:9]) + "\n")
    with _raises(nv.FormatError, tmp_path / "batches.meta.txt", "expected 10 class names", "found 9"):
        cifar.load_cifar10(tmp_path, label_names=True)
    (tmp_path / "batches.meta.txt").write_text("\n".join(cifar.CIFAR10_CLASSES) + "\n\n")
    _, labels, names = cifar.load_cifar10(tmp_path, label_names=True)
    assert labels.tolist() == [0] and names[9] == "truck"


# ---- UCI mushroom ------------------------------------------------------------------


def test_mushroom_has_the_notes_126_inputs() -> None:
    assert sum(NOTES_VALUES_PER_ATTRIBUTE) == 126 == uci.MUSHROOM_INPUTS
    names = uci.read_names(MUSHROOM_NAMES)
    assert [len(v) for v in names.values] == NOTES_VALUES_PER_ATTRIBUTE and names.n_inputs == 126
    assert names.attributes[0] == "cap-shape" and names.attributes[3] == "bruises?"
    assert names.values[0] == ["b", "c", "x", "f", "k", "s"] and names.labels[0][0] == "bell"
    assert names.values[10] == ["b", "c", "u", "e", "z", "r", "?"]  # stalk-root: ... missing=?
    assert names.classes == ["e", "p"] and names.class_labels == ["edible", "poisonous"]

    d = uci.load_mushroom(MUSHROOM)  # the .names file beside the data
    assert d.X.shape == (8124, 126) and d.X.dtype == np.float64
    assert d.classes == ["e", "p"] and np.bincount(d.y).tolist() == [4208, 3916]
    assert [len(c or []) for c in d.categories] == NOTES_VALUES_PER_ATTRIBUTE
    assert np.all(d.X.sum(axis=1) == 22)  # one value per attribute, a missing stalk-root included
    assert d.X[:, d.feature_names.index("stalk-root=?")].sum() == 2480  # the '?' is its own category
    never = [f for f, s in zip(d.feature_names, d.X.sum(axis=0)) if s == 0]
    assert never == ["gill-attachment=d", "gill-attachment=n", "gill-spacing=d", "stalk-root=u", "stalk-root=z",
                     "veil-type=u", "ring-type=c", "ring-type=s", "ring-type=z"]


def test_mushroom_encoding_matches_an_independent_one() -> None:
    rows = [line.split(",") for line in MUSHROOM.read_text().splitlines() if line.strip()]
    d = uci.load_mushroom(MUSHROOM, MUSHROOM_NAMES)
    for k, cats in enumerate(d.categories):
        for c in cats or []:
            expected = np.array([r[k + 1] == c for r in rows], dtype=np.float64)
            assert np.array_equal(d.X[:, d.feature_names.index(f"{d.columns[k]}={c}")], expected)
    assert d.y.tolist() == [int(r[0] == "p") for r in rows]
    # dropping the 9 never-seen inputs gives the 117 of an encoding of the values seen
    assert d.X[:, d.X.sum(axis=0) > 0].shape == (8124, 117)


def test_mushroom_missing_modes() -> None:
    zeros = uci.load_mushroom(MUSHROOM, missing="zeros")
    assert zeros.X.shape == (8124, 125) and "stalk-root=?" not in zeros.feature_names
    assert (zeros.X.sum(axis=1) == 21).sum() == 2480  # a missing stalk-root encodes as no category
    lines = MUSHROOM.read_text().splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.split(",")[11] == "?")
    with _raises(nv.DataError, MUSHROOM, f"line {first}, column 12", "missing value '?'", "2480 such rows"):
        uci.load_mushroom(MUSHROOM, missing="error")


MUSHROOM_ROWS = """p,x,s,n,t,p,f,c,n,k,e,e,s,s,w,w,p,w,o,p,k,s,u
e,x,s,y,t,a,f,c,b,k,e,c,s,s,w,w,p,w,o,p,n,n,g
e,b,s,w,t,l,f,c,b,n,e,c,s,s,w,w,p,w,o,p,n,n,m
"""


def _small_mushroom(tmp_path: Path, text: str, names: str | None = None) -> Path:
    f = tmp_path / "agaricus-lepiota.data"
    f.write_text(text)
    (tmp_path / "agaricus-lepiota.names").write_text(names if names is not None else MUSHROOM_NAMES.read_text())
    return f


def test_mushroom_small_file_keeps_all_126_inputs(tmp_path: Path) -> None:
    d = uci.load_mushroom(_small_mushroom(tmp_path, MUSHROOM_ROWS))
    assert d.X.shape == (3, 126) and d.y.tolist() == [1, 0, 0]


def test_uci_ragged_row(tmp_path: Path) -> None:
    rows = MUSHROOM_ROWS.splitlines()
    f = _small_mushroom(tmp_path, "\n".join([rows[0], rows[1], "", rows[2].rsplit(",", 1)[0]]) + "\n")
    offset = len(rows[0]) + len(rows[1]) + 3
    with _raises(nv.FormatError, f, "line 4", f"byte offset {offset}", "22 values", "line 1 has 23"):
        uci.load_mushroom(f)


def test_uci_unknown_category_value(tmp_path: Path) -> None:
    rows = MUSHROOM_ROWS.splitlines()
    rows[1] = rows[1][:6] + "q" + rows[1][7:]  # cap-color 'q': not in the .names list
    f = _small_mushroom(tmp_path, "\n".join(rows) + "\n")
    with _raises(nv.DataError, f, "line 2, column 4", "'q'", "cap-color"):
        uci.load_mushroom(f)
    rows = MUSHROOM_ROWS.splitlines()
    rows[2] = rows[2][:2] + "?" + rows[2][3:]  # a '?' where the .names list has none (cap-shape)
    f.write_text("\n".join(rows) + "\n")
    with _raises(nv.DataError, f, "line 3, column 2", "'?'", "cap-shape"):
        uci.load_mushroom(f)
    f.write_text(MUSHROOM_ROWS.replace("e,b,s", "x,b,s"))
    with _raises(nv.DataError, f, "line 3, column 1", "'x'", "classes"):
        uci.load_mushroom(f)


def test_uci_names_file_problems(tmp_path: Path) -> None:
    text = MUSHROOM_NAMES.read_text()
    data = _small_mushroom(tmp_path, MUSHROOM_ROWS)
    names = tmp_path / "agaricus-lepiota.names"
    names.unlink()
    with _raises(nv.FormatError, names, "does not exist"):
        uci.load_mushroom(data)
    names.write_text(text.replace("7. Attribute Information", "7. Attributes"))
    with _raises(nv.FormatError, names, "no 'Attribute Information' section"):
        uci.load_mushroom(data)
    lines = text.splitlines()
    broken = next(i for i, line in enumerate(lines) if "fibrous=f,grooves=g" in line)
    names.write_text("\n".join(lines[:broken] + [lines[broken].replace("grooves=g", "grooves g")] + lines[broken + 1:]))
    with _raises(nv.FormatError, names, f"line {broken + 1}", "'grooves g'", "name=code"):
        uci.load_mushroom(data)
    names.write_text(text.replace("grooves=g", "grooves=f"))
    with _raises(nv.FormatError, names, f"line {broken + 1}", "code 'f' appears twice", "cap-surface"):
        uci.load_mushroom(data)
    cut = next(i for i, line in enumerate(lines) if line.lstrip().startswith("22. habitat"))
    names.write_text("\n".join(lines[:cut] + lines[cut + 2:]))  # attribute 22 and its continuation line gone
    with _raises(nv.FormatError, data, "22 feature columns", "lists 21 attributes"):
        uci.load_mushroom(data)
    names.write_text(text.replace("    12. stalk-surface-above", "    13. stalk-surface-above"))
    with _raises(nv.FormatError, names, "attribute 13 follows attribute 11"):
        uci.load_mushroom(data)


def test_uci_missing_and_non_utf8_data(tmp_path: Path) -> None:
    missing = tmp_path / "absent.data"
    with _raises(nv.FormatError, missing, "does not exist") as e:
        uci.load_uci(missing)
    assert isinstance(e.value, FileNotFoundError)
    f = tmp_path / "latin.data"
    f.write_bytes(b"1,a,x\n2,b\xe9,y\n")
    with _raises(nv.FormatError, f, "line 2", "byte offset 9", "not UTF-8"):
        uci.load_uci(f)
    f.write_bytes(b"\n  \n")
    with _raises(nv.FormatError, f, "no data rows"):
        uci.load_uci(f)


# ---- UCI iris and generic tables ---------------------------------------------------


def test_iris() -> None:
    d = uci.load_iris(IRIS)
    assert d.X.shape == (150, 4) and np.bincount(d.y).tolist() == [50, 50, 50]
    assert d.classes == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert d.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert d.X[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    bezdek = uci.load_iris(IRIS.with_name("bezdekIris.data"))  # UCI's errata: samples 35 and 38
    assert np.flatnonzero((bezdek.X != d.X).any(axis=1)).tolist() == [34, 37]


def test_iris_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "iris.data"
    f.write_text("5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,abc,0.2,Iris-setosa\n")
    with _raises(nv.DataError, f, "line 2, column 3", "'abc' is not a number"):
        uci.load_iris(f)
    f.write_text("5.1,3.5,1.4,Iris-setosa\n4.9,3.0,1.4,Iris-setosa\n")
    with _raises(nv.FormatError, f, "3 feature columns", "expected 4"):
        uci.load_iris(f)
    f.write_text("5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,?\n")
    with _raises(nv.DataError, f, "line 2, column 5", "class is missing"):
        uci.load_iris(f)


def test_load_uci_mixed_columns(tmp_path: Path) -> None:
    f = tmp_path / "mixed.data"
    f.write_text("1.5, red, yes\n?, blue, no\n2.5, ?, yes\n\n4, red, no\n")
    t = uci.load_uci(f, target=-1, classes=["no", "yes"])
    assert t.columns == ["a1", "a2"] and t.categories == [None, ["?", "blue", "red"]]
    assert t.feature_names == ["a1", "a2=?", "a2=blue", "a2=red"]
    assert np.isnan(t.X[1, 0]) and t.X[[0, 2, 3], 0].tolist() == [1.5, 2.5, 4.0]
    assert t.X[:, 1:].tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert t.y.tolist() == [1, 0, 1, 0]
    z = uci.load_uci(f, missing="zeros", numeric=False, dtype=np.float32)
    assert z.X.dtype == np.float32 and z.categories[1] == ["blue", "red"] and z.X[2, -2:].tolist() == [0, 0]
    with _raises(nv.DataError, f, "line 2, column 1", "missing value"):
        uci.load_uci(f, missing="error")
    with _raises(nv.DataError, f, "line 1, column 2", "'red' is not a number"):
        uci.load_uci(f, numeric=[0, 1])
    with _raises(nv.FormatError, f, "target column 5 is out of range"):
        uci.load_uci(f, target=5)


def test_data_package_exports_the_loaders() -> None:
    import nervenet.data as nd

    for name in ("read_idx", "load_mnist", "load_cifar10", "read_cifar10_label_names", "load_uci",
                 "load_mushroom", "load_iris", "read_names"):
        assert callable(getattr(nd, name)), name
    assert nd.load_mnist is mnist.load_mnist and nd.load_mushroom is uci.load_mushroom
