"""Shared by the week-11 and week-12 text lessons: the data sets, read, downloaded and checked.

11-1 reads text8 (a list of words); 11-2 and 12-1 read the sentence polarity data set and split
it the same way, so that 12-1's two networks and 11-2's see the same dev sentences. No model or
training loop lives here: those are the lessons.
"""
import json
import random
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np

import tfcourse
from tfcourse.mnist import keras_cache_dir  # the folder Keras and MNIST download into

# text8: the first 10^8 characters of an English Wikipedia dump, cleaned by Matt Mahoney.
# Size as in the course's maybe_download('text8.zip', 31344016). The sha256 is not in
# tensorflow_datasets (no text8 there) nor in gensim-data (its list.json has md5s of its own
# re-packed text8.gz parts, not of this zip); it is the value that public projects pinning this
# zip agree on (found with a code search of GitHub: several independent download scripts, e.g. a
# Haskell word2vec's fileInfos and a paper-reproduction audit, which also gives the md5 of the
# 100,000,000-byte text inside, 3bea1919949baf155f99411df5fada7e).
TEXT8_URLS = ["http://mattmahoney.net/dc/text8.zip", "https://mattmahoney.net/dc/text8.zip"]
TEXT8_SIZE = 31_344_016
TEXT8_SHA256 = "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232"
TEXT8_CHARS = 100_000_000

# Sentence polarity data set v1.0 (Pang and Lee 2005), from its authors' Cornell page, then the
# copy the Hugging Face `rotten_tomatoes` loader uses. sha256 and size from that loader's
# dataset_infos.json (huggingface/datasets, datasets/rotten_tomatoes); DAI-Lab/fibber's list gives
# md5 50c1c2c047b4225e148e97aa7708c34e for the Cornell URL. The content is checked too: 5331
# positive and 5331 negative lines.
POLARITY_URLS = ["https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
                 "https://storage.googleapis.com/seldon-datasets/sentence_polarity_v1/rt-polaritydata.tar.gz"]
POLARITY_SIZE = 487_770
POLARITY_SHA256 = "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9"
POLARITY_LINES = 5331
POLARITY_FILES = ("rt-polarity.pos", "rt-polarity.neg")
DOWNLOAD_BACKOFF = 1.0  # seconds before a retry, times the attempt number (0 in the tests)

