"""Week 10: captchas -> TFRecord -> four-headed network -> test, in --quick mode on a few hundred captchas."""
import re

import numpy as np
import pytest

from lesson_runner import run_lesson

WEEK = "week10_captcha_tfrecord"


@pytest.fixture(scope="module")
def week10(tmp_path_factory):
    """Run 10-1 and 10-2 once (300 captchas, 60 kept for testing) for all tests of this module."""
    root = tmp_path_factory.mktemp("week10")
    gen = run_lesson(f"{WEEK}/10_1_generate_captcha.py", "--quick", "--out", root / "gen")
    images = root / "gen" / "images"
    (images / "notes.txt").write_text("not a captcha")       # must be skipped and counted
    (images / "12345.jpg").write_bytes(b"")                  # five digits: skipped too
    rec = run_lesson(f"{WEEK}/10_2_tfrecord.py", "--quick", "--images", images, "--out", root / "rec")
    return {"root": root, "gen": gen, "rec": rec, "images": images, "records": root / "rec"}


def test_generate_writes_as_many_files_as_it_says(week10):
    code, out, err = week10["gen"]
    assert code == 0, err
    assert ">> Creating image 300/300" in out and "生成完毕" in out
    written = re.search(r"(\d+) pictures written", out).group(1)
    names = [p.name for p in week10["images"].glob("*.jpg")]
    assert int(written) == 300 == len([n for n in names if re.fullmatch(r"\d{4}\.jpg", n)])


def test_generate_is_reproducible_with_seed(tmp_path):
    def generate():
        code, _, err = run_lesson(f"{WEEK}/10_1_generate_captcha.py", "--count", "5", "--seed", "7",
                                  "--out", tmp_path)
        assert code == 0, err
        return {p.name: p.read_bytes() for p in (tmp_path / "images").glob("*.jpg")}

    first = generate()
    assert len(first) == 5
    assert generate() == first   # same texts, same pictures, byte for byte


def test_tfrecord_round_trip(week10):
    import tensorflow as tf
    from PIL import Image
    code, out, err = week10["rec"]
    assert code == 0, err
    assert ">> Converting image 240/240" in out and ">> Converting image 60/60" in out
    assert "skipped 2 file(s)" in out
    assert not list(week10["records"].glob("*.partial"))
    seen = 0
    for name, expected in (("train.tfrecords", 240), ("test.tfrecords", 60)):
        records = list(tf.data.TFRecordDataset(str(week10["records"] / name)))
        assert len(records) == expected
        for raw in records[:5]:
            example = tf.train.Example.FromString(raw.numpy())
            f = example.features.feature
            text = "".join(str(f[f"label{i}"].int64_list.value[0]) for i in range(4))
            with Image.open(week10["images"] / f"{text}.jpg") as picture:
                pixels = np.asarray(picture.convert("L").resize((224, 224)), dtype=np.uint8)
            assert f["image"].bytes_list.value[0] == pixels.tobytes()
            seen += 1
    assert seen == 10


def test_train_learns_and_test_prints_label_predict(week10, tmp_path):
    train_dir = tmp_path / "train"
    code, out, err = run_lesson(f"{WEEK}/10_3_train.py", "--quick", "--records", week10["records"],
                                "--out", train_dir)
    assert code == 0, err
    lines = re.findall(r"Iter:(\d+)  Loss:([\d.]+)  Accuracy:([\d.]+),([\d.]+),([\d.]+),([\d.]+)  "
                       r"Learning_rate:([\d.]+)", out)
    assert lines and lines[0][0] == "0" and lines[0][6] == "0.0030"
    losses = [float(line[1]) for line in lines]
    assert np.mean(losses[-3:]) < losses[0] - 0.5
    per_char = [float(a) for a in re.search(r"per character ([\d.]+),([\d.]+),([\d.]+),([\d.]+)", out).groups()]
    assert np.mean(per_char) > 0.25, out   # chance is 0.1; 151 steps on 240 captchas
    assert list((train_dir / "checkpoints").glob("ckpt-*.index"))

    # resumes from the checkpoint instead of starting over
    code, out2, err = run_lesson(f"{WEEK}/10_3_train.py", "--quick", "--steps", "161",
                                 "--records", week10["records"], "--out", train_dir)
    assert code == 0, err
    assert "resumed from" in out2 and "Iter:140" not in out2 and "Iter:160" in out2

    code, out, err = run_lesson(f"{WEEK}/10_4_test.py", "--train-dir", train_dir, "--records",
                                week10["records"], "--out", tmp_path / "test")
    assert code == 0, err
    assert len(re.findall(r"^label: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)) == 10
    assert len(re.findall(r"^predict: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)) == 10
    assert "whole captcha" in out and (tmp_path / "test" / "predictions.png").exists()

    # a picture of the wrong size is resized, not rejected
    from PIL import Image
    picture = next(week10["images"].glob("*.jpg"))
    Image.open(picture).resize((300, 90)).save(tmp_path / "big.png")
    code, out, err = run_lesson(f"{WEEK}/10_4_test.py", "--train-dir", train_dir,
                                "--image", tmp_path / "big.png", "--out", tmp_path / "test")
    assert code == 0, err
    assert "resized" in out and re.search(r"predict: \[\d\] \[\d\] \[\d\] \[\d\] -> \d{4}", out)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_tfrecord_is_one_clear_message(week10, tmp_path, damage):
    data = bytearray((week10["records"] / "train.tfrecords").read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2 + 1000]  # in the middle of a record
    else:
        data[len(data) // 3] ^= 0xFF
    (tmp_path / "train.tfrecords").write_bytes(bytes(data))
    code, out, err = run_lesson(f"{WEEK}/10_3_train.py", "--quick", "--records", tmp_path,
                                "--out", tmp_path / "train")
    assert code != 0
    assert "train.tfrecords" in err and re.search(r"near byte [\d,]+", err), err
    assert "Traceback" not in err and "Iter:" not in out
