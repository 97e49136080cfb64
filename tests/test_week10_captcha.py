"""Week 10: captchas -> TFRecord -> four-headed network -> test, on a few hundred captchas, and
one test per bad input (damaged records, another model's checkpoint, a cut model.json, ...)."""
import json
import re
import shutil

import numpy as np
import pytest

from lesson_runner import run_lesson

WEEK = "week10_captcha_tfrecord"
GENERATE, RECORDS, TRAIN, TEST = (f"{WEEK}/{name}.py" for name in
                                  ("10_1_generate_captcha", "10_2_tfrecord", "10_3_train", "10_4_test"))


@pytest.fixture(scope="module")
def week10(tmp_path_factory):
    """10-1, 10-2 and 10-3 once, --quick (300 captchas, 60 kept for testing, 101 steps)."""
    root = tmp_path_factory.mktemp("week10")
    gen = run_lesson(GENERATE, "--quick", "--out", root / "gen")
    images = root / "gen" / "images"
    (images / "notes.txt").write_text("not a captcha")       # must be skipped and counted
    (images / "12345.jpg").write_bytes(b"")                  # five digits: skipped too
    rec = run_lesson(RECORDS, "--quick", "--data-dir", images, "--out", root / "rec")
    train = run_lesson(TRAIN, "--quick", "--data-dir", root / "rec", "--out", root / "train")
    return {"root": root, "gen": gen, "rec": rec, "train": train, "images": images,
            "records": root / "rec", "model": root / "train"}


def test_generate_writes_as_many_files_as_it_says(week10):
    code, out, err = week10["gen"]
    assert code == 0, err
    assert ">> Creating image 300/300" in out and "生成完毕" in out
    written = re.search(r"(\d+) pictures in", out).group(1)
    names = [p.name for p in week10["images"].glob("*.jpg")]
    assert int(written) == 300 == len([n for n in names if re.fullmatch(r"\d{4}\.jpg", n)])
    assert not list((week10["root"] / "gen").glob(".images*"))  # the temporary folder is gone


def test_generate_is_reproducible_with_seed(tmp_path):
    def generate():
        code, _, err = run_lesson(GENERATE, "--count", "4", "--seed", "7", "--out", tmp_path)
        assert code == 0, err
        return {p.name: p.read_bytes() for p in (tmp_path / "images").glob("*.jpg")}

    first = generate()
    assert len(first) == 4
    assert generate() == first   # same texts, same pictures, byte for byte


def test_tfrecord_round_trip(week10):
    import tensorflow as tf
    from PIL import Image
    code, out, err = week10["rec"]
    assert code == 0, err
    assert ">> Converting image 240/240" in out and ">> Converting image 60/60" in out
    assert "skipped 2 file(s)" in out
    assert sorted(p.name for p in week10["records"].iterdir() if "tfrecord" in p.name) == \
        ["test.tfrecords", "train.tfrecords"]  # no temporary file left
    seen = 0
    for name, expected in (("train.tfrecords", 240), ("test.tfrecords", 60)):
        records = list(tf.data.TFRecordDataset(str(week10["records"] / name)))
        assert len(records) == expected
        for raw in records[:3]:
            f = tf.train.Example.FromString(raw.numpy()).features.feature
            text = "".join(str(f[f"label{i}"].int64_list.value[0]) for i in range(4))
            with Image.open(week10["images"] / f"{text}.jpg") as picture:
                pixels = np.asarray(picture.convert("L").resize((224, 224)), dtype=np.uint8)
            assert f["image"].bytes_list.value[0] == pixels.tobytes()
            seen += 1
    assert seen == 6


def test_tfrecord_split_follows_the_seed(week10, tmp_path):
    import tensorflow as tf
    (tmp_path / "images").mkdir()
    for picture in sorted(week10["images"].glob("*.jpg"))[:12]:
        shutil.copy(picture, tmp_path / "images")

    def test_labels(seed):
        code, _, err = run_lesson(RECORDS, "--data-dir", tmp_path / "images", "--test-count", "6",
                                  "--seed", seed, "--out", tmp_path / seed)
        assert code == 0, err
        return [[tf.train.Example.FromString(r.numpy()).features.feature[f"label{i}"].int64_list.value[0]
                 for i in range(4)] for r in tf.data.TFRecordDataset(str(tmp_path / seed / "test.tfrecords"))]

    assert test_labels("0") != test_labels("1")  # --seed is used (the lesson's 0 is the default)