# Control characters (except tab, newline, form feed, carriage return) do not occur in text:
# a file full of them is binary or UTF-16, not Latin-1, even though every byte decodes as Latin-1.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def read_text(path):
    """The text of `path`: UTF-8, or else Latin-1 (the original polarity files); else a clear error."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if _NOT_TEXT.search(text):
        raise tfcourse.CourseError(f"{path} is not a text file in UTF-8 or Latin-1 (it holds control or "
                                   f"NUL bytes, e.g. UTF-16 or binary data).\nRemedy: save it as UTF-8 "
                                   f"text, one sentence per line, or download the data set again.")
    return text


def _mirror_urls(mirror, name, urls):
    return ([mirror.rstrip("/") + "/" + name] if mirror else []) + list(urls)


def _download(urls, dest, what, remedy, **check):
    try:
        return tfcourse.download(urls, dest, what=what, backoff=DOWNLOAD_BACKOFF, **check)
    except tfcourse.DownloadError as error:
        raise tfcourse.CourseError(f"{error}\n{remedy}") from None


# ---------------------------------------------------------------- text8 (11-1)

def _read_text8_zip(path):
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(archive.namelist()[0]).decode("latin-1")  # the course: first member
    except (zipfile.BadZipFile, IndexError, OSError) as error:
        raise tfcourse.CourseError(f"{path} is not a readable zip archive ({error}).\n"
                                   "Remedy: delete it and download text8.zip again.") from None


def _check_text8_zip(path):
    with zipfile.ZipFile(path) as archive:
        sizes = [member.file_size for member in archive.infolist()]
    if sizes != [TEXT8_CHARS]:
        raise ValueError(f"expected one member of {TEXT8_CHARS} bytes, found sizes {sizes}")


def text8_words(args):
    """(list of words, description) for 11-1: --data synthetic, --data-dir, the cache, or a download."""
    words, source = _text8_words(args)
    if len(set(words[:10_000])) < 3:
        raise tfcourse.CourseError(f"{source}: {len(words)} words, too few different ones to learn from.\n"
                                   f"Remedy: a longer text, e.g. text8 itself ({TEXT8_URLS[0]}).")
    return words, source


def _text8_words(args):
    if args.data == "synthetic":
        return synthetic_text(args.seed).split(), "SYNTHETIC text with planted co-occurrences"
    if args.data_dir is not None:
        folder = Path(args.data_dir)
        if (folder / "text8").is_file():
            return read_text(folder / "text8").split(), f"text8 from {folder / 'text8'}"
        if (folder / "text8.zip").is_file():
            return _read_text8_zip(folder / "text8.zip").split(), f"text8 from {folder / 'text8.zip'}"
        raise tfcourse.CourseError(f"--data-dir {folder}: no text8 or text8.zip there.\nRemedy: put "
                                   f"text8.zip ({TEXT8_URLS[0]}) or its unzipped text8 in that folder.",
                                   exit_code=2)
    dest = keras_cache_dir() / "text8.zip"
    _download(_mirror_urls(args.mirror, "text8.zip", TEXT8_URLS), dest, "text8 (text8.zip, 31 MB)",
              "Or: python week11_word2vec_textcnn/11_1_word2vec.py --data-dir FOLDER (holding text8.zip "
              "or text8), or --data synthetic to try the lesson without it.",
              size=TEXT8_SIZE, sha256=TEXT8_SHA256, verify=_check_text8_zip)
    return _read_text8_zip(dest).split(), f"text8 from {dest}"


def synthetic_text(seed, n_words=300_000):
    """A text whose planted groups (the numbers, good/great/..., bad/awful/...) share their
    neighbours, in filler words drawn with Zipf-like frequencies: skip-gram should put each group
    together. Words 'good' and 'bad' also appear in 11-2's synthetic sentences."""
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


# ---------------------------------------------------------------- sentence polarity (11-2, 12-1)

def clean_str(string):
    """The course's tokenisation (cnn-text-classification-tf data_helpers.clean_str, from Kim's code)."""
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    for suffix in ("'s", "'ve", "n't", "'re", "'d", "'ll"):
        string = string.replace(suffix, " " + suffix)
    for mark in (",", "!", "(", ")", "?"):
        string = string.replace(mark, f" {mark} ")
    return re.sub(r"\s{2,}", " ", string).strip().lower()


def _polarity_folder(folder):
    for candidate in (folder, folder / "rt-polaritydata"):
        if all((candidate / name).is_file() for name in POLARITY_FILES):
            return candidate
    return None


