"""MNIST for every lesson: one call, real data by default, from a folder, the cache or a mirror.

    data = tfcourse.load_mnist(args, one_hot=True)
    data.x_train  # (55000, 784) float32 in [0, 1]  -- the course's mnist.train
    data.x_validation, data.x_test

Where the data comes from, in order:
1. `--data-dir DIR`: the four IDX files (gzipped or not; the course's MNIST_data/) or mnist.npz;
2. the cache shared with Keras ($KERAS_HOME/datasets, else ~/.keras/datasets): mnist.npz or
   the IDX files, so an earlier download (ours or Keras's) is reused;
3. a download: the mirror you name (--mirror or TFCOURSE_MIRROR) first, then Keras's mnist.npz,
   then the IDX files from a second public mirror. Content is verified (IDX magic numbers,
   counts, the MD5 of the decompressed bytes; the sha256 of mnist.npz), not just the container.
`--data synthetic` gives drawn stand-in digits instead, and says so; it is never a fallback.
"""
import dataclasses
import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from tfcourse.download import DownloadError, download
from tfcourse.errors import CourseError

NPZ_NAME = "mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_URLS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
IDX_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]

# name -> (magic, count, MD5 of the decompressed IDX bytes). The content is checked, not the .gz:
# a re-compressed copy of the same data is just as good.
IDX_FILES = {
    "train-images-idx3-ubyte": (2051, 60000, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (2049, 60000, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (2051, 10000, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (2049, 10000, "27ae3e4e09519cfbb04c329615203637"),
}
VALIDATION_SIZE = 5000  # the course's input_data: the first 5000 training images are validation
QUICK_SIZES = (5000, 500, 1000)  # train, validation, test in --quick mode
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
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


# ---------------------------------------------------------------- parsing and checking

def _read_maybe_gzip(path):
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:  # truncated gzip, or damaged inside its deflate stream
        raise ValueError(f"{path.name} is damaged ({error})") from None


def parse_idx(raw, name="IDX file", check_md5=True):
    """Parse IDX bytes to a uint8 array, checking magic number, counts and (for the known files) MD5."""
    if len(raw) < 8:
        raise ValueError(f"{name} is too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[0:4], "big")
    count = int.from_bytes(raw[4:8], "big")
    if magic == 2051:
        if len(raw) < 16:
            raise ValueError(f"{name} is truncated (no image size in its header)")
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        shape, offset = (count, rows, cols), 16
    elif magic == 2049:
        shape, offset = (count,), 8
    else:
        raise ValueError(f"{name} is not an MNIST IDX file (magic number {magic}, expected 2051 or 2049)")
    expected = offset + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"{name} has {len(raw)} bytes but its header promises {expected} "
                         f"({'truncated' if len(raw) < expected else 'extra bytes'})")
    stem = name.replace(".gz", "")
    if check_md5 and stem in IDX_FILES:
        want_magic, want_count, want_md5 = IDX_FILES[stem]
        if magic != want_magic or count != want_count:
            raise ValueError(f"{name}: magic {magic} and count {count}, expected {want_magic} and {want_count}")
        actual = hashlib.md5(raw).hexdigest()
        if actual != want_md5:
            raise ValueError(f"{name}: MD5 of its content is {actual}, expected {want_md5}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _find_idx(folder, stem):
    for candidate in (folder / (stem + ".gz"), folder / stem, folder / stem.replace("-idx", ".idx")):
        if candidate.exists():
            return candidate
    return None


def read_idx_folder(folder, check_md5=True):
    folder = Path(folder)
    arrays = {}
    for stem in IDX_FILES:
        path = _find_idx(folder, stem)
        if path is None:
            raise FileNotFoundError(stem)
        arrays[stem] = parse_idx(_read_maybe_gzip(path), path.name, check_md5)
    return (arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"],
            arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"])


def read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as npz:  # never unpickle what came from the network
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(npz.files)
            arrays = None if missing else (npz["x_train"], npz["y_train"], npz["x_test"], npz["y_test"])
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError, ValueError (pickled objects)
        raise ValueError(f"{Path(path).name} is not a readable mnist.npz ({error})") from None
    if missing:
        raise ValueError(f"{Path(path).name} lacks {', '.join(sorted(missing))}")
    x_train, y_train, x_test, y_test = arrays
    if x_train.shape[1:] != (28, 28) or x_test.shape[1:] != (28, 28) or \
            len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(f"{Path(path).name} does not hold 28x28 MNIST images with matching labels")
    return arrays


def _verify_idx_gz(path):
    stem = Path(path).name.replace(".part", "").replace(".gz", "")
    parse_idx(_read_maybe_gzip(path), stem)


# ---------------------------------------------------------------- sources

def _from_folder(folder):
    """Arrays from a user-named folder: IDX files or mnist.npz. Clear errors for anything else."""
    folder = Path(folder)
    if folder.is_file() and folder.suffix == ".npz":
        folder, npz = folder.parent, folder
    else:
        npz = folder / NPZ_NAME
    if not folder.is_dir():
        raise CourseError(f"--data-dir {folder}: no such folder.\n"
                          f"Remedy: name the folder that holds the four MNIST files "
                          f"({', '.join(s + '.gz' for s in IDX_FILES)}) or mnist.npz.")
    try:
        if all(_find_idx(folder, stem) for stem in IDX_FILES):
            return read_idx_folder(folder), f"MNIST (IDX files in {folder})"
        if npz.exists():
            return read_npz(npz), f"MNIST ({npz})"
    except ValueError as error:
        raise CourseError(f"MNIST in {folder} is damaged: {error}.\n"
                          f"Remedy: delete that file and download it again (or run without --data-dir "
                          f"to download into {keras_cache_dir()}).") from None
    present = sorted(p.name for p in folder.iterdir())[:10]
    missing = [stem + ".gz" for stem in IDX_FILES if not _find_idx(folder, stem)]
    raise CourseError(f"--data-dir {folder} holds no MNIST: missing {', '.join(missing)} "
                      f"(the four IDX files, .gz or not), and no {NPZ_NAME} either.\n"
                      f"Found: {', '.join(present) or 'nothing'}.\n"
                      f"Remedy: put the missing files there, or run without --data-dir to download them.")


def _from_cache(cache):
    """Arrays from the Keras cache, or None when it holds nothing usable.

    A damaged file there is deleted (and said so), so that the download replaces it instead of
    the same bad file failing every run.
    """
    npz = cache / NPZ_NAME
    if npz.exists():
        if _sha256(npz) == NPZ_SHA256:
            try:
                return read_npz(npz), f"MNIST ({npz})"
            except ValueError as error:
                _discard(npz, error)
        else:
            _discard(npz, f"{NPZ_NAME}: its sha256 is not the published one")
    idx_folder = cache / "mnist"
    if idx_folder.is_dir() and all(_find_idx(idx_folder, stem) for stem in IDX_FILES):
        for stem in IDX_FILES:
            path = _find_idx(idx_folder, stem)
            try:
                parse_idx(_read_maybe_gzip(path), path.name)
            except ValueError as error:
                _discard(path, error)
                return None
        return read_idx_folder(idx_folder), f"MNIST (IDX files in {idx_folder})"
    return None


def _discard(path, reason):
    print(f"注意 Note: {reason}. Deleted {path}; downloading it again.")
    Path(path).unlink(missing_ok=True)


def _sha256(path):
    from tfcourse.download import file_digest
    return file_digest(path, "sha256")


def _download(cache, mirror, quiet=False):
    """Try the mirrors in turn; return arrays and a description, or raise one DownloadError."""
    failures = []
    attempts = []
    if mirror:
        base = mirror.rstrip("/") + "/"
        attempts += [("npz", [base + NPZ_NAME]), ("idx", [base])]
    attempts += [("npz", NPZ_URLS), ("idx", IDX_MIRRORS)]
    for kind, urls in attempts:
        try:
            if kind == "npz":
                path = download(urls, cache / NPZ_NAME, sha256=NPZ_SHA256, what="MNIST (mnist.npz)",
                                retries=2, backoff=DOWNLOAD_BACKOFF, quiet=quiet)
                return read_npz(path), f"MNIST ({path})"
            for stem in IDX_FILES:
                download([u + stem + ".gz" for u in urls], cache / "mnist" / (stem + ".gz"),
                         verify=_verify_idx_gz, what=f"MNIST ({stem}.gz)", retries=2,
                         backoff=DOWNLOAD_BACKOFF, quiet=quiet)
            return read_idx_folder(cache / "mnist"), f"MNIST (IDX files in {cache / 'mnist'})"
        except DownloadError as error:
            failures.append(str(error).split("\nRemedy:")[0])
        except ValueError as error:
            failures.append(f"{urls[0]}: {error}")
    raise DownloadError(
        "MNIST could not be downloaded from any mirror.\n" + "\n".join(failures) + "\n"
        "Remedy, any one of:\n"
        f"  - put mnist.npz (Keras's file) into {cache}/\n"
        f"  - put the four IDX files ({', '.join(s + '.gz' for s in IDX_FILES)}) into a folder "
        f"and pass --data-dir FOLDER (or into {cache / 'mnist'}/)\n"
        "  - name a mirror you can reach: --mirror URL or TFCOURSE_MIRROR=URL\n"
        "  - or, to try the lesson with no data at all: --data synthetic (drawn stand-in digits)")


def _raw_arrays(data_dir=None, mirror=None):
    if data_dir is not None:
        return _from_folder(data_dir)
    cache = keras_cache_dir()
    found = _from_cache(cache)
    if found is not None:
        return found
    return _download(cache, mirror or os.environ.get("TFCOURSE_MIRROR"))


# ---------------------------------------------------------------- the one call

def load_mnist(args=None, *, data=None, data_dir=None, mirror=None, seed=None, quick=None,
               one_hot=False, flatten=True, validation_size=VALIDATION_SIZE, verbose=True):
    """Load MNIST (or, when asked by name, synthetic digits) as float32 in [0, 1].

    `args` supplies --data, --data-dir, --mirror, --seed and --quick; keywords override them.
    Labels are integers, or one-hot float32 rows with `one_hot=True`. Images are 784-vectors,
    or 28x28x1 with `flatten=False`. Training images are split like the course: the first
    `validation_size` (5000) are validation, the rest (55000) train.
    """
    def pick(value, name, default):
        if value is not None:
            return value
        return getattr(args, name, default) if args is not None else default
    data = pick(data, "data", "mnist")
    data_dir = pick(data_dir, "data_dir", None)
    mirror = pick(mirror, "mirror", None)
    seed = pick(seed, "seed", 0)
    quick = pick(quick, "quick", False)

    if data == "synthetic":
        from tfcourse.synthetic import synthetic_digits
        n_train, n_validation, n_test = QUICK_SIZES if quick else (55000, validation_size, 10000)
        x_all, y_all = synthetic_digits(n_validation + n_train + n_test, seed=seed)
        x_train, y_train = x_all[:n_validation + n_train], y_all[:n_validation + n_train]
        x_test, y_test = x_all[n_validation + n_train:], y_all[n_validation + n_train:]
        source, synthetic, split = "SYNTHETIC stand-in digits (not MNIST)", True, n_validation
    elif data == "mnist":
        (x_train, y_train, x_test, y_test), source = _raw_arrays(data_dir, mirror)
        synthetic, split = False, validation_size
    else:
        raise CourseError(f"--data must be 'mnist' or 'synthetic', not {data!r}.")

    x_validation, y_validation = x_train[:split], y_train[:split]
    x_train, y_train = x_train[split:], y_train[split:]
    if quick and not synthetic:
        n_train, n_validation, n_test = QUICK_SIZES
        x_train, y_train = x_train[:n_train], y_train[:n_train]
        x_validation, y_validation = x_validation[:n_validation], y_validation[:n_validation]
        x_test, y_test = x_test[:n_test], y_test[:n_test]

    def images(x):
        x = np.asarray(x, dtype=np.float32)
        if x.max(initial=0) > 1.0:
            x = x / np.float32(255.0)
        return x.reshape(len(x), 784) if flatten else x.reshape(len(x), 28, 28, 1)

    def labels(y):
        y = np.asarray(y, dtype=np.int64)
        return np.eye(10, dtype=np.float32)[y] if one_hot else y

    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and batch_size > len(x_train):
        raise CourseError(f"--batch-size {batch_size} is larger than the {len(x_train)} training images"
                          f"{' of --quick' if quick else ''}: not one batch could be made.\n"
                          f"Remedy: a batch size of at most {len(x_train)} (the lesson's default is right).",
                          exit_code=2)
    result = MNIST(images(x_train), labels(y_train), images(x_validation), labels(y_validation),
                   images(x_test), labels(y_test), source=source + (" [quick subset]" if quick else ""),
                   synthetic=synthetic)
    if verbose:
        print(("数据 Data: " if not synthetic else "数据 Data (合成/SYNTHETIC): ") + result.describe())
    return result
