"""Week 11 offline: word2vec on a text with planted co-occurrences, the text CNN on sentences whose
polarity rests on planted words, and both data sets' downloads against a local server."""
import hashlib
import io
import json
import random
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lesson_runner import PROJECT_ROOT, run_lesson

WEEK = "week11_word2vec_textcnn"
WORD2VEC, TEXT_CNN = f"{WEEK}/11_1_word2vec.py", f"{WEEK}/11_2_text_cnn.py"
sys.path.insert(0, str(PROJECT_ROOT / WEEK))
import _text  # noqa: E402  (the lessons' data module: its URLs and checksums are patched below)

# Words of one group only ever stand between the same two context words, so skip-gram must put
# them next to each other; the filler words around them are drawn at random.
GROUPS = {("in", "year"): ["one", "two", "three", "four"], ("truly", "film"): ["good", "great", "fine", "superb"],
          ("rather", "plot"): ["bad", "awful", "dull", "poor"]}
FILLER = [f"f{i}" for i in range(60)]


def planted_text(sentences=3000, seed=0):
    rng, words = random.Random(seed), []
    for _ in range(sentences):
        (left, right), members = rng.choice(list(GROUPS.items()))
        words += rng.choices(FILLER, k=rng.randint(1, 3)) + [left, rng.choice(members), right]
    return " ".join(words)


def polarity_lines(count, seed=0):
    """Positive lines hold one of good/great/fine/superb, negative ones bad/awful/dull/poor."""
    rng = random.Random(seed)

    def line(words):
        text = rng.choices(FILLER, k=rng.randint(3, 12))
        text.insert(rng.randrange(len(text) + 1), rng.choice(words))
        return " ".join(text)
    return [line(GROUPS["truly", "film"]) for _ in range(count)], [line(GROUPS["rather", "plot"]) for _ in range(count)]


@pytest.fixture(scope="module")
def word2vec_run(tmp_path_factory):
    from sklearn import manifold
    folder = tmp_path_factory.mktemp("text8")
    (folder / "text8").write_text(planted_text())
    out = tmp_path_factory.mktemp("w2v") / "run"
    tsne_seeds, real_tsne = [], manifold.TSNE

    def tsne(**kwargs):  # scikit-learn's TSNE, noting the seed the lesson gives it
        tsne_seeds.append(kwargs.get("random_state"))
        return real_tsne(**kwargs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifold, "TSNE", tsne)
        code, stdout, stderr = run_lesson(WORD2VEC, "--data-dir", folder, "--steps", "1001", "--embedding-size",
                                          "16", "--plot-only", "30", "--seed", "5", "--out", out)
    assert code == 0, stderr
    return out, stdout, tsne_seeds