def _check_polarity_archive(path):
    staging = Path(str(path) + ".check")
    tfcourse.extract_tar(path, staging)
    try:
        found = _polarity_folder(staging)
        if found is None:
            raise ValueError("no rt-polaritydata/rt-polarity.pos and .neg inside")
        counts = [len(read_text(found / name).splitlines()) for name in POLARITY_FILES]
        if counts != [POLARITY_LINES, POLARITY_LINES]:
            raise ValueError(f"{counts} lines, expected {POLARITY_LINES} each")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def polarity_sentences(args):
    """(cleaned sentences, one-hot labels [neg, pos] as in the course, description)."""
    if args.data == "synthetic":
        positive, negative = synthetic_polarity(args.seed)
        source = "SYNTHETIC sentences whose polarity rests on planted words"
    else:
        if args.data_dir is not None:
            folder = _polarity_folder(Path(args.data_dir))
            if folder is None and (Path(args.data_dir) / "rt-polaritydata.tar.gz").is_file():
                folder = _extract_polarity(Path(args.data_dir) / "rt-polaritydata.tar.gz")
            if folder is None:
                raise tfcourse.CourseError(
                    f"--data-dir {args.data_dir}: no rt-polarity.pos and rt-polarity.neg there (nor in "
                    f"rt-polaritydata/ or rt-polaritydata.tar.gz).\nRemedy: point --data-dir at the folder "
                    f"that holds them (the archive's rt-polaritydata/).", exit_code=2)
        elif _polarity_folder(keras_cache_dir() / "rt-polaritydata") is not None:
            folder = _polarity_folder(keras_cache_dir() / "rt-polaritydata")
        else:
            archive = keras_cache_dir() / "rt-polaritydata.tar.gz"
            _download(_mirror_urls(args.mirror, archive.name, POLARITY_URLS), archive,
                      "the sentence polarity data set (rt-polaritydata.tar.gz, 0.5 MB)",
                      "Or: pass --data-dir FOLDER holding rt-polarity.pos and rt-polarity.neg, "
                      "or --data synthetic to try the lesson without it.",
                      size=POLARITY_SIZE, sha256=POLARITY_SHA256, verify=_check_polarity_archive)
            folder = _extract_polarity(archive)
        positive, negative = (read_text(folder / name).splitlines() for name in POLARITY_FILES)
        source = f"sentence polarity data from {folder}"
        if not positive or not negative:
            raise tfcourse.CourseError(f"{folder}: rt-polarity.pos or rt-polarity.neg is empty.\n"
                                       "Remedy: one sentence per line in each, or download the data set again.")
    x_text = [clean_str(sentence) for sentence in positive + negative]
    y = np.array([[0, 1]] * len(positive) + [[1, 0]] * len(negative), np.float32)
    return x_text, y, f"{source}: {len(positive)} positive, {len(negative)} negative"


def _extract_polarity(archive):
    dest = archive.with_name("rt-polaritydata")
    if _polarity_folder(dest) is None:
        tfcourse.extract_tar(archive, dest)
    found = _polarity_folder(dest)
    if found is None:
        raise tfcourse.CourseError(f"{archive} holds no rt-polarity.pos and rt-polarity.neg.\n"
                                   "Remedy: delete it and download rt-polaritydata.tar.gz again.")
    return found


def split_dev(x, y, dev_sample_percentage, seed=10):
    """The course's split: shuffle with np.random.seed(10), the last 10% are the dev set."""
    shuffle_indices = np.random.RandomState(seed).permutation(len(y))
    dev_sample_index = -1 * int(dev_sample_percentage * len(y))
    if dev_sample_index == 0 or -dev_sample_index >= len(y):
        raise tfcourse.CourseError(f"{len(y)} sentences cannot be split {dev_sample_percentage:g} for the dev set.\n"
                                   "Remedy: more sentences, or another --dev-sample-percentage.", exit_code=2)
    x = [x[i] for i in shuffle_indices]
    y = y[shuffle_indices]
    return x[:dev_sample_index], y[:dev_sample_index], x[dev_sample_index:], y[dev_sample_index:]


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


