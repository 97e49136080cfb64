"""MNIST for every lesson, as float32 in [0, 1]: from --data-dir (the course's MNIST_data/ or
mnist.npz), else Keras's cache, else a download (--mirror, Keras's mnist.npz, then a public
mirror's IDX files). Every source is checked by its checksums. `--data synthetic`: drawn digits."""
import gzip
import hashlib
import os
import types
import zlib
from pathlib import Path

import numpy as np

from tfcourse.download import DownloadError, download, file_digest, keras_dir
from tfcourse.errors import CourseError

NPZ_NAME = "mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_URLS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
IDX_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
# name -> (count, MD5 of the decompressed bytes): a re-compressed copy is just as good
IDX_FILES = {
    "train-images-idx3-ubyte": (60000, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (60000, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (10000, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (10000, "27ae3e4e09519cfbb04c329615203637"),
}
DOWNLOAD_BACKOFF = 1.0  # seconds before a retry (times the attempt number)


class MNIST(types.SimpleNamespace):
    """x_train, y_train, x_validation, y_validation, x_test, y_test, source, synthetic."""

    def describe(self):
        return (f"{self.source}: {len(self.x_train)} train, {len(self.x_validation)} validation, "
                f"{len(self.x_test)} test images")

    __repr__ = describe  # a notebook shows this, not six arrays


def keras_cache_dir():
    return keras_dir("datasets")


def idx_stem(name):
    """MNIST's name for a copy's file: t10k-labels.idx1-ubyte(.gz) is t10k-labels-idx1-ubyte."""
    return Path(name).name.removesuffix(".gz").replace(".idx", "-idx")


def _idx_files(folder):
    """MNIST's name -> the file in `folder` that holds it, under any name copies use."""
    return {idx_stem(p.name): p for p in sorted(Path(folder).glob("*ubyte*"), reverse=True)
            if idx_stem(p.name) in IDX_FILES}


def read_idx(path, name=None):
    """One of MNIST's IDX files, checked by its MD5 -> uint8 array (or ValueError)."""
    name, raw = name or Path(path).name, Path(path).read_bytes()
    try:
        raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as error:  # cut short, or damaged inside
        raise ValueError(f"{name} is damaged ({error})") from None
    stem = idx_stem(name)
    count, md5 = IDX_FILES[stem]
    shape = (count, 28, 28) if "images" in stem else (count,)
    size = int(np.prod(shape))
    expected = 4 + 4 * len(shape) + size  # the magic number, 4 bytes for each dimension, pixels
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "extra bytes"
        raise ValueError(f"{name} has {len(raw)} bytes, not {expected} ({what})")
    if (actual := hashlib.md5(raw).hexdigest()) != md5:
        raise ValueError(f"{name}: MD5 of its content is {actual}, expected {md5}")
    return np.frombuffer(raw, dtype=np.uint8, offset=expected - size).reshape(shape)


def read_npz(path):
    """The four arrays of Keras's mnist.npz, checked by its SHA-256, never unpickling anything."""
    if (actual := file_digest(path, "sha256")) != NPZ_SHA256:
        raise ValueError(f"{Path(path).name}: sha256 {actual}, not Keras's {NPZ_SHA256}")
    with np.load(path, allow_pickle=False) as npz:
        return tuple(npz[key] for key in ("x_train", "y_train", "x_test", "y_test"))


def read_folder(folder):
    """(arrays, source) from --data-dir's IDX files or mnist.npz, or a CourseError with a remedy."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "a file, not a folder" if folder.exists() else "no such folder"
        raise CourseError(f"--data-dir {folder}: {what}.\n"
                          "Remedy: name the folder that holds the MNIST IDX files or mnist.npz.")
    found = _idx_files(folder)
    try:
        if len(found) == len(IDX_FILES):
            return [read_idx(found[stem]) for stem in IDX_FILES], f"MNIST (IDX files in {folder})"
        if (folder / NPZ_NAME).is_file():
            return read_npz(folder / NPZ_NAME), f"MNIST ({folder / NPZ_NAME})"
    except (ValueError, OSError) as error:
        raise CourseError(f"MNIST in {folder} is damaged: {error}.\nRemedy: replace that file "
                          "with a good copy, or leave out --data-dir to download MNIST.") from None
    missing = ", ".join(stem + ".gz" for stem in IDX_FILES if stem not in found)
    present = ", ".join(sorted(p.name for p in folder.iterdir())[:10]) or "nothing"
    raise CourseError(f"--data-dir {folder} holds no MNIST: missing {missing} (or without .gz), "
                      f"and no {NPZ_NAME}. Found: {present}.\nRemedy: put the missing files "
                      "there, or leave out --data-dir to download them.")


def _idx_into(folder, urls):
    """The four IDX files in `folder`, each downloaded from `urls` when missing or damaged."""
    arrays, found = [], _idx_files(folder)  # each file's content check reads it: keep what it read
    for stem in IDX_FILES:
        name = stem + ".gz"
        download([url + name for url in urls], found.get(stem, folder / name),
                 verify=lambda path, name=name: arrays.append(read_idx(path, name)),
                 what=f"MNIST ({name})", retries=2, backoff=DOWNLOAD_BACKOFF)
    return arrays


def _from_cache_or_mirrors(mirror):
    """(arrays, source): what the cache holds, else from each mirror in turn, into the cache."""
    cache = keras_cache_dir()
    steps = [("npz", []), ("idx", [])]  # no URL: only what is in the cache already
    if mirror:
        mine = mirror.rstrip("/") + "/"
        steps += [("npz", [mine + NPZ_NAME]), ("idx", [mine])]
    steps += [("npz", NPZ_URLS), ("idx", IDX_MIRRORS)]
    failures = []
    for kind, urls in steps:
        try:
            if kind == "idx":
                return _idx_into(cache / "mnist", urls), f"MNIST (IDX files in {cache / 'mnist'})"
            read = []  # the check reads the arrays, as it does the IDX files'
            path = download(urls, cache / NPZ_NAME, verify=lambda p, read=read: read.append(
                read_npz(p)), what="MNIST (mnist.npz)", retries=2, backoff=DOWNLOAD_BACKOFF)
            return read[-1], f"MNIST ({path})"
        except DownloadError as error:
            if urls:
                failures.append(str(error).split("\nRemedy:")[0])
        except ValueError as error:
            failures.append(f"{(urls or [cache])[0]}: {error}")
    raise DownloadError(
        "MNIST could not be downloaded from any mirror.\n" + "\n".join(failures) + "\n"
        f"Remedy, any one of:\n  - put mnist.npz into {cache}/, or the four IDX files "
        f"({', '.join(stem + '.gz' for stem in IDX_FILES)}) into {cache / 'mnist'}/\n"
        "  - pass --data-dir FOLDER, a folder that holds them (the course's MNIST_data/)\n"
        "  - name a mirror you can reach: --mirror URL or TFCOURSE_MIRROR=URL\n"
        "  - or try the lesson with no data at all: --data synthetic (drawn stand-in digits)")


def load_mnist(args=None, *, data="mnist", data_dir=None, seed=0, quick=False, one_hot=False,
               flatten=True, validation_size=5000, verbose=True):
    """MNIST, or drawn digits for data="synthetic"; `args` (a lesson's flags) gives data, data_dir,
    mirror, seed, quick and batch_size. As in the course, the first `validation_size` training
    images are for validation. Images are 784-vectors, or 28x28x1 with flatten=False."""
    if args is not None:
        data, data_dir, seed, quick = args.data, args.data_dir, args.seed, args.quick
    # the --quick sizes of train, validation and test; [:None] keeps all
    n_train, n_validation, n_test = (5000, 500, 1000) if quick else (None, None, None)
    if data == "synthetic":
        from tfcourse.synthetic import synthetic_digits
        validation_size = n_validation or validation_size  # drawn at the --quick sizes, no more
        n = validation_size + (n_train or 55000)
        x, y = synthetic_digits(n + (n_test or 10000), seed)
        x, y, x_test, y_test = x[:n], y[:n], x[n:], y[n:]
        source = "SYNTHETIC stand-in digits (not MNIST)"
    elif data_dir is not None:
        (x, y, x_test, y_test), source = read_folder(data_dir)
    else:
        mirror = getattr(args, "mirror", None) or os.environ.get("TFCOURSE_MIRROR")
        (x, y, x_test, y_test), source = _from_cache_or_mirrors(mirror)
    x_train, y_train = x[validation_size:][:n_train], y[validation_size:][:n_train]
    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and batch_size > len(x_train):
        raise CourseError(f"--batch-size {batch_size} is larger than the {len(x_train)} training "
                          f"images{' of --quick' if quick else ''}.\nRemedy: --batch-size "
                          f"{len(x_train)} or less.")

    def images(x):  # -> float32 in [0, 1] in one pass; the drawn digits are in [0, 1] already
        x = x if data == "synthetic" else np.divide(x, np.float32(255), dtype=np.float32)
        return x.reshape((-1, 784) if flatten else (-1, 28, 28, 1))

    def labels(y):
        return np.eye(10, dtype=np.float32)[y] if one_hot else np.asarray(y, dtype=np.int64)

    result = MNIST(x_train=images(x_train), y_train=labels(y_train),
                   x_validation=images(x[:validation_size][:n_validation]),
                   y_validation=labels(y[:validation_size][:n_validation]),
                   x_test=images(x_test[:n_test]), y_test=labels(y_test[:n_test]),
                   source=source + (" [quick subset]" if quick else ""),
                   synthetic=data == "synthetic")
    if verbose:
        print(f"数据 Data{' (合成/SYNTHETIC)' if result.synthetic else ''}: {result.describe()}")
    return result
