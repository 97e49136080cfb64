"""Reading the text lessons' data files (11-1, 11-2, 12-1): encodings, layouts, downloads.

Nothing here is taught: the tokenizer, the vocabulary and every network are in the lessons.
    text8_words(args)          -> words                     (11-1's text8)
    labelled_sentences(args)   -> sentences, labels, source (1 positive, 0 negative)
A sentence file is read in UTF-8 (with or without a BOM), UTF-16 with a BOM, GBK/GB18030 or
Latin-1, in one of two layouts: rt-polarity.pos + rt-polarity.neg (one sentence a line), or a CSV
file `label,review` such as waimai_10k.csv.
"""
import argparse
import csv
import io
import random
import re
import shutil
import zipfile
from pathlib import Path

import tfcourse
from tfcourse.mnist import keras_cache_dir  # the folder Keras and MNIST download into

# text8: the first 10^8 characters of an English Wikipedia dump, cleaned by Matt Mahoney. Size as
# in the course's maybe_download('text8.zip', 31344016); the sha256 is the value public projects
# pinning this zip agree on (tensorflow_datasets has no text8; gensim-data re-packs it).
TEXT8_URLS = ["http://mattmahoney.net/dc/text8.zip", "https://mattmahoney.net/dc/text8.zip"]
TEXT8_SIZE = 31_344_016
TEXT8_SHA256 = "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232"
TEXT8_CHARS = 100_000_000

# Sentence polarity data set v1.0 (Pang and Lee 2005): its authors' Cornell page, then the copy
# Hugging Face's rotten_tomatoes loader uses (sha256 and size from that loader). The content is
# checked too: 5331 positive and 5331 negative lines.
POLARITY_URLS = [
    "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
    "https://storage.googleapis.com/seldon-datasets/sentence_polarity_v1/rt-polaritydata.tar.gz"]
POLARITY_SIZE = 487_770
POLARITY_SHA256 = "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9"
POLARITY_LINES = 5331
POLARITY_FILES = ("rt-polarity.pos", "rt-polarity.neg")

# waimai_10k: 11,987 food-delivery reviews (4,000 positive, 7,987 negative), `label,review`, from
# SophonPlus/ChineseNlpCorpus, file last changed in commit 032ed697 (2018-03-30).
WAIMAI_URLS = ["https://raw.githubusercontent.com/SophonPlus/ChineseNlpCorpus/master/"
               "datasets/waimai_10k/waimai_10k.csv"]
WAIMAI_SIZE = 919_380
WAIMAI_SHA256 = "b8b5c11c00b51578d35937fca56e03a126b45381f1ea4b22893237cb377a26fe"
DOWNLOAD_BACKOFF = 1.0  # seconds before a retry, times the attempt number (0 in the tests)

HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # Chinese characters
# Control characters (other than tab, newlines, form feed) are rare in text (waimai_10k holds one
# backspace): a file with NUL bytes or many of them is binary, though every byte decodes as Latin-1.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def read_text(path):
    """The text of a file in UTF-8 (a BOM or not), UTF-16 with a BOM, GBK/GB18030 or Latin-1."""
    data = Path(path).read_bytes()
    text = None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode"
        text = data.decode("utf-16", errors="replace")
    for encoding in ("utf-8-sig", "gb18030"):  # utf-8-sig: UTF-8, dropping a BOM if there is one
        if text is None:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            # English Latin-1 bytes can decode as GB18030 too; Chinese text is mostly Chinese
            letters = len(re.sub(r"\s", "", text))
            if encoding == "gb18030" and len(HANZI.findall(text)) < 0.1 * letters:
                text = None
    if text is None:
        text = data.decode("latin-1")  # the original polarity files
    if "\x00" in text or len(NOT_TEXT.findall(text)) > len(text) / 1000:
        raise tfcourse.CourseError(
            f"{path} is not a text file in UTF-8, GBK/GB18030 or Latin-1 (it holds control or NUL "
            "bytes: binary data, or UTF-16 without its BOM).\nRemedy: save it as UTF-8 text.")
    return text


def data_path(text):
    """A flag type: a folder, or a .csv file (label,review); anything else is argparse's error."""
    path = Path(text).expanduser()
    if path.is_file() and path.suffix.lower() != ".csv":
        raise argparse.ArgumentTypeError(f"{text} is a file but not a .csv file; name its folder")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such folder or file: {text}")
    return path


