"""Week 10: captchas -> TFRecord -> four-headed network -> test, each lesson run whole on a few
hundred captchas, and the bad inputs of issue 22 (ranges, path kinds, damaged files from the
lesson before, a run stopped part-way): one message each, and nothing half-written left behind."""
import json
import re
import shutil

import numpy as np
import pytest

from lesson_runner import run_lesson

WEEK = "week10_captcha_tfrecord"
GENERATE, RECORDS, TRAIN, TEST = (f"{WEEK}/{name}.py" for name in
                                  ("10_1_generate_captcha", "10_2_tfrecord", "10_3_train",
                                   "10_4_test"))


def record(folder):
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


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
    assert record(week10["root"] / "gen")["progress"][-1] == {"images": 300}


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
    assert record(week10["records"])["progress"] == [{"train_records": 240},
                                                     {"test_records": 60}]
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
        code, _, err = run_lesson(RECORDS, "--data-dir", tmp_path / "images", "--test-count",
                                  "6", "--seed", seed, "--out", tmp_path / seed)
        assert code == 0, err
        return [[tf.train.Example.FromString(r.numpy()).features.feature[f"label{i}"]
                 .int64_list.value[0] for i in range(4)]
                for r in tf.data.TFRecordDataset(str(tmp_path / seed / "test.tfrecords"))]

    assert test_labels("0") != test_labels("1")  # --seed is used (the lesson's 0 is the default)


