"""MNIST loading: IDX and npz parsing, content (not container) verification, the Keras cache,
downloads from mirrors (local server), the offline message, and the synthetic stand-in."""

import gzip
import hashlib
import io

import numpy as np
import pytest

from tfcourse import CourseError, load_mnist, mnist, synthetic
from tfcourse.synthetic import synthetic_digits

N_TRAIN, N_TEST = 120, 40


def idx_bytes(array, magic):
    header = magic.to_bytes(4, "big") + len(array).to_bytes(4, "big")
    if magic == 2051:
        header += (28).to_bytes(4, "big") * 2
    return header + np.asarray(array, dtype=np.uint8).tobytes()


@pytest.fixture
def fake_mnist(monkeypatch):
    """Small MNIST-format data; the loader's table of expected MD5s and counts is pointed at it."""
    x_train, y_train = synthetic_digits(N_TRAIN, seed=1)
    x_test, y_test = synthetic_digits(N_TEST, seed=2)
    raw = {
        "train-images-idx3-ubyte": idx_bytes((x_train * 255).round(), 2051),
        "train-labels-idx1-ubyte": idx_bytes(y_train, 2049),
        "t10k-images-idx3-ubyte": idx_bytes((x_test * 255).round(), 2051),
        "t10k-labels-idx1-ubyte": idx_bytes(y_test, 2049),
    }
    table = {
        name: (int.from_bytes(data[4:8], "big"), hashlib.md5(data).hexdigest())
        for name, data in raw.items()
    }
    monkeypatch.setattr(mnist, "IDX_FILES", table)
    return raw  # pass validation_size=20 to load_mnist: its default (5000) is more than N_TRAIN


def write_idx_folder(folder, raw, compress=True, level=9):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in raw.items():
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=level, mtime=0))
        else:
            (folder / name).write_bytes(data)
    return folder


def idx_array(data):
    """The array inside `idx_bytes`'s output."""
    if data[3] == 3:  # images: 3 dimensions
        return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)


def npz_bytes(raw):
    buffer = io.BytesIO()
    arrays = {
        key: idx_array(raw[name])
        for key, name in [
            ("x_train", "train-images-idx3-ubyte"),
            ("y_train", "train-labels-idx1-ubyte"),
            ("x_test", "t10k-images-idx3-ubyte"),
            ("y_test", "t10k-labels-idx1-ubyte"),
        ]
    }
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_idx_folder_gz_and_plain_give_the_same_arrays(fake_mnist, tmp_path):
    gz = load_mnist(
        data_dir=write_idx_folder(tmp_path / "gz", fake_mnist), validation_size=20, verbose=False
    )
    plain = load_mnist(
        data_dir=write_idx_folder(tmp_path / "plain", fake_mnist, compress=False),
        validation_size=20,
        verbose=False,
    )
    assert gz.x_train.shape == (N_TRAIN - 20, 784) and gz.x_validation.shape == (20, 784)
    assert gz.x_test.dtype == np.float32 and 0.0 <= gz.x_test.min() and gz.x_test.max() <= 1.0
    np.testing.assert_array_equal(gz.x_train, plain.x_train)
    np.testing.assert_array_equal(gz.y_test, plain.y_test)


def test_recompressed_gz_is_accepted(fake_mnist, tmp_path):
    """Other gzip bytes, same content (like ../shared/data/mnist's re-compressed train images)."""
    a = write_idx_folder(tmp_path / "a", fake_mnist, level=9)
    b = write_idx_folder(tmp_path / "b", fake_mnist, level=1)
    name = "train-images-idx3-ubyte.gz"
    assert (a / name).read_bytes() != (b / name).read_bytes()
    from_a = load_mnist(data_dir=a, validation_size=20, verbose=False).x_train
    assert (
        from_a.shape == (N_TRAIN - 20, 784) and from_a.max() > 0
    )  # real pixels, not an empty split
    np.testing.assert_array_equal(
        from_a, load_mnist(data_dir=b, validation_size=20, verbose=False).x_train
    )


def test_one_hot_and_image_shapes(fake_mnist, tmp_path):
    data = load_mnist(
        data_dir=write_idx_folder(tmp_path / "d", fake_mnist),
        one_hot=True,
        flatten=False,
        validation_size=20,
        verbose=False,
    )
    assert data.x_train.shape == (N_TRAIN - 20, 28, 28, 1)
    assert data.y_train.shape[1] == 10 and np.all(data.y_train.sum(axis=1) == 1)


def test_changed_content_is_rejected_with_the_file_named(fake_mnist, tmp_path):
    folder = write_idx_folder(tmp_path / "d", fake_mnist)
    damaged = bytearray(fake_mnist["t10k-images-idx3-ubyte"])
    damaged[500] ^= 0xFF
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(damaged)))
    with pytest.raises(CourseError, match="t10k-images-idx3-ubyte.gz.*MD5"):
        load_mnist(data_dir=folder, verbose=False)


