"""MNIST for every lesson (`tfcourse.load_mnist`): real data by default, as float32 in [0, 1].

Where it comes from, in order: `--data-dir DIR` (the four IDX files, gzipped or not, as in the
course's MNIST_data/, or mnist.npz); the cache shared with Keras ($KERAS_HOME/datasets, else
~/.keras/datasets), so an earlier download (ours or Keras's) is reused; a download from the
mirror you name (--mirror or TFCOURSE_MIRROR), then Keras's mnist.npz, then the IDX files from a
public mirror.
Every source gets the same content checks (`check_arrays`); the IDX files also their magic
numbers, counts and MD5 of the decompressed bytes under any name, mnist.npz its sha256 when
downloaded. `--data synthetic` gives drawn stand-in digits instead, and says so; never a fallback.
"""
import dataclasses
import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from tfcourse.download import DownloadError, download, keras_dir
from tfcourse.errors import CourseError

NPZ_NAME = "mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_URLS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
IDX_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
# name -> (magic, count, MD5 of the decompressed bytes): a re-compressed copy is just as good
IDX_FILES = {
    "train-images-idx3-ubyte": (2051, 60000, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (2049, 60000, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (2051, 10000, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (2049, 10000, "27ae3e4e09519cfbb04c329615203637"),
}
DOWNLOAD_BACKOFF = 1.0  # seconds before a retry (times the attempt number)


@dataclasses.dataclass
class MNIST:
    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    synthetic: bool = False

    def describe(self):
        return (f"{self.source}: {len(self.x_train)} train, {len(self.x_validation)} validation, "
                f"{len(self.x_test)} test images")


def keras_cache_dir():
    return keras_dir("datasets")


def idx_stem(name):
    """MNIST's name for a file under any name copies use: t10k-labels.idx1-ubyte(.gz) and
    t10k-labels-idx1-ubyte(.gz) are both t10k-labels-idx1-ubyte."""
    return Path(name).name.removesuffix(".gz").replace(".idx", "-idx")


def parse_idx(raw, name="IDX file"):
    """IDX bytes -> uint8 array, or a ValueError naming the file; MNIST's four files, under any
    name copies use, must also have their magic number, count and content (MD5)."""
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (2049, 2051):  # uint8 labels (1 dimension) or images (3)
        raise ValueError(f"{name} is not an MNIST IDX file (magic number {magic}, "
                         "expected 2051 or 2049)")
    offset = 4 + 4 * raw[3]  # then 4 bytes per dimension
    if len(raw) < offset:
        raise ValueError(f"{name} is truncated (its header is cut short)")
    shape = [int.from_bytes(raw[i:i + 4], "big") for i in range(4, offset, 4)]
    expected = offset + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"{name} has {len(raw)} bytes but its header promises {expected} "
                         f"({'truncated' if len(raw) < expected else 'extra bytes'})")
    known = IDX_FILES.get(idx_stem(name))
    if known and (magic, shape[0]) != known[:2]:
        raise ValueError(f"{name}: magic {magic} and count {shape[0]}, "
                         f"expected {known[0]} and {known[1]}")
    if known and (md5 := hashlib.md5(raw).hexdigest()) != known[2]:
        raise ValueError(f"{name}: MD5 of its content is {md5}, expected {known[2]}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def check_arrays(x_train, y_train, x_test, y_test):
    """The same content checks for every source (IDX under any name, npz, cache, download):
    28x28 images, as many labels as images, labels 0-9, more training than test images.
    Returns the four arrays, or raises ValueError saying what is wrong."""
    for split, x, y in (("training", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"the {split} images are {x.shape[1:]}, not 28x28")
        if y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{len(x)} {split} images but labels of shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer) or y.size and not 0 <= y.min() <= y.max() <= 9:
            raise ValueError(f"the {split} labels hold values outside 0-9 "
                             f"(from {y.min()} to {y.max()})")
    if len(x_train) <= len(x_test):
        raise ValueError(f"{len(x_train)} training images but {len(x_test)} test images: "
                         "train and test look swapped")
    return x_train, y_train, x_test, y_test


def read_idx(path, name=None):
    """One IDX file, gzipped or not, checked by `parse_idx`."""
    path = Path(path)
    name, raw = name or path.name, path.read_bytes()
    try:
        raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as error:  # cut short, or damaged inside
        raise ValueError(f"{name} is damaged ({error})") from None
    return parse_idx(raw, name)


def _find_idx(folder, stem):
    dotted = stem.replace("-idx", ".idx")
    candidates = (folder / (stem + ".gz"), folder / stem, folder / dotted, folder / f"{dotted}.gz")
    return next((path for path in candidates if path.is_file()), None)


def read_idx_folder(folder):
    """The four arrays from the IDX files; FileNotFoundError naming those missing."""
    paths = {stem: _find_idx(Path(folder), stem) for stem in IDX_FILES}
    if None in paths.values():
        raise FileNotFoundError(", ".join(stem for stem, path in paths.items() if path is None))
    return check_arrays(*(read_idx(path) for path in paths.values()))


def read_npz(path):
    """The four arrays from Keras's mnist.npz, checked, never unpickling anything."""
    name = Path(path).name
    try:
        with np.load(path, allow_pickle=False) as npz:  # a pickle inside is refused
            arrays = [npz[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    except Exception as error:  # BadZipFile, OSError, KeyError (an array missing), ValueError
        raise ValueError(f"{name} is not a readable mnist.npz ({error})") from None
    try:
        return check_arrays(*arrays)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def read_folder(folder):
    """(arrays, source) from a folder of IDX files or mnist.npz (--data-dir, and `doctor`), or
    a CourseError that says whether MNIST is missing or damaged, with the remedy."""
    folder = Path(folder)
    npz = folder if folder.suffix == ".npz" and folder.is_file() else folder / NPZ_NAME
    folder = npz.parent
    if not folder.is_dir():
        raise CourseError(f"--data-dir {folder}: no such folder.\n"
                          f"Remedy: name the folder that holds the four MNIST files "
                          f"({', '.join(s + '.gz' for s in IDX_FILES)}) or mnist.npz.")
    missing = [stem + ".gz" for stem in IDX_FILES if not _find_idx(folder, stem)]
    try:
        if not missing:
            return read_idx_folder(folder), f"MNIST (IDX files in {folder})"
        if npz.is_file():
            return read_npz(npz), f"MNIST ({npz})"
    except (ValueError, OSError) as error:
        raise CourseError(f"MNIST in {folder} is damaged: {error}.\n"
                          "Remedy: delete that file and download it again (or run without "
                          f"--data-dir to download into {keras_cache_dir()}).") from None
    present = sorted(p.name for p in folder.iterdir())[:10]
    raise CourseError(f"--data-dir {folder} holds no MNIST: missing {', '.join(missing)} "
                      f"(the four IDX files, .gz or not), and no {NPZ_NAME} either.\n"
                      f"Found: {', '.join(present) or 'nothing'}.\n"
                      "Remedy: put the missing files there, or run without --data-dir "
                      "to download them.")


def _from_cache_or_mirrors(cache, mirror):
    """mnist.npz or the IDX files: in the cache, else from each mirror in turn, into the cache."""
    def npz(urls):
        path = download(urls, cache / NPZ_NAME, sha256=NPZ_SHA256, what="MNIST (mnist.npz)",
                        retries=2, backoff=DOWNLOAD_BACKOFF)
        return read_npz(path), f"MNIST ({path})"

    def idx(bases):
        arrays = []  # filled by the content check, which reads each file anyway
        for stem in IDX_FILES:
            dest = _find_idx(folder, stem) or folder / (stem + ".gz")
            download([base + stem + ".gz" for base in bases], dest,
                     verify=lambda path, name=stem + ".gz": arrays.append(read_idx(path, name)),
                     what=f"MNIST ({stem}.gz)", retries=2, backoff=DOWNLOAD_BACKOFF)
        return check_arrays(*arrays), f"MNIST (IDX files in {folder})"

    folder, base, failures = cache / "mnist", [mirror.rstrip("/") + "/"] if mirror else [], []
    for fetch, urls in [(npz, []), (idx, []),  # no URL: only what is in the cache already
                        (npz, [u + NPZ_NAME for u in base]), (idx, base),
                        (npz, NPZ_URLS), (idx, IDX_MIRRORS)]:
        try:
            return fetch(urls)
        except DownloadError as error:
            failures += [str(error).split("\nRemedy:")[0]] if urls else []
        except ValueError as error:
            failures.append(f"{(urls or [cache])[0]}: {error}")
    raise DownloadError(
        "MNIST could not be downloaded from any mirror.\n" + "\n".join(failures) + "\n"
        "Remedy, any one of:\n"
        f"  - put mnist.npz (Keras's file) into {cache}/\n"
        f"  - put the four IDX files ({', '.join(s + '.gz' for s in IDX_FILES)}) into a folder "
        f"and pass --data-dir FOLDER (or into {folder}/)\n"
        "  - name a mirror you can reach: --mirror URL or TFCOURSE_MIRROR=URL\n"
        "  - or, to try the lesson with no data at all: --data synthetic (drawn stand-in digits)")


def load_mnist(args=None, *, data=None, data_dir=None, mirror=None, seed=None, quick=None,
               one_hot=False, flatten=True, validation_size=5000, verbose=True):
    """MNIST, or synthetic digits when asked for by name. `args` gives --data, --data-dir,
    --mirror, --seed, --quick and --batch-size; keywords override them. Labels are integers, or
    one-hot float32 rows with `one_hot=True`; images 784-vectors, or 28x28x1 with
    `flatten=False`. As in the course, the first `validation_size` training images are
    validation, the rest (55000) train."""
    def pick(value, name, default=None):
        return value if value is not None else getattr(args, name, default)
    data, quick = pick(data, "data", "mnist"), pick(quick, "quick", False)
    # the --quick sizes of train, validation and test; [:None] keeps all
    n_train, n_validation, n_test = (5000, 500, 1000) if quick else (None, None, None)
    if data == "synthetic":
        from tfcourse.synthetic import synthetic_digits
        validation_size = n_validation or validation_size  # drawn at the --quick sizes, no more
        n = validation_size + (n_train or 55000)
        x, y = synthetic_digits(n + (n_test or 10000), seed=pick(seed, "seed", 0))
        x_train, y_train, x_test, y_test = x[:n], y[:n], x[n:], y[n:]
        source = "SYNTHETIC stand-in digits (not MNIST)"
    elif data == "mnist":
        data_dir = pick(data_dir, "data_dir")
        mirror = pick(mirror, "mirror") or os.environ.get("TFCOURSE_MIRROR")
        if data_dir is not None:
            (x_train, y_train, x_test, y_test), source = read_folder(data_dir)
        else:
            (x_train, y_train, x_test, y_test), source = \
                _from_cache_or_mirrors(keras_cache_dir(), mirror)
    else:
        raise CourseError(f"--data must be 'mnist' or 'synthetic', not {data!r}.")
    x_validation = x_train[:validation_size][:n_validation]
    y_validation = y_train[:validation_size][:n_validation]
    x_train, y_train = x_train[validation_size:][:n_train], y_train[validation_size:][:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and batch_size > len(x_train):
        raise CourseError(f"--batch-size {batch_size} is larger than the {len(x_train)} training "
                          f"images{' of --quick' if quick else ''}: not one batch could be made.\n"
                          f"Remedy: a batch size of at most {len(x_train)} "
                          "(the lesson's default is right).")

    def images(x):  # uint8 (MNIST) or float32 in [0, 1] (synthetic) -> float32 in [0, 1]
        x = np.asarray(x, dtype=np.float32).reshape((-1, 784) if flatten else (-1, 28, 28, 1))
        return x / np.float32(255.0) if x.max(initial=0) > 1.0 else x

    def labels(y):
        y = np.asarray(y, dtype=np.int64)
        return np.eye(10, dtype=np.float32)[y] if one_hot else y

    synthetic = data == "synthetic"
    result = MNIST(images(x_train), labels(y_train), images(x_validation), labels(y_validation),
                   images(x_test), labels(y_test), source + (" [quick subset]" if quick else ""),
                   synthetic)
    if verbose:
        print(("数据 Data (合成/SYNTHETIC): " if synthetic else "数据 Data: ") + result.describe())
    return result