def test_train_learns_and_test_prints_label_predict(week10, tmp_path):
    code, out, err = week10["train"]
    assert code == 0, err
    lines = re.findall(r"Iter:(\d+)  Loss:([\d.]+)  Accuracy:([\d.]+),([\d.]+),([\d.]+),([\d.]+)  "
                       r"Learning_rate:([\d.]+)", out)
    assert [line[0] for line in lines] == ["0", "20", "40", "60", "80", "100"] and lines[0][6] == "0.0030"
    losses = [float(line[1]) for line in lines]
    assert np.mean(losses[-2:]) < losses[0] - 0.5
    per_char = [float(a) for a in re.search(r"per character ([\d.]+),([\d.]+),([\d.]+),([\d.]+)", out).groups()]
    assert np.mean(per_char) > 0.2, out   # chance is 0.1; 101 steps on 240 captchas
    assert list((week10["model"] / "checkpoints").glob("ckpt-101.index"))

    code, out, err = run_lesson(TEST, "--model-dir", week10["model"], "--data-dir", week10["records"],
                                "--out", tmp_path / "test")
    assert code == 0, err
    assert len(re.findall(r"^label: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)) == 10
    assert len(re.findall(r"^predict: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)) == 10
    whole = re.search(r"\(60 captchas\): accuracy per character ([\d.,]+); whole captcha", out)
    assert whole and whole.group(1) == ",".join(f"{a:.3f}" for a in per_char)  # same model, same file
    assert (tmp_path / "test" / "predictions.png").stat().st_size > 10_000

    # a picture of the wrong size is resized, not rejected
    from PIL import Image
    picture = next(week10["images"].glob("*.jpg"))
    Image.open(picture).resize((300, 90)).save(tmp_path / "big.png")
    code, out, err = run_lesson(TEST, "--model-dir", week10["model"], "--image", tmp_path / "big.png",
                                "--out", tmp_path / "one")
    assert code == 0, err
    assert "resized" in out and re.search(r"predict: \[\d\] \[\d\] \[\d\] \[\d\] -> \d{4}", out)


def test_train_goes_on_from_its_checkpoint(week10, tmp_path):
    model = tmp_path / "train"
    shutil.copytree(week10["model"], model)
    code, out, err = run_lesson(TRAIN, "--quick", "--steps", "121", "--data-dir", week10["records"], "--out", model)
    assert code == 0, err
    assert "resumed from" in out and "at step 101" in out and "Iter:100" not in out and "Iter:120" in out


# ---------------------------------------------------------------- bad input: one clear message each

def fails(script, *args, code=1):
    result, out, err = run_lesson(script, *args)
    assert result == code and "Traceback" not in err, (result, err)
    return out, err


def foreign_checkpoint(folder):
    """What lesson 8-1 saves (W 784x10, b 10) where 10-3 keeps its checkpoints, with a model.json."""
    import tensorflow as tf
    W, b = tf.Variable(tf.zeros([784, 10])), tf.Variable(tf.zeros([10]))
    tf.train.CheckpointManager(tf.train.Checkpoint(W=W, b=b), folder / "checkpoints", max_to_keep=1).save()
    (folder / "model.json").write_text(json.dumps({"arch": "cnn", "head": "four", "input_size": [24, 48]}))


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign"])
def test_damaged_tfrecord_is_one_clear_message(week10, tmp_path, damage):
    import tensorflow as tf
    data = bytearray((week10["records"] / "train.tfrecords").read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2 + 1000]  # in the middle of a record
    elif damage == "flip":
        data[len(data) // 3] ^= 0xFF
    (tmp_path / "train.tfrecords").write_bytes(bytes(data))
    if damage == "foreign":  # 9-2's kind of records, not 10-2's
        with tf.io.TFRecordWriter(str(tmp_path / "train.tfrecords")) as writer:
            writer.write(tf.train.Example(features=tf.train.Features(feature={"image/encoded": tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[b"jpeg"]))})).SerializeToString())
    out, err = fails(TRAIN, "--quick", "--data-dir", tmp_path, "--out", tmp_path / "train")
    phrase = {"truncate": r"is (truncated|damaged) near byte [\d,]+", "flip": r"is damaged near byte [\d,]+",
              "foreign": r"are of another kind, not tf.train.Examples with the features image, label0"}[damage]
    assert "train.tfrecords" in err and re.search(phrase, err) and "10_2_tfrecord.py" in err, err
    assert "Iter:" not in out and not (tmp_path / "train").exists()


def test_test_refuses_another_models_checkpoint(week10, tmp_path):
    foreign_checkpoint(tmp_path / "model")
    out, err = fails(TEST, "--model-dir", tmp_path / "model", "--data-dir", week10["records"], "--out", tmp_path / "t")
    assert "is not one of the network cnn_four" in err and "W (784, 10), b (10,)" in err
    assert "10_3_train.py" in err and "restored" not in out and not (tmp_path / "t").exists()


def test_train_refuses_to_resume_from_another_models_checkpoint(week10, tmp_path):
    foreign_checkpoint(tmp_path / "model")
    before = {p.name: p.read_bytes() for p in (tmp_path / "model").rglob("*") if p.is_file()}
    out, err = fails(TRAIN, "--quick", "--data-dir", week10["records"], "--out", tmp_path / "model")
    assert "is not one of the network cnn_four" in err and "--restart" in err
    assert "resumed" not in out and "Iter:" not in out
    after = {p.name: p.read_bytes() for p in (tmp_path / "model").rglob("*") if p.is_file()}
    assert {k: v for k, v in after.items() if k in before} == before  # checkpoints and model.json untouched


def test_train_refuses_checkpoints_of_another_network_size(week10, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(week10["model"], model)
    out, err = fails(TRAIN, "--quick", "--input-size", "32x64", "--data-dir", week10["records"], "--out", model)
    assert "belong to another network" in err and "[24, 48]" in err and "--restart" in err


@pytest.mark.parametrize("case", ["truncated", "missing"])
def test_test_without_a_usable_model_json(week10, tmp_path, case):
    model = tmp_path / "model"
    if case == "truncated":
        shutil.copytree(week10["model"], model)
        (model / "model.json").write_text((week10["model"] / "model.json").read_text()[:20])
        phrase = "model.json is damaged or not 10-3's"
    else:  # e.g. lesson 8-1's run folder given by mistake
        (model / "net_tf2").mkdir(parents=True)
        phrase = "model.json is missing (the folder holds net_tf2/)"
    out, err = fails(TEST, "--model-dir", model, "--data-dir", week10["records"], "--out", tmp_path / "t")
    assert phrase in err and "10_3_train.py" in err and "--model-dir" in err, err


def test_every_lesson_says_which_lesson_to_run_first(tmp_path, monkeypatch):
    import tfcourse
    monkeypatch.setattr(tfcourse, "latest_run", lambda *args, **kwargs: None)  # a fresh clone: no runs yet
    for script, before in ((RECORDS, "10_1_generate_captcha.py"), (TRAIN, "10_2_tfrecord.py"),
                           (TEST, "10_3_train.py")):
        out, err = fails(script, "--quick", "--out", tmp_path / "run")
        assert f"run python {WEEK}/{before} first" in err and not (tmp_path / "run").exists(), err


def test_bad_numbers_and_pictures(week10, tmp_path):
    _, err = fails(GENERATE, "--count", "20000", "--out", tmp_path / "a", code=2)
    assert "at most 10000" in err
    _, err = fails(TRAIN, "--input-size", "big", "--out", tmp_path / "b", code=2)
    assert "HEIGHTxWIDTH" in err
    _, err = fails(RECORDS, "--data-dir", week10["images"], "--test-count", "300", "--out", tmp_path / "c")
    assert "not more than the 300 kept for testing" in err
    (tmp_path / "note.jpg").write_text("not a picture")
    _, err = fails(TEST, "--model-dir", week10["model"], "--image", tmp_path / "note.jpg", "--out", tmp_path / "d")
    assert "Cannot read the picture" in err
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # no run folder left by the failures


def test_interrupted_conversion_leaves_no_record_file(week10, tmp_path, monkeypatch):
    import tensorflow as tf
    real, written = tf.io.TFRecordWriter, []

    class Interrupted(real):  # Ctrl-C part-way through the test file
        def write(self, record):
            written.append(record)
            if len(written) > 250:
                raise KeyboardInterrupt
            super().write(record)

    monkeypatch.setattr(tf.io, "TFRecordWriter", Interrupted)
    code, out, err = run_lesson(RECORDS, "--quick", "--data-dir", week10["images"], "--out", tmp_path / "rec")
    assert code == 130 and "Traceback" not in err
    left = [p.name for p in (tmp_path / "rec").iterdir()] if (tmp_path / "rec").exists() else []
    assert not [name for name in left if "tfrecord" in name], left  # neither file, nor a temporary one