def test_11_1_puts_planted_groups_together_and_saves_what_12_1_reads(word2vec_run):
    out, stdout, tsne_seeds = word2vec_run
    vectors = np.load(out / "embeddings.npy", allow_pickle=False)
    words = (out / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    assert vectors.shape == (len(words), 16) and words[0] == "UNK" and len(words) == 1 + 6 + 12 + 60
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    in_group = 0
    for members in GROUPS.values():
        for word in members:
            nearest = [words[j] for j in np.argsort(-(vectors @ vectors[words.index(word)]))[1:4]]
            assert nearest[0] in members, (word, nearest)
            in_group += sum(n in members for n in nearest)
    assert in_group >= 30  # of 36
    # the printed lines are the course's, and the last "Nearest to" block agrees with the saved vectors
    assert re.search(r"^Average loss at step\s+0\s+:\s+\d+\.\d+$", stdout, re.M)
    last = {}
    for word, nearest in re.findall(r"^Nearest to (\w+): ((?:\w+, ){7}\w+),$", stdout, re.M):
        last[word] = nearest.split(", ")
    assert len(last) == 16
    for word, nearest in last.items():
        expected = [words[j] for j in np.argsort(-(vectors @ vectors[words.index(word)]))[1:9]]
        assert nearest[:3] == expected[:3]
    assert (out / "projector" / "metadata.tsv").read_text(encoding="utf-8").splitlines() == words
    assert "metadata.tsv" in (out / "projector" / "projector_config.pbtxt").read_text()
    assert (out / "projector" / "checkpoint").is_file() and (out / "tsne.png").stat().st_size > 10_000
    assert tsne_seeds == [5]  # the t-SNE picture follows --seed (5 here), not a fixed 0
    assert json.loads((out / "metrics.json").read_text())["status"] == "finished"


def zipped(text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("text8", text)
    return buffer.getvalue()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(_text, "DOWNLOAD_BACKOFF", 0)


def test_11_1_downloads_text8_from_a_mirror_and_checks_it(file_server, dead_url, fast_retries, monkeypatch, tmp_path):
    text = planted_text(200)
    archive = zipped(text)
    file_server.files["/mirror/text8.zip"] = archive
    monkeypatch.setattr(_text, "TEXT8_URLS", [dead_url])
    monkeypatch.setattr(_text, "TEXT8_SIZE", len(archive))
    monkeypatch.setattr(_text, "TEXT8_SHA256", hashlib.sha256(archive).hexdigest())
    monkeypatch.setattr(_text, "TEXT8_CHARS", len(text))
    code, out, err = run_lesson(WORD2VEC, "--mirror", file_server.url("/mirror/"), "--steps", "1",
                                "--embedding-size", "8", "--plot-only", "0", "--out", tmp_path / "run")
    assert code == 0, err
    assert (_text.keras_cache_dir() / "text8.zip").read_bytes() == archive
    assert f"Data size {len(text.split())}" in out and "Nearest to" in out


def test_11_1_offline_says_what_to_download_and_where_to_put_it(dead_url, fast_retries, monkeypatch, tmp_path):
    monkeypatch.setattr(_text, "TEXT8_URLS", [dead_url])
    code, out, err = run_lesson(WORD2VEC, "--steps", "1", "--out", tmp_path / "run")
    dest = _text.keras_cache_dir() / "text8.zip"
    assert code == 1 and "Traceback" not in err
    assert "Could not download text8" in err and dead_url in err and str(dest) in err and "--data-dir" in err
    assert not dest.exists() and not list(dest.parent.glob("*.part")) and not (tmp_path / "run").exists()


def polarity_archive(positive, negative):
    """rt-polaritydata.tar.gz as the authors lay it out; the negative file in Latin-1 like the original."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("rt-polarity.pos", "\n".join(positive).encode("utf-8")),
                           ("rt-polarity.neg", "\n".join(negative).encode("latin-1"))):
            info = tarfile.TarInfo("rt-polaritydata/" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_11_2_downloads_the_polarity_data_reads_latin1_and_learns(file_server, fast_retries, monkeypatch, tmp_path):
    positive, negative = polarity_lines(300)
    positive[0] += " caf\u00e9"    # a word with an accent: UTF-8 here ...
    negative[0] += " na\u00efve"   # ... and Latin-1 in the negative file, like the original archive
    archive = polarity_archive(positive, negative)
    file_server.files["/rt-polaritydata.tar.gz"] = archive
    monkeypatch.setattr(_text, "POLARITY_URLS", [file_server.url("/rt-polaritydata.tar.gz")])
    monkeypatch.setattr(_text, "POLARITY_SIZE", len(archive))
    monkeypatch.setattr(_text, "POLARITY_SHA256", hashlib.sha256(archive).hexdigest())
    monkeypatch.setattr(_text, "POLARITY_LINES", 300)
    out = tmp_path / "run"
    code, stdout, err = run_lesson(TEXT_CNN, "--steps", "60", "--evaluate-every", "30", "--embedding-dim", "16",
                                   "--num-filters", "8", "--lr", "0.01", "--out", out)  # small and quick
    assert code == 0, err
    assert "300 positive, 300 negative" in stdout and "Train/Dev split: 540/60" in stdout
    steps = re.findall(r"^\S+: step (\d+), loss [\d.e-]+, acc [\d.]+$", stdout, re.M)
    assert steps.count("30") == 2 and steps.count("60") == 2 and len(steps) == 60 + 2  # + 2 dev lines
    assert stdout.count("\nEvaluation:\n") == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final"]["best_dev_accuracy"] >= 0.9 and metrics["final"]["best_step"] in (30, 60)
    assert (out / "dev_accuracy.png").stat().st_size > 5000
    assert (_text.keras_cache_dir() / "rt-polaritydata" / "rt-polaritydata" / "rt-polarity.neg").is_file()


def test_11_2_a_file_neither_utf8_nor_latin1_gets_one_clear_message(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "rt-polarity.pos").write_text("a fine film\n", encoding="utf-8")
    (folder / "rt-polarity.neg").write_bytes("a dull film\n".encode("utf-16"))
    code, out, err = run_lesson(TEXT_CNN, "--data-dir", folder, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "rt-polarity.neg is not a text file in UTF-8 or Latin-1" in err and not (tmp_path / "run").exists()
    code, out, err = run_lesson(TEXT_CNN, "--data-dir", tmp_path, "--out", tmp_path / "run")
    assert code == 2 and "no rt-polarity.pos and rt-polarity.neg there" in err
