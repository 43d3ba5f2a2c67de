"""The data functions under hostile arguments (issue 13): wrong types,
ragged lists, sizes past the memory budget and broadcast views standing for
terabytes raise nervenet's errors, checked before anything is allocated,
never a numpy or builtin exception, a MemoryError or a hang."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pytest

import nervenet as nv

#: 3 floats standing for 12 TiB: converting, copying or np.isfinite on it would allocate all of them
HUGE = np.broadcast_to(np.zeros(3, np.float32), (2**40, 3))
RAGGED = [[1, 2], [3]]


@contextmanager
def _raises(cls: type, *fragments: str) -> Iterator[Any]:
    """pytest.raises for ``cls``, which must be a NervenetError, with every fragment in the message."""
    assert issubclass(cls, nv.NervenetError)
    with pytest.raises(cls) as info:
        yield info
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


# ---- sequences ------------------------------------------------------------------


def test_chunk_series_refuses_a_view_standing_for_terabytes():
    with _raises(nv.UnsupportedError, "X", "bytes", "memory budget"):
        nv.data.chunk_series(HUGE, 5)


def test_chunk_series_checks_the_output_size_before_allocating():
    # one padded chunk of 2**40 steps
    with _raises(nv.UnsupportedError, "chunks", "their mask", str(2**40 * 2 * 8 + 2**40 * 8), "memory budget"):
        nv.data.chunk_series(np.zeros((20, 2)), 2**40, remainder="pad")


def test_chunk_series_remainder_must_be_a_string():
    with _raises(nv.ConfigError, "remainder"):
        nv.data.chunk_series(np.zeros((20, 2)), 5, remainder=np.array([True, False]))


@pytest.mark.parametrize("stride", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("remainder", ["drop", "pad"])
def test_chunk_series_chunks_are_the_slices_of_the_series(stride, remainder):
    series = np.arange(23 * 2, dtype=np.float64).reshape(23, 2)
    chunks, mask = nv.data.chunk_series(series, 5, stride=stride, remainder=remainder)
    starts = list(range(0, 23 - 5 + 1, stride))
    if remainder == "pad" and starts[-1] + 5 < 23 and starts[-1] + stride < 23:
        starts.append(starts[-1] + stride)
    assert chunks.shape == (len(starts), 5, 2)
    for k, s0 in enumerate(starts):
        real = series[s0 : s0 + 5]
        np.testing.assert_array_equal(chunks[k, : len(real)], real)
        np.testing.assert_array_equal(chunks[k, len(real) :], 0)
        np.testing.assert_array_equal(mask[k], [1] * len(real) + [0] * (5 - len(real)))


def test_lagged_windows_refuses_a_view_standing_for_terabytes():
    with _raises(nv.UnsupportedError, "series", "bytes", "memory budget"):
        nv.data.lagged_windows(HUGE, 3)


def test_lagged_windows_checks_the_output_size_before_allocating():
    with _raises(nv.UnsupportedError, "windows", "bytes", "memory budget"):
        nv.data.lagged_windows(np.zeros((20, 2)), 2**31, start="pad")


def test_lagged_windows_hostile_targets_and_start():
    with _raises(nv.ConfigError, "targets"):
        nv.data.lagged_windows(np.zeros((20, 2)), 3, targets=RAGGED)
    with _raises(nv.ConfigError, "start"):
        nv.data.lagged_windows(np.zeros((20, 2)), 3, start=np.array([True, False]))
    with _raises(nv.UnsupportedError, "targets", "bytes"):
        nv.data.lagged_windows(np.zeros((2**20, 3), np.float32), 3,
                               targets=np.broadcast_to(np.zeros(1), (2**20, 2**30)))


def test_lagged_windows_layout_is_unchanged():
    series = np.arange(10, dtype=np.float64).reshape(5, 2)
    X, Y = nv.data.lagged_windows(series, 2, targets=0)
    assert X.shape == (2, 6) and X.flags.c_contiguous
    np.testing.assert_array_equal(X, [[4, 5, 2, 3, 0, 1], [6, 7, 4, 5, 2, 3]])  # t = 2, 3, newest first
    np.testing.assert_array_equal(Y, [[6], [8]])
    X, Y = nv.data.lagged_windows(series, 1, targets=0, start="pad")
    np.testing.assert_array_equal(X[0], [0, 1, 0, 0])


def test_one_hot_ids_refuses_an_output_past_the_budget_naming_its_bytes():
    need = 3 * 2**31 * 4  # 24 GiB of float32
    with _raises(nv.UnsupportedError, str(need), "n_classes=2147483648", "memory budget"):
        nv.data.one_hot_ids(np.array([0, 2, 1]), 2**31)


def test_one_hot_ids_hostile_ids_and_dtype():
    with _raises(nv.UnsupportedError, "ids", "bytes"):
        nv.data.one_hot_ids(np.broadcast_to(np.zeros(1, np.int64), (2**40,)), 3)
    with _raises(nv.ShapeError, "ids"):
        nv.data.one_hot_ids(RAGGED, 3)
    with _raises(nv.ConfigError, "dtype"):
        nv.data.one_hot_ids(np.array([0, 1]), 3, dtype="not a dtype")
    with _raises(nv.DTypeError, "dtype"):
        nv.data.one_hot_ids(np.array([0, 1]), 3, dtype=object)


def test_next_step_targets_hostile_one_hot():
    ids = np.array([[0, 1, 2], [2, 1, 0]])
    with _raises(nv.ConfigError, "one_hot"):
        nv.data.next_step_targets(ids, one_hot=np.array([True, False]), n_classes=3)
    with _raises(nv.UnsupportedError, "one-hot", "bytes"):
        nv.data.next_step_targets(ids, one_hot="both", n_classes=2**40)
    inputs, targets = nv.data.next_step_targets(ids, one_hot=True, n_classes=3)
    assert inputs.shape == (2, 2, 3) and targets.shape == (2, 2)


def test_pad_sequences_refuses_a_view_standing_for_terabytes_without_walking_it():
    with _raises(nv.UnsupportedError, "sequences", "bytes", "memory budget"):
        nv.data.pad_sequences(HUGE)
    with _raises(nv.UnsupportedError, "sequences[1]", "bytes"):
        nv.data.pad_sequences([np.zeros((2, 3)), HUGE])


def test_pad_sequences_checks_the_output_size_before_allocating():
    with _raises(nv.UnsupportedError, "padded sequences", "their mask", str(2 * 2**31 * 3 * 8 + 2 * 2**31 * 8), "memory budget"):
        nv.data.pad_sequences([np.zeros((2, 3)), np.zeros((4, 3))], length=2**31)


@pytest.mark.parametrize("value", ["x", b"\xff", None, 1 + 2j, np.array([True, False]), object()])
def test_pad_sequences_value_must_be_a_number(value):
    with _raises(nv.ConfigError, "value"):
        nv.data.pad_sequences([np.zeros((2, 3)), np.zeros((4, 3))], value=value)


def test_pad_sequences_value_must_fit_the_dtype():
    ints = [np.zeros(2, np.int64), np.zeros(3, np.int64)]
    for value in (1.5, float("nan"), 2**64):
        with _raises(nv.ConfigError, "value"):
            nv.data.pad_sequences(ints, value=value)
    X, mask = nv.data.pad_sequences(ints, value=-1)
    np.testing.assert_array_equal(X, [[0, 0, -1], [0, 0, 0]])
    X, _ = nv.data.pad_sequences([np.zeros(1), np.zeros(2)], value=float("nan"))
    assert np.isnan(X[0, 1])
    floats = [np.zeros(1, np.float32), np.zeros(2, np.float32)]
    for value in (1e100, 10**100, 2**1100):
        with _raises(nv.ConfigError, "value", "float32"):
            nv.data.pad_sequences(floats, value=value)
    X, _ = nv.data.pad_sequences(floats, value=-np.inf)
    assert X.dtype == np.float32 and X[0, 1] == -np.inf
    with _raises(nv.ConfigError, "dtype"):
        nv.data.pad_sequences(ints, dtype="no such dtype")


def test_pad_sequences_takes_a_stacked_array():
    X, mask = nv.data.pad_sequences(np.arange(6).reshape(2, 3), length=4, value=9)
    np.testing.assert_array_equal(X, [[0, 1, 2, 9], [3, 4, 5, 9]])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 0], [1, 1, 1, 0]])
    with _raises(nv.ShapeError, "scalars"):
        nv.data.pad_sequences(np.arange(6))


# ---- images -----------------------------------------------------------------------


def test_pad_images_ragged_images_are_a_shape_error_naming_x():
    with _raises(nv.ShapeError, "X", "rectangular"):
        nv.data.pad_images(RAGGED, 1)


def test_pad_images_refuses_a_pad_past_the_budget():
    with _raises(nv.UnsupportedError, "padded images", "bytes", "memory budget"):
        nv.data.pad_images(np.zeros((2, 1, 4, 4)), 2**31)


def test_pad_images_refuses_a_view_standing_for_terabytes():
    with _raises(nv.UnsupportedError, "X", "bytes"):
        nv.data.pad_images(HUGE, 1)


@pytest.mark.parametrize("mode", [np.array([True, False]), None, 3, b"zeros"])
def test_pad_images_mode_must_be_a_string(mode):
    with _raises(nv.ConfigError, "mode"):
        nv.data.pad_images(np.zeros((2, 1, 4, 4)), 1, mode=mode)


def test_pad_images_refuses_non_numeric_images():
    with _raises(nv.DTypeError, "X"):
        nv.data.pad_images(np.array([["a", "b"], ["c", "d"]]), 1)


# ---- splits -----------------------------------------------------------------------


def test_split_ragged_x_and_y_are_shape_errors_naming_them():
    y = np.array([0, 1] * 10)
    with _raises(nv.ShapeError, "X"):
        nv.data.train_validation_test_split(RAGGED, y)
    with _raises(nv.ShapeError, "y"):
        nv.data.train_validation_test_split(np.zeros((20, 2)), RAGGED)
    with _raises(nv.ShapeError, "stratify"):
        nv.data.train_validation_test_split(np.zeros((20, 2)), y, stratify=RAGGED)


def test_split_refuses_a_view_standing_for_terabytes():
    with _raises(nv.UnsupportedError, "X", "bytes"):
        nv.data.train_validation_test_split(HUGE, np.broadcast_to(np.zeros(1), (2**40,)))


@pytest.mark.parametrize("y", [None, object(), "x", 3])
def test_split_indices_hostile_y(y):
    with pytest.raises(nv.NervenetError):
        nv.data.train_validation_test_indices(y)


def test_split_labels_that_do_not_compare_are_a_dtype_error():
    y = np.array([1, "a", {}, 2.0] * 5, dtype=object)
    with pytest.raises(nv.DTypeError):
        nv.data.train_validation_test_indices(y)


# ---- preprocessing -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["Standardize", "MinMaxScale", "MeanSubtraction", "PCA", "Whitening"])
def test_numeric_transforms_refuse_a_view_standing_for_terabytes(name):
    with _raises(nv.UnsupportedError, f"{name}.fit", "X", "bytes", "memory budget"):
        getattr(nv.data, name)().fit(HUGE)


def test_numeric_transform_refuses_a_huge_view_in_transform_too():
    scale = nv.data.Standardize().fit(np.arange(12.0).reshape(4, 3))
    with _raises(nv.UnsupportedError, "Standardize.transform", "bytes"):
        scale.transform(HUGE)


def test_integer_views_are_measured_as_the_float64_they_become():
    # 2**31 int8 elements: 2 GiB as they are, 16 GiB as float64
    view = np.broadcast_to(np.zeros(1, np.int8), (2**30, 2))
    old = nv.get_memory_budget()
    nv.set_memory_budget(8 << 30)
    try:
        with _raises(nv.UnsupportedError, "MinMaxScale.fit", str(2**31 * 8)):
            nv.data.MinMaxScale().fit(view)
    finally:
        nv.set_memory_budget(old)


@pytest.mark.parametrize("name", ["Standardize", "MinMaxScale", "PCA", "Whitening"])
def test_numeric_transforms_of_no_samples_are_empty(name):
    t = getattr(nv.data, name)().fit(np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32))
    assert t.transform(np.zeros((0, 3), np.float32)).shape == (0, 3)
    assert t.inverse_transform(np.zeros((0, 4, 3))).shape == (0, 4, 3)


def test_one_hot_encoder_refuses_a_view_standing_for_terabytes():
    with _raises(nv.UnsupportedError, "OneHotEncoder.fit", "bytes"):
        nv.data.OneHotEncoder().fit(HUGE)


def test_one_hot_encoder_handle_unknown_must_be_a_string():
    with _raises(nv.ConfigError, "handle_unknown"):
        nv.data.OneHotEncoder(handle_unknown=np.array([True, False])).fit(np.array([["a"], ["b"]]))