def test_train_learns_and_test_prints_label_predict(week10, tmp_path):
    code, out, err = week10["train"]
    assert code == 0, err
    lines = re.findall(r"^Iter:(\d+)  Loss:([\d.]+)  Accuracy:([\d.]+),([\d.]+),([\d.]+),"
                       r"([\d.]+)  Learning_rate:([\d.]+)$", out, re.M)
    assert [line[0] for line in lines] == ["0", "20", "40", "60", "80", "100"]
    assert lines[0][6] == "0.0030"
    losses = [float(line[1]) for line in lines]
    assert np.mean(losses[-2:]) < losses[0] - 0.5
    per_char = [float(a) for a in re.search(r"per character ([\d.]+),([\d.]+),([\d.]+),([\d.]+)",
                                            out).groups()]
    assert np.mean(per_char) > 0.2, out   # chance is 0.1; 101 steps on 240 captchas
    assert list((week10["model"] / "checkpoints").glob("ckpt-101.index"))
    assert [p["step"] for p in record(week10["model"])["progress"]] == [0, 20, 40, 60, 80, 100]

    code, out, err = run_lesson(TEST, "--model-dir", week10["model"], "--data-dir",
                                week10["records"], "--out", tmp_path / "test")
    assert code == 0, err
    assert len(re.findall(r"^label: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)) == 10
    assert len(re.findall(r"^predict: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)) == 10
    whole = re.search(r"\(60 captchas\): accuracy per character ([\d.,]+); whole captcha", out)
    assert whole and whole.group(1) == ",".join(f"{a:.3f}" for a in per_char)  # same model
    assert (tmp_path / "test" / "predictions.png").stat().st_size > 10_000

    # a picture of the wrong size is resized, not rejected
    from PIL import Image
    picture = next(week10["images"].glob("*.jpg"))
    Image.open(picture).resize((300, 90)).save(tmp_path / "big.png")
    code, out, err = run_lesson(TEST, "--model-dir", week10["model"], "--image",
                                tmp_path / "big.png", "--out", tmp_path / "one")
    assert code == 0, err
    assert "resized" in out and re.search(r"^predict: \[\d\] \[\d\] \[\d\] \[\d\]$", out, re.M)
    assert re.search(r"big.png -> \d{4}$", out, re.M)


def test_train_stopped_after_resuming_keeps_a_checkpoint(week10, tmp_path, monkeypatch):
    """Resume from step 101, then SIGTERM (as tfcourse.cli.Stopped) at Iter:120: a checkpoint of
    step 121, no model.keras half-written, and the record says 'interrupted'."""
    import tfcourse.cli
    model = tmp_path / "train"
    shutil.copytree(week10["model"], model)
    saved_model = (model / "model.keras").read_bytes()
    log = tfcourse.cli.Run.log

    def stopped_at_120(self, **values):
        log(self, **values)
        if values.get("step") == 120:
            raise tfcourse.cli.Stopped("SIGTERM")

    monkeypatch.setattr(tfcourse.cli.Run, "log", stopped_at_120)
    code, out, err = run_lesson(TRAIN, "--quick", "--steps", "201", "--data-dir",
                                week10["records"], "--out", model)
    assert code == 130 and "Traceback" not in err and "Interrupted (SIGTERM)" in err, err
    assert "resumed from" in out and "at step 101" in out
    assert "Iter:100" not in out and "Iter:120" in out and "Iter:140" not in out
    assert "saved" in out and (model / "checkpoints" / "ckpt-121.index").exists()
    assert record(model)["status"] == "interrupted"
    assert (model / "model.keras").read_bytes() == saved_model  # the finished run's, untouched
    assert not [p.name for p in model.iterdir() if p.name.startswith(".")]  # no temporary file


@pytest.mark.parametrize("lesson", ["10-1", "10-2"])
def test_stopped_while_writing_leaves_no_partial_file(week10, tmp_path, monkeypatch, lesson):
    """SIGTERM (tfcourse.cli.Stopped, as the signal handler raises it) part-way through the
    pictures or the records: neither the data nor a temporary file is left."""
    import tensorflow as tf
    from captcha.image import ImageCaptcha

    import tfcourse.cli
    calls = []

    def stop_after(real, n):
        def patched(*args, **kwargs):
            calls.append(1)
            if len(calls) > n:
                raise tfcourse.cli.Stopped("SIGTERM")
            return real(*args, **kwargs)
        return patched

    if lesson == "10-1":
        monkeypatch.setattr(ImageCaptcha, "generate_image",
                            stop_after(ImageCaptcha.generate_image, 20))
        code, out, err = run_lesson(GENERATE, "--count", "50", "--out", tmp_path / "run")
    else:
        class Writer(tf.io.TFRecordWriter):  # stopped part-way through the test file
            write = stop_after(tf.io.TFRecordWriter.write, 250)
        monkeypatch.setattr(tf.io, "TFRecordWriter", Writer)
        code, out, err = run_lesson(RECORDS, "--quick", "--data-dir", week10["images"],
                                    "--out", tmp_path / "run")
    assert code == 130 and "Traceback" not in err and "Interrupted (SIGTERM)" in err, err
    if lesson == "10-1":  # stopped before its first progress point: no run folder at all
        assert not (tmp_path / "run").exists()
    else:
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["log.txt",
                                                                        "metrics.json"]
        assert record(tmp_path / "run")["status"] == "interrupted"


# ---------------------------------------------------------------- bad input: one message each

def fails(script, *args, code=1):
    result, out, err = run_lesson(script, *args)
    assert result == code and "Traceback" not in err, (result, out, err)
    return out, err


# Class 3: numbers out of range and impossible combinations (before anything is written).
@pytest.mark.parametrize("script, flags, code, phrase", [
    (GENERATE, ["--count", "20000"], 2, "expected a whole number from 1 to 10000"),
    (GENERATE, ["--count", "0"], 2, "expected a whole number from 1 to 10000"),
    (GENERATE, ["--seed", "-1"], 2, "--seed: expected a whole number from 0"),
    (RECORDS, ["--test-count", "0"], 2, "--test-count: expected a whole number above 0"),
    (TRAIN, ["--input-size", "big"], 2, "expected HEIGHTxWIDTH, each 16 to 224"),
    (TRAIN, ["--input-size", "8x8"], 2, "expected HEIGHTxWIDTH, each 16 to 224"),
    (TRAIN, ["--batch-size", "5000"], 2, "--batch-size: expected a whole number from 1 to 1000"),
    (TRAIN, ["--arch", "alexnet_v2", "--input-size", "48x96"], 1,
     "--arch alexnet_v2 takes 224x224 pictures, not 48x96"),
    (TEST, ["--samples", "500"], 2, "--samples: expected a whole number from 0 to 100"),
    (TEST, ["--fresh-seed", "-5"], 2, "--fresh-seed: expected a whole number from 0"),
])
def test_numbers_out_of_range(tmp_path, script, flags, code, phrase):
    _, err = fails(script, *flags, "--out", tmp_path / "run", code=code)
    assert phrase in err, err
    assert not (tmp_path / "run").exists()


def test_more_kept_for_testing_than_there_are_pictures(week10, tmp_path):
    _, err = fails(RECORDS, "--data-dir", week10["images"], "--test-count", "300",
                   "--out", tmp_path / "run")
    assert "holds 300 captcha pictures, not more than the 300 kept for testing" in err
    assert "--test-count below 300" in err and not (tmp_path / "run").exists()


# Class 7: a path flag naming the wrong kind of thing.
@pytest.mark.parametrize("script, flag, kind", [
    (RECORDS, "--data-dir", "file"), (TRAIN, "--data-dir", "file"),
    (TEST, "--model-dir", "file"), (TEST, "--image", "folder"), (GENERATE, "--out", "file")])
def test_path_of_the_wrong_kind(tmp_path, script, flag, kind):
    (tmp_path / "a_file.txt").write_text("not a folder")
    (tmp_path / "a_folder").mkdir()
    given = tmp_path / ("a_file.txt" if kind == "file" else "a_folder")
    out = [] if flag == "--out" else ["--out", tmp_path / "run"]
    _, err = fails(script, flag, given, *out, code=2)
    assert f"{flag}: {given} is a {kind}, not a {'folder' if kind == 'file' else 'file'}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.txt", "a_folder"]


# Class 6: what 10-3 and 10-4 read from the lesson before, damaged, missing or foreign.
def foreign_records(path, feature):
    """One record with `feature` ({name: bytes or int}) where 10-2's records belong."""
    import tensorflow as tf
    feature = {name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
               if isinstance(value, bytes) else
               tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
               for name, value in feature.items()}
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(tf.train.Example(features=tf.train.Features(feature=feature))
                     .SerializeToString())


def foreign_model(path):
    """A Keras model of another lesson (8-1's softmax layer) where 10-3's model.keras belongs."""
    import tensorflow as tf
    tf.keras.Sequential([tf.keras.Input((784,)), tf.keras.layers.Dense(10)]).save(path)


@pytest.mark.parametrize("case", ["truncated", "flipped", "foreign", "160x60 pictures", "empty",
                                  "no test file"])
def test_train_on_damaged_records(week10, tmp_path, case):
    data = bytearray((week10["records"] / "train.tfrecords").read_bytes())
    shutil.copy(week10["records"] / "test.tfrecords", tmp_path)
    if case == "truncated":
        data = data[: len(data) // 2 + 1000]  # in the middle of a record
    elif case == "flipped":
        data[len(data) // 3] ^= 0xFF
    elif case == "empty":
        data = b""
    (tmp_path / "train.tfrecords").write_bytes(bytes(data))
    if case == "foreign":  # 9-2's kind of records
        foreign_records(tmp_path / "train.tfrecords", {"image/encoded": b"jpeg"})
    if case == "160x60 pictures":  # 10-2's features, pictures not resized to 224x224
        foreign_records(tmp_path / "train.tfrecords", {"image": bytes(160 * 60), "label0": 1,
                                                        "label1": 2, "label2": 3, "label3": 4})
    if case == "no test file":
        (tmp_path / "test.tfrecords").unlink()
    out, err = fails(TRAIN, "--quick", "--data-dir", tmp_path, "--out", tmp_path / "train")
    phrase = {"truncated": r"train.tfrecords is (truncated|damaged) near byte [\d,]+",
              "flipped": r"train.tfrecords is damaged near byte [\d,]+",
              "foreign": r"train.tfrecords are of another kind, not tf.train.Examples with the "
                         r"features image, label0",
              "160x60 pictures": r"train.tfrecords hold pictures of 9,600 bytes, not 224x224",
              "empty": r"train.tfrecords holds no records",
              "no test file": r"test.tfrecords does not exist"}[case]
    assert re.search(phrase, err) and f"python {WEEK}/10_2_tfrecord.py" in err, err
    assert "Iter:" not in out and not (tmp_path / "train").exists()


@pytest.mark.parametrize("case", ["missing", "truncated", "foreign", "damaged test file"])
def test_test_with_a_damaged_model_or_test_file(week10, tmp_path, case):
    model, records = tmp_path / "model", week10["records"]
    model.mkdir()
    if case == "missing":  # e.g. lesson 8-1's run folder given by mistake
        (model / "net_tf2").mkdir()
    elif case == "truncated":
        (model / "model.keras").write_bytes((week10["model"] / "model.keras").read_bytes()[:5000])
    elif case == "foreign":
        foreign_model(model / "model.keras")
    else:
        shutil.copy(week10["model"] / "model.keras", model)
        records = tmp_path / "records"
        records.mkdir()
        data = (week10["records"] / "test.tfrecords").read_bytes()
        (records / "test.tfrecords").write_bytes(data[:-100])
    out, err = fails(TEST, "--model-dir", model, "--data-dir", records, "--out", tmp_path / "t")
    phrase, remedy = {
        "missing": ("No model of lesson 10-3 in", "10_3_train.py"),
        "truncated": ("model.keras cannot be read as a Keras model", "10_3_train.py"),
        "foreign": ("model.keras is not 10-3's captcha reader: it takes (None, 784)",
                    "10_3_train.py"),
        "damaged test file": (r"test.tfrecords is (truncated|damaged) near byte",
                              "10_2_tfrecord.py")}[case]
    assert re.search(re.escape(phrase) if case != "damaged test file" else phrase, err), err
    assert f"python {WEEK}/{remedy}" in err, err
    assert "label:" not in out and not (tmp_path / "t").exists()


def foreign_checkpoint(folder):
    """What lesson 8-1 saves (W 784x10, b 10) where 10-3 keeps its checkpoints."""
    import tensorflow as tf
    W, b = tf.Variable(tf.zeros([784, 10])), tf.Variable(tf.zeros([10]))
    tf.train.CheckpointManager(tf.train.Checkpoint(W=W, b=b), folder / "checkpoints",
                               max_to_keep=1).save()


@pytest.mark.parametrize("case", ["foreign checkpoint", "other size", "damaged model.json"])
def test_train_refuses_to_resume_from_checkpoints_not_its_own(week10, tmp_path, case):
    model = tmp_path / "model"
    flags = []
    if case == "foreign checkpoint":
        foreign_checkpoint(model)
        (model / "model.json").write_text(json.dumps(
            {"arch": "cnn", "head": "four", "input_size": [24, 48]}))
        phrase = "is not one of the network cnn_four (35 variables): it holds 2 variables: W " \
                 "(784, 10), b (10,)"
    elif case == "other size":
        shutil.copytree(week10["model"], model)
        flags = ["--input-size", "32x64"]
        phrase = "belong to another network ({'arch': 'cnn', 'head': 'four', 'input_size': [24, 48]"
    else:
        shutil.copytree(week10["model"], model)
        (model / "model.json").write_text('{"arch": "cn')
        phrase = "have no readable model.json beside them"
    before = {p.name: p.read_bytes() for p in model.rglob("*") if p.is_file()}
    out, err = fails(TRAIN, "--quick", *flags, "--data-dir", week10["records"], "--out", model)
    assert phrase in err and "Remedy: add --restart" in err, err
    assert "resumed" not in out and "Iter:" not in out
    after = {p.name: p.read_bytes() for p in model.rglob("*") if p.is_file()}
    keep = {k: v for k, v in before.items() if k not in ("log.txt", "metrics.json")}
    assert {k: after[k] for k in keep} == keep  # checkpoints, model.json and model.keras untouched


def test_every_lesson_says_which_lesson_to_run_first(tmp_path, monkeypatch):
    import tfcourse
    monkeypatch.setattr(tfcourse, "latest_run", lambda *args, **kwargs: None)  # no runs yet
    for script, before in ((RECORDS, "10_1_generate_captcha.py"), (TRAIN, "10_2_tfrecord.py"),
                           (TEST, "10_3_train.py")):
        out, err = fails(script, "--quick", "--out", tmp_path / "run")
        assert f"run python {WEEK}/{before} first" in err and not (tmp_path / "run").exists(), err


def test_test_refuses_a_file_that_is_not_a_picture(week10, tmp_path):
    (tmp_path / "note.jpg").write_text("not a picture")
    _, err = fails(TEST, "--model-dir", week10["model"], "--image", tmp_path / "note.jpg",
                   "--out", tmp_path / "run")
    assert "Cannot read the picture" in err and "note.jpg" in err
    assert not (tmp_path / "run").exists()