def _download(args, urls, name, what, **check):
    mirror = [args.mirror.rstrip("/") + "/" + name] if args.mirror else []
    try:
        return tfcourse.download(mirror + urls, keras_cache_dir() / name, what=what,
                                 backoff=DOWNLOAD_BACKOFF, **check)
    except tfcourse.DownloadError as error:
        raise tfcourse.CourseError(f"{error}\nOr: pass --data-dir with a folder that holds it, or "
                                   "--data synthetic to try the lesson without it.") from None


# ## text8 (11-1)
def has_text8(folder):
    return any((Path(folder) / name).is_file() for name in ("text8", "text8.zip"))


def _read_text8_zip(path):
    try:
        with zipfile.ZipFile(path) as archive:  # the course reads the first member
            return archive.read(archive.namelist()[0]).decode("latin-1")
    except (zipfile.BadZipFile, IndexError, OSError) as error:
        raise tfcourse.CourseError(f"{path} is not a readable zip archive ({error}).\n"
                                   "Remedy: delete it and download text8.zip again.") from None


def _check_text8_zip(path):
    with zipfile.ZipFile(path) as archive:
        sizes = [member.file_size for member in archive.infolist()]
    if sizes != [TEXT8_CHARS]:
        raise ValueError(f"expected one member of {TEXT8_CHARS} bytes, found sizes {sizes}")


def text8_words(args):
    """text8's words and where they came from: --data-dir (text8 or text8.zip), else a download."""
    if args.data_dir is not None:
        folder = Path(args.data_dir)
        if (folder / "text8").is_file():
            return read_text(folder / "text8").split(), f"text8 from {folder / 'text8'}"
        path = folder / "text8.zip"
    else:
        path = _download(args, TEXT8_URLS, "text8.zip", "text8 (text8.zip, 31 MB)",
                         size=TEXT8_SIZE, sha256=TEXT8_SHA256, verify=_check_text8_zip)
    return _read_text8_zip(path).split(), f"text8 from {path}"


def synthetic_text(seed, n_words=300_000):
    """A text whose planted groups (the numbers, good/great/..., bad/awful/...) share their
    neighbours, in filler words drawn with Zipf-like frequencies."""
    rng = random.Random(seed)
    groups = {("in", "year"): "one two three four five six seven eight nine zero".split(),
              ("truly", "film"): "good great fine superb wonderful".split(),
              ("rather", "plot"): "bad awful dull poor boring".split()}
    filler = [f"w{i}" for i in range(300)]
    weights = [1 / (i + 1) for i in range(len(filler))]
    words = []
    while len(words) < n_words:
        words += rng.choices(filler, weights, k=rng.randint(1, 6))
        (left, right), members = rng.choice(list(groups.items()))
        words += [left, rng.choice(members), right]
    return " ".join(words)


# ## Labelled sentences (11-2, 12-1; 11-1 reads them without the labels)
def read_csv(path):
    """Sentences and 0/1 labels of a CSV file: columns `label,review` (a header naming them, in any
    order, or none and the label first), as waimai_10k.csv and ChineseNlpCorpus's sets."""
    try:
        rows = [row for row in csv.reader(io.StringIO(read_text(path))) if row]
    except csv.Error as error:
        raise tfcourse.CourseError(f"{path} is not a readable CSV file ({error}).\n"
                                   "Remedy: save it as CSV, columns label,review.") from None
    header = [name.strip().lower() for name in rows[0]] if rows else []
    label_column, review_column, first = 0, 1, 1
    if "label" in header and "review" in header:
        label_column, review_column, first = header.index("label"), header.index("review"), 2
        rows = rows[1:]
    sentences, labels = [], []
    for number, row in enumerate(rows, start=first):
        label = row[label_column].strip() if len(row) > label_column else ""
        if label not in ("0", "1"):
            raise tfcourse.CourseError(
                f"{path}, row {number}: the label is {label!r}, not 0 (negative) or 1 (positive).\n"
                "Remedy: columns label,review with labels 0 and 1 (a header line may name them).")
        sentences.append(row[review_column] if len(row) > review_column else "")
        labels.append(int(label))
    return sentences, labels


def read_pair(folder):
    """The two-file layout: rt-polarity.pos (label 1) and rt-polarity.neg (label 0)."""
    positive, negative = (read_text(folder / name).splitlines() for name in POLARITY_FILES)
    return positive + negative, [1] * len(positive) + [0] * len(negative)


