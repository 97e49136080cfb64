"""Lesson 12-1 offline: the text CNN starting from word vectors the test makes (in 11-1's files),
beside random initialisation, on sentences whose polarity rests on planted words."""
import json
import re

import numpy as np

import tfcourse
from lesson_runner import run_lesson
from test_week11_text import FILLER, GROUPS, polarity_lines

LESSON = "week12_textcnn_sound/12_1_text_cnn_word2vec.py"
POSITIVE, NEGATIVE = GROUPS["truly", "film"], GROUPS["rather", "plot"]


def write_vectors(folder, words, seed=0):
    """11-1's two files: unit vectors, the positive words near +u, the negative ones near -u."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(words), 16))
    vectors[[words.index(w) for w in POSITIVE]] += 3 * vectors[0]
    vectors[[words.index(w) for w in NEGATIVE]] -= 3 * vectors[0]
    folder.mkdir()
    np.save(folder / "embeddings.npy", (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32))
    (folder / "vocabulary.txt").write_text("".join(w + "\n" for w in words), encoding="utf-8")


def test_12_1_looks_the_vocabulary_up_and_trains_both_networks_side_by_side(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    positive, negative = polarity_lines(300, seed=1)
    (data / "rt-polarity.pos").write_text("\n".join(positive), encoding="utf-8")
    (data / "rt-polarity.neg").write_text("\n".join(negative), encoding="utf-8")
    known = ["UNK"] + POSITIVE + NEGATIVE + FILLER[:50]  # f50..f59 are not in 11-1's vocabulary
    write_vectors(tmp_path / "w2v", known)
    out = tmp_path / "run"
    code, stdout, err = run_lesson(LESSON, "--data-dir", data, "--model-dir", tmp_path / "w2v", "--freeze",
                                   "--steps", "60", "--evaluate-every", "30", "--num-filters", "8",
                                   "--lr", "0.01", "--out", out)
    assert code == 0, err
    found, total = map(int, re.search(r"^(\d+) of (\d+) words found among 11-1's 59 ", stdout, re.M).groups())
    assert found == 8 + 50 and total == found + 10 + 2  # + the unknown filler words, padding and [UNK]
    assert "embedding size 16, frozen" in stdout
    lines = re.findall(r"^step (\d+)  random: loss [\d.e-]+, acc ([\d.]+)  \|  word2vec: loss [\d.e-]+, acc ([\d.]+)$",
                       stdout, re.M)
    assert [step for step, _, _ in lines] == ["30", "60"]
    final = json.loads((out / "metrics.json").read_text())["final"]
    assert final["word2vec_dev_accuracy"] >= 0.9 and abs(final["word2vec_dev_accuracy"] - float(lines[-1][2])) < 1e-5
    assert re.search(r"word2vec embedding: dev accuracy [\d.]+ at the end, best [\d.]+ at step (30|60)", stdout)
    assert (out / "dev_accuracy.png").stat().st_size > 5000


def test_12_1_without_11_1_vectors_says_which_command_makes_them(tmp_path, monkeypatch):
    code, out, err = run_lesson(LESSON, "--data", "synthetic", "--model-dir", tmp_path / "nothing",
                                "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert "Cannot read 11-1's word vectors" in err and "python week11_word2vec_textcnn/11_1_word2vec.py" in err
    monkeypatch.setattr(tfcourse, "latest_run", lambda *args, **kwargs: None)  # no run of 11-1 at all
    code, out, err = run_lesson(LESSON, "--data", "synthetic", "--out", tmp_path / "run")
    assert code == 2 and "No finished run of 11-1" in err and "python week11_word2vec_textcnn/11_1_word2vec.py" in err
    assert not (tmp_path / "run").exists()