def plot_dev_accuracy(curves, path, show):
    """Dev accuracy against the step, one line per network (11-2: one, 12-1: two)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, history in curves.items():
        ax.plot(*zip(*history), label=name, marker="o" if len(history) < 30 else None, markersize=3)
    ax.set(xlabel="step", ylabel="dev accuracy", title="Text CNN (Kim 2014): accuracy on the dev sentences")
    ax.grid(alpha=0.3)
    ax.legend()
    tfcourse.save_figure(fig, path, show=show)


# ---------------------------------------------------------------- 11-1's results, read by 12-1

def save_embeddings(run, final_embeddings, words):
    """embeddings.npy + vocabulary.txt (row i is word i), and a TensorBoard projector log in projector/."""
    import tensorflow as tf
    from tensorboard.plugins import projector
    with tfcourse.atomic_path(run.path("embeddings.npy")) as tmp:
        np.save(tmp, final_embeddings.astype(np.float32))
    words_text = "".join(word + "\n" for word in words)
    tfcourse.atomic_write(run.path("vocabulary.txt"), words_text)
    with tfcourse.atomic_path(run.path("projector")) as folder:
        folder.mkdir()
        (folder / "metadata.tsv").write_text(words_text, encoding="utf-8")  # one column: no header line
        tf.train.Checkpoint(embedding=tf.Variable(final_embeddings)).save(str(folder / "embedding.ckpt"))
        config = projector.ProjectorConfig()
        embedding = config.embeddings.add()
        embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"  # the variable's key in the checkpoint
        embedding.metadata_path = "metadata.tsv"
        projector.visualize_embeddings(str(folder), config)
    print(f"saved {final_embeddings.shape[0]} x {final_embeddings.shape[1]} vectors: "
          f"{run.path('embeddings.npy')}, vocabulary.txt, projector/ (metadata.tsv, checkpoint)")


def plot_tsne(final_embeddings, reverse_dictionary, plot_only, path, show, seed):
    """The course's plot_with_labels: t-SNE of the plot_only most frequent words, 18x18 inches;
    `seed` (the run's --seed) fixes t-SNE's own randomness, so a run's picture can be made again."""
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise tfcourse.CourseError("t-SNE needs scikit-learn.\nRemedy: pip install scikit-learn "
                                   "(or --plot-only 0 for no picture).") from None
    import matplotlib.pyplot as plt
    tsne = TSNE(perplexity=max(1.0, min(30.0, (plot_only - 1) / 3)), n_components=2, init="pca", max_iter=5000,
                method="exact", random_state=seed)
    low_dim_embs = tsne.fit_transform(final_embeddings[:plot_only, :])  # -> (500, 2)
    fig = plt.figure(figsize=(18, 18))
    for i, (x, y) in enumerate(low_dim_embs):
        plt.scatter(x, y)
        plt.annotate(reverse_dictionary[i], xy=(x, y), xytext=(5, 2), textcoords="offset points",
                     ha="right", va="bottom")
    plt.title(f"word2vec: t-SNE of the {plot_only} most frequent words")
    tfcourse.save_figure(fig, path, show=show)


def load_embeddings(folder):
    """(vectors, words) saved by 11-1 in `folder`; a clear error when they are missing or do not match."""
    folder = Path(folder)
    try:
        vectors = np.load(folder / "embeddings.npy", allow_pickle=False)
        words = (folder / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as error:
        raise tfcourse.CourseError(
            f"Cannot read 11-1's word vectors in {folder} ({error}).\nRemedy: run "
            f"`python week11_word2vec_textcnn/11_1_word2vec.py` first (or --data synthetic, or --data-dir "
            f"DIR), or pass --model-dir with the run folder that holds embeddings.npy and vocabulary.txt.",
            exit_code=2) from None
    if vectors.ndim != 2 or len(vectors) != len(words):
        raise tfcourse.CourseError(f"{folder}: embeddings.npy has shape {vectors.shape} but vocabulary.txt "
                                   f"{len(words)} words.\nRemedy: run 11-1 again into a fresh folder.")
    try:
        if json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get("synthetic"):
            print(f"注意 Note: the vectors in {folder} were trained on 11-1's SYNTHETIC text, not on text8.")
    except (OSError, ValueError):
        pass  # not a run folder of 11-1 (vectors from elsewhere): nothing to say
    return vectors, words


def load_lesson(name):
    """A lesson of this folder as a module (its name starts with a digit: `import` cannot read it).
    12-1 uses 11-2's data preparation, flags and network this way, so both train the same model."""
    import importlib.util
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location("lesson_" + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