def _polarity_folder(folder):
    for candidate in (folder, folder / "rt-polaritydata"):
        if all((candidate / name).is_file() for name in POLARITY_FILES):
            return candidate
    return None


def _extract_polarity(archive):
    dest = archive.with_name("rt-polaritydata")
    if _polarity_folder(dest) is None:
        tfcourse.extract_tar(archive, dest)
    found = _polarity_folder(dest)
    if found is None:
        raise tfcourse.CourseError(f"{archive} holds no rt-polarity.pos and rt-polarity.neg.\n"
                                   "Remedy: delete it and download rt-polaritydata.tar.gz again.")
    return found


def _check_polarity_archive(path):
    staging = tfcourse.extract_tar(path, Path(str(path) + ".check"))
    try:
        found = _polarity_folder(staging)
        if found is None:
            raise ValueError("no rt-polaritydata/rt-polarity.pos and .neg inside")
        counts = [len(read_text(found / name).splitlines()) for name in POLARITY_FILES]
        if counts != [POLARITY_LINES, POLARITY_LINES]:
            raise ValueError(f"{counts} lines, expected {POLARITY_LINES} each")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_folder(path):
    """Sentences and labels from --data-dir: a .csv file, or a folder holding the two files,
    rt-polaritydata.tar.gz, or one .csv file."""
    path = Path(path)
    if path.is_file():
        return (*read_csv(path), f"{path}")
    found = _polarity_folder(path)
    if found is None and (path / "rt-polaritydata.tar.gz").is_file():
        found = _extract_polarity(path / "rt-polaritydata.tar.gz")
    if found is not None:
        return (*read_pair(found), f"{found}")
    tables = sorted(path.glob("*.csv"))
    if len(tables) == 1:
        return (*read_csv(tables[0]), f"{tables[0]}")
    raise tfcourse.CourseError(
        f"--data-dir {path}: " + (f"{len(tables)} CSV files there, which one?" if tables else
                                  "no rt-polarity.pos and rt-polarity.neg there (nor in "
                                  "rt-polaritydata/ or rt-polaritydata.tar.gz), and no .csv file.")
        + "\nRemedy: --data-dir FOLDER holding rt-polarity.pos and .neg, or --data-dir FILE.csv "
        "(columns label,review).")


def labelled_sentences(args):
    """(sentences, labels, where they came from): --data-dir, else --data polarity (the course's
    English movie reviews), waimai (Chinese food-delivery reviews) or synthetic."""
    if args.data_dir is not None:
        return read_folder(args.data_dir)
    if args.data == "synthetic":
        positive, negative = synthetic_polarity(args.seed)
        return (positive + negative, [1] * len(positive) + [0] * len(negative),
                "SYNTHETIC sentences whose polarity rests on planted words")
    if args.data == "waimai":
        path = _download(args, WAIMAI_URLS, "waimai_10k.csv",
                         "waimai_10k (Chinese food-delivery reviews, waimai_10k.csv, 0.9 MB)",
                         size=WAIMAI_SIZE, sha256=WAIMAI_SHA256)
        return (*read_csv(path), f"waimai_10k from {path}")
    found = _polarity_folder(keras_cache_dir() / "rt-polaritydata")
    if found is None:
        archive = _download(args, POLARITY_URLS, "rt-polaritydata.tar.gz",
                            "the sentence polarity data set (rt-polaritydata.tar.gz, 0.5 MB)",
                            size=POLARITY_SIZE, sha256=POLARITY_SHA256,
                            verify=_check_polarity_archive)
        found = _extract_polarity(archive)
    return (*read_pair(found), f"sentence polarity data from {found}")


def synthetic_polarity(seed, count=1000):
    """Positive and negative sentences of filler words that differ only in one planted word."""
    rng = random.Random(seed)
    filler = [f"w{i}" for i in range(200)]
    good, bad = "good great fine superb wonderful".split(), "bad awful dull poor boring".split()

    def sentence(words):
        text = rng.choices(filler, k=rng.randint(3, 15))
        text.insert(rng.randrange(len(text) + 1), rng.choice(words))
        return " ".join(text)
    return [sentence(good) for _ in range(count)], [sentence(bad) for _ in range(count)]
