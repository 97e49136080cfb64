"""Lesson 12-1 offline: the text CNN starting from word vectors the test makes (in 11-1's files),
beside random initialisation, on sentences whose polarity rests on planted words; damaged or
useless vectors get one message or one note."""
import json
import re

import numpy as np
import pytest

import tfcourse
from lesson_runner import run_lesson
from test_week11_text import GROUPS, polarity_lines

LESSON = "week12_textcnn_sound/12_1_text_cnn_word2vec.py"
POSITIVE, NEGATIVE = GROUPS["truly", "film"], GROUPS["rather", "plot"]
SMALL = ("--num-filters", "8", "--lr", "0.01")


def write_vectors(folder, words, seed=0):
    """11-1's two files: unit vectors, the positive words near +u, the negative ones near -u."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(words), 16))
    vectors[[words.index(w) for w in POSITIVE if w in words]] += 3 * vectors[0]
    vectors[[words.index(w) for w in NEGATIVE if w in words]] -= 3 * vectors[0]
    folder.mkdir()
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(folder / "embeddings.npy", vectors.astype(np.float32))
    (folder / "vocabulary.txt").write_text("".join(w + "\n" for w in words), encoding="utf-8")
    return folder


def write_sentences(folder, count=300, seed=1):
    folder.mkdir()
    positive, negative = polarity_lines(count, seed=seed)
    (folder / "rt-polarity.pos").write_text("\n".join(positive), encoding="utf-8")
    (folder / "rt-polarity.neg").write_text("\n".join(negative), encoding="utf-8")
    return folder


def test_12_1_looks_the_vocabulary_up_and_trains_both_networks_side_by_side(tmp_path):
    """Vectors for 6 of the 68 words (3 positive, 3 negative): the run says how few, in one note
    (issue 22 class 9), and still learns from them."""
    data = write_sentences(tmp_path / "data")
    write_vectors(tmp_path / "w2v", ["UNK"] + POSITIVE[:3] + NEGATIVE[:3] + ["x", "y"])
    out = tmp_path / "run"
    code, stdout, err = run_lesson(LESSON, "--data-dir", data, "--model-dir", tmp_path / "w2v",
                                   "--freeze", "--steps", "60", "--evaluate-every", "30", *SMALL,
                                   "--out", out)
    assert code == 0, err
    assert re.search(r"^6 of 70 words found among 11-1's 9 ", stdout, re.M)  # + <PAD>, <UNK>
    assert "embedding size 16, frozen" in stdout
    assert re.search(r"^注意 Note: only 6 of 68 words have a vector from 11-1, so the word2vec "
                     r"network starts almost as the random one\.$", stdout, re.M)
    lines = re.findall(r"^step (\d+)  random: loss [\d.e-]+, acc ([\d.]+)  \|  "
                       r"word2vec: loss [\d.e-]+, acc ([\d.]+)$", stdout, re.M)
    assert [step for step, _, _ in lines] == ["30", "60"]
    record = json.loads((out / "metrics.json").read_text())
    final = record["final"]
    assert final["word2vec_dev_accuracy"] >= 0.9
    assert final["word2vec_dev_accuracy"] == pytest.approx(float(lines[-1][2]), abs=1e-5)
    assert [point["step"] for point in record["progress"]] == [30, 60]
    assert re.search(r"word2vec embedding: dev accuracy [\d.]+ at the end, best [\d.]+ at step "
                     r"(30|60)", stdout)
    assert (out / "dev_accuracy.png").stat().st_size > 5000


def test_12_1_without_11_1_vectors_says_which_command_makes_them(tmp_path, monkeypatch):
    code, out, err = run_lesson(LESSON, "--data", "synthetic", "--model-dir", tmp_path / "none",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "Cannot read 11-1's word vectors" in err
    assert "python week11_word2vec_textcnn/11_1_word2vec.py" in err
    monkeypatch.setattr(tfcourse, "latest_run", lambda *args, **kwargs: None)  # no 11-1 run
    code, out, err = run_lesson(LESSON, "--data", "synthetic", "--out", tmp_path / "run")
    assert code == 1 and "No finished run of 11-1" in err
    assert "python week11_word2vec_textcnn/11_1_word2vec.py" in err
    assert not (tmp_path / "run").exists()


WORDS = ["UNK", "good", "bad", "film"]


def damage(folder, case):
    """11-1's files, damaged the ways a crash, an edit or another tool damages them."""
    folder.mkdir()
    vectors = np.random.default_rng(0).normal(size=(len(WORDS), 8)).astype(np.float32)
    (folder / "vocabulary.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    if case == "nan row":
        vectors[2] = np.nan
    elif case == "infinite":
        vectors[1, 3] = np.inf
    elif case == "integers":
        vectors = np.arange(len(WORDS) * 8).reshape(len(WORDS), 8)
    elif case == "one dimension":
        vectors = vectors[:, 0]
    elif case == "rows and words differ":
        vectors = vectors[:3]
    if case == "pickled objects":
        np.save(folder / "embeddings.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif case == "truncated":
        np.save(folder / "embeddings.npy", vectors)
        data = (folder / "embeddings.npy").read_bytes()
        (folder / "embeddings.npy").write_bytes(data[:len(data) // 2])
    else:
        np.save(folder / "embeddings.npy", vectors)


@pytest.mark.parametrize("case, phrase", [  # issue 22 class 6: files from an earlier lesson
    ("nan row", "holds NaN or infinite numbers in 1 rows (the first: row 2, 'bad')"),
    ("infinite", "holds NaN or infinite numbers in 1 rows (the first: row 1, 'good')"),
    ("integers", "holds int64 values, not vectors"),
    ("one dimension", "has the shape (4,), not (words, size)"),
    ("rows and words differ", "has 3 rows but vocabulary.txt 4 words"),
    ("pickled objects", "Cannot read 11-1's word vectors"),
    ("truncated", "Cannot read 11-1's word vectors"),
])
def test_12_1_damaged_vectors_get_one_message_naming_the_file_and_11_1(case, phrase, tmp_path):
    damage(tmp_path / "w2v", case)
    code, out, err = run_lesson(LESSON, "--data", "synthetic", "--model-dir", tmp_path / "w2v",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err and phrase in err
    assert str(tmp_path / "w2v") in err and "python week11_word2vec_textcnn/11_1_word2vec.py" in err
    assert not (tmp_path / "run").exists()
    assert sorted(p.name for p in (tmp_path / "w2v").iterdir()) == ["embeddings.npy",
                                                                   "vocabulary.txt"]


@pytest.mark.parametrize("flags, phrase", [  # class 3 and 7
    (("--model-dir", "FILE"), "--model-dir: FILE is a file, not a folder"),
    (("--num-filters", "0"), "--num_filters: expected a whole number from 1 to 1024"),
    (("--dropout-keep-prob", "1.5"), "expected a finite number above 0 up to 1"),
    (("--data-dir", "FILE"), "FILE is a file but not a .csv file"),
])
def test_12_1_bad_flags_are_refused_at_once(flags, phrase, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("not a folder")
    code, out, err = run_lesson(LESSON, "--data", "synthetic", *flags, "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err and phrase in err
    assert not (tmp_path / "run").exists() and (tmp_path / "FILE").read_text() == "not a folder"