def test_truncated_files_are_rejected(fake_mnist, tmp_path):
    folder = write_idx_folder(tmp_path / "d", fake_mnist)
    good = (folder / "train-labels-idx1-ubyte.gz").read_bytes()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(good[: len(good) // 2])  # cut gzip stream
    with pytest.raises(CourseError, match="damaged"):
        load_mnist(data_dir=folder, verbose=False)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(fake_mnist["train-labels-idx1-ubyte"][:-10])
    )
    with pytest.raises(CourseError, match="truncated"):
        load_mnist(data_dir=folder, verbose=False)


def test_another_file_under_an_mnist_name_is_rejected(fake_mnist, tmp_path):
    folder = write_idx_folder(tmp_path / "d", fake_mnist)
    test_labels = gzip.compress(fake_mnist["t10k-labels-idx1-ubyte"])
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(test_labels)  # the test set's labels
    with pytest.raises(CourseError, match=r"train-labels-idx1-ubyte.gz has \d+ bytes.*truncated"):
        load_mnist(data_dir=folder, verbose=False)


def test_npz_in_data_dir_is_checksummed_and_pickles_refused(fake_mnist, tmp_path, monkeypatch):
    folder = tmp_path / "npz"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(npz_bytes(fake_mnist))
    refused = r"(?s)mnist.npz: sha256 [0-9a-f]{64}, not Keras's.*Remedy"
    with pytest.raises(CourseError, match=refused):
        load_mnist(data_dir=folder, verbose=False)  # a re-saved copy is not Keras's file
    monkeypatch.setattr(mnist, "NPZ_SHA256", hashlib.sha256(npz_bytes(fake_mnist)).hexdigest())
    data = load_mnist(data_dir=folder, verbose=False)
    assert len(data.x_test) == N_TEST
    np.savez(
        folder / "mnist.npz",
        x_train=np.array([object()]),
        y_train=np.zeros(1),
        x_test=np.zeros(1),
        y_test=np.zeros(1),
    )
    with pytest.raises(CourseError, match="mnist.npz"):
        load_mnist(data_dir=folder, verbose=False)


def test_wrong_data_dir_messages(tmp_path):
    with pytest.raises(CourseError, match="no such folder"):
        load_mnist(data_dir=tmp_path / "nowhere", verbose=False)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(CourseError, match="(?s)holds no MNIST.*notes.txt"):
        load_mnist(data_dir=tmp_path / "empty", verbose=False)


def test_download_falls_back_to_idx_mirror_then_uses_the_cache(
    fake_mnist, file_server, dead_url, monkeypatch, tmp_path
):
    monkeypatch.setattr(mnist, "NPZ_URLS", [dead_url])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [file_server.url("/idx/")])
    for name, data in fake_mnist.items():
        file_server.files[f"/idx/{name}.gz"] = gzip.compress(data)
    monkeypatch.setattr(mnist, "DOWNLOAD_BACKOFF", 0)
    first = load_mnist(verbose=False)
    assert len(first.x_test) == N_TEST
    assert (mnist.keras_cache_dir() / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    served = len(file_server.requests)
    second = load_mnist(verbose=False)
    assert len(file_server.requests) == served  # the cache answered
    np.testing.assert_array_equal(first.x_train, second.x_train)


def test_user_mirror_is_tried_first_and_npz_checksum_checked(fake_mnist, file_server, monkeypatch):
    npz = npz_bytes(fake_mnist)
    monkeypatch.setattr(mnist, "NPZ_SHA256", hashlib.sha256(npz).hexdigest())
    monkeypatch.setattr(mnist, "NPZ_URLS", [file_server.url("/google/mnist.npz")])
    file_server.files["/mine/mnist.npz"] = npz
    monkeypatch.setenv("TFCOURSE_MIRROR", file_server.url("/mine"))
    data = load_mnist(verbose=False)
    assert len(data.x_test) == N_TEST
    assert file_server.requests[0][0] == "/mine/mnist.npz"


def test_offline_message_lists_urls_and_remedies(fake_mnist, dead_url, monkeypatch):
    monkeypatch.setattr(mnist, "NPZ_URLS", [dead_url])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [dead_url.rsplit("/", 1)[0] + "/idx/"])
    monkeypatch.setattr(mnist, "DOWNLOAD_BACKOFF", 0)
    with pytest.raises(CourseError) as failure:
        load_mnist(verbose=False)
    message = str(failure.value)
    assert dead_url in message and "/idx/train-images-idx3-ubyte.gz" in message
    assert str(mnist.keras_cache_dir()) in message
    assert "--data-dir" in message and "--mirror" in message and "--data synthetic" in message
    assert not (mnist.keras_cache_dir() / "mnist.npz").exists()


def test_synthetic_is_deterministic_labelled_and_learnable(capsys):
    a = load_mnist(
        data="synthetic", quick=True, seed=0
    )  # seed 0: shared with the lesson tests' cache
    assert "SYNTHETIC" in capsys.readouterr().out
    b = load_mnist(data="synthetic", quick=True, seed=0, verbose=False)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(synthetic_digits(50, seed=3)[0], synthetic_digits(50, seed=4)[0])
    fresh, _ = synthetic._drawn.__wrapped__(50, 3)  # drawn again, not the cached set
    np.testing.assert_array_equal(fresh, synthetic_digits(50, seed=3)[0])
    assert a.synthetic and set(np.unique(a.y_train)) == set(range(10))
    # a nearest-class-mean classifier must do far better than chance (0.1) but not be perfect
    centroids = np.stack([a.x_train[a.y_train == digit].mean(axis=0) for digit in range(10)])
    distances = ((a.x_test[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    accuracy = np.mean(np.argmin(distances, axis=1) == a.y_test)
    assert 0.6 < accuracy < 0.995
