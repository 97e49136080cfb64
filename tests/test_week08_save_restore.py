"""Week 8, lessons 8-1 and 8-2: save a trained model, restore it, refuse the wrong checkpoint."""
import json
import os
import re
import shutil
import signal
import stat
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import tfcourse.cli
from tfcourse.synthetic import STROKES
from lesson_runner import run_lesson

SAVE = "week08_save_inception/8_1_saver_save.py"
RESTORE = "week08_save_inception/8_2_saver_restore.py"
QUICK = ("--quick", "--data", "synthetic")


def accuracies(out):
    return [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([0-9.]+)$", out, re.M)]


def temporary_files(folder):
    return [p.name for p in folder.rglob("*") if re.search(r"partial|tmp|tempstate|_temp", p.name)]


def refused(result, phrase, code=1):
    exit_code, out, err = result
    assert exit_code == code and "Traceback" not in err, err
    assert phrase in err, err


@pytest.fixture(scope="module", params=["v1", "v2"])
def saved(request, tmp_path_factory):
    """8-1 run once per --api, into a folder whose name has a space: (api, folder, stdout)."""
    out_dir = tmp_path_factory.mktemp("save") / f"run {request.param}"
    code, out, err = run_lesson(SAVE, *QUICK, "--api", request.param, "--out", out_dir)
    assert code == 0, err
    return request.param, out_dir, out


def test_8_1_learns_and_saves_complete_files(saved):
    api, out_dir, out = saved
    acc = accuracies(out)
    assert len(acc) == 2 and acc[-1] > 0.6  # --quick: 2 epochs; ten classes, chance is 0.1
    if api == "v1":
        assert (out_dir / "net" / "my_net.ckpt.index").is_file()
        checkpoint = (out_dir / "net" / "checkpoint").read_text()
        assert checkpoint.startswith('model_checkpoint_path: "my_net.ckpt"')  # a relative name
    else:
        kept = sorted(p.name for p in (out_dir / "net_tf2").glob("*.index"))
        assert kept == ["my_net-0.index", "my_net-1.index"]
        assert (out_dir / "saved_model" / "saved_model.pb").is_file()
        assert stat.S_IMODE((out_dir / "saved_model").stat().st_mode) & 0o055  # not mkdtemp's 0700
        reloaded = float(re.search(r"reloaded: test accuracy ([0-9.]+)", out).group(1))
        assert reloaded == acc[-1]  # the SavedModel predicts what the trained model did
    assert temporary_files(out_dir) == []  # nothing half-written stays behind
    assert f"--api {api} --model-dir '{out_dir}' --quick --data synthetic" in out  # quoted
    record = json.loads((out_dir / "metrics.json").read_text())
    assert record["status"] == "finished"
    assert [p["test_accuracy"] for p in record["progress"]] == pytest.approx(acc, abs=1e-4)


def test_8_2_restores_exactly_the_saved_accuracy(saved, tmp_path):
    api, out_dir, saved_out = saved
    record_before = (out_dir / "metrics.json").read_text()
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", out_dir,
                                "--out", tmp_path)
    assert code == 0, err
    assert (out_dir / "metrics.json").read_text() == record_before  # 8-1's record is only read
    assert "checkpoint holds: W (784, 10), b (10,)" in out
    lines = out.splitlines()
    restoring = next(i for i, line in enumerate(lines) if line.startswith("Restoring parameters"))
    assert float(lines[restoring - 1]) < 0.3  # untrained W = b = 0: every image is called a 0
    assert lines[restoring + 1] == str(accuracies(saved_out)[-1])  # to the digit


def test_8_2_finds_8_1s_newest_finished_run_without_flags(saved, tmp_path, monkeypatch):
    api, out_dir, saved_out = saved
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)  # runs/ goes under tmp_path
    runs = tmp_path / "runs" / "week08_save_inception" / "8_1_saver_save"
    shutil.copytree(out_dir, runs / "20260101-000000")
    (runs / "20260102-000000" / "net_tf2").mkdir(parents=True)  # newer, unfinished: no record
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api)
    assert code == 0, err
    assert f"Restoring parameters from {runs / '20260101-000000'}" in out
    assert out.splitlines()[-3] == str(accuracies(saved_out)[-1])


def photograph(digit, path, rng, pen=4, turned=False):
    """A photo of `digit` written with a pen on paper, as a learner takes one: the tests' stand-in
    digit strokes drawn thin on a big, unevenly lit page, saved as JPEG or PNG; `turned`: stored
    on its side with the EXIF tag that turns it upright, as phones do."""
    page = Image.new("L", (360, 300), 0)
    draw, size, left, top = ImageDraw.Draw(page), 200, 80 + rng.integers(-30, 30), 50
    for stroke in STROKES[digit]:
        points = [(left + x * size + rng.normal(0, 3), top + y * size + rng.normal(0, 3))
                  for x, y in stroke]
        draw.line(points, fill=255, width=pen, joint="curve")
    light = np.linspace(190, 245, 360)[None, :] + rng.normal(0, 5, (300, 360))
    photo = light * (1 - 0.85 * np.asarray(page, np.float32) / 255)  # dark ink on the paper
    photo = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).convert("RGB")
    exif = Image.Exif()
    if turned:
        photo = photo.rotate(90, expand=True)
        exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    photo.save(path, exif=exif, **({"quality": 85} if path.suffix == ".jpg" else {}))
    return path


def test_8_2_reads_your_own_handwritten_digits(saved, tmp_path):
    api, out_dir, _ = saved
    rng = np.random.default_rng(0)
    folder = tmp_path / "我的数字"  # given as a folder: Windows' cmd leaves *.jpg unexpanded
    folder.mkdir()
    photos = [photograph(d, folder / f"{'我写的' if k else ''}{d}_{k}.{'jpg' if k else 'png'}",
                         rng, pen=3 + k, turned=k == 1 and d == 7)
              for d in range(10) for k in range(3)]
    photos.sort()
    drawing = Image.new("RGBA", (200, 200), (0, 0, 0, 0))  # a drawing app's: black on clear
    ImageDraw.Draw(drawing).line([(40, 40), (160, 40), (90, 170)], fill=(0, 0, 0, 255), width=12)
    drawing.save(tmp_path / "drawn.png")
    scan = np.asarray(Image.open(photos[0]).convert("L"), np.uint16) * 257  # a 16-bit scan
    Image.fromarray(scan).save(tmp_path / "scan16.png")
    desk = Image.new("L", (400, 300), 60)  # the paper lies on a dark desk, both in the photo
    ImageDraw.Draw(desk).rectangle([40, 20, 360, 280], fill=235)
    ImageDraw.Draw(desk).line([(150, 70), (250, 70), (180, 230)], fill=20, width=6)
    desk.save(tmp_path / "desk.jpg")
    row = Image.new("L", (500, 200), 235)  # three digits in one picture
    for left in (60, 210, 360):
        ImageDraw.Draw(row).line([(left, 40), (left + 80, 40), (left + 20, 170)], fill=20, width=8)
    row.save(tmp_path / "row.png")
    others = [tmp_path / name for name in ("drawn.png", "scan16.png", "desk.jpg", "row.png")]
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", out_dir,
                                "--image", folder, *others, "--out", tmp_path / "run")
    assert code == 0 and "Traceback" not in err, err
    read = dict(re.findall(r"^(\S+): (\d) \(probability [0-9.]+; next \d, [0-9.]+\)$", out, re.M))
    assert sorted(read) == sorted(p.name for p in photos + others)
    right = sum(read[p.name] == p.name.removeprefix("我写的")[0] for p in photos)
    assert right >= 15, read  # half of 30 (chance: 3), from a model of 2 quick epochs
    assert "desk.jpg: 68% of it stands out from its edges" in out and "crop it to the paper" in out
    assert "row.png: what is written is wider than one digit" in out
    assert len(re.findall(r"注意 Note: \S+\.(png|jpg):", out)) == 2  # the other 32: nothing
    assert (tmp_path / "run" / "your_digits.png").stat().st_size > 10_000
    record = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert [p["image"] for p in record["progress"] if "image" in p] == [
        p.name for p in photos + others]


@pytest.mark.parametrize("saved", ["v2"], indirect=True)  # reading a picture is the same for v1
@pytest.mark.parametrize("what, phrase", [
    ("missing", "no such file or folder"),  # e.g. a *.jpg that Windows' cmd left as it is
    ("empty folder", "the folder holds no pictures"),
    ("text", "cannot read it as a picture"),
    ("blank", "no digit found, the picture is nearly one shade"),
    ("specks", "no digit found, the picture is nearly one shade"),  # dust on white paper
])
def test_8_2_a_picture_it_cannot_read_is_one_message(saved, tmp_path, what, phrase):
    api, out_dir, _ = saved
    picture = tmp_path / "7.png"
    if what == "empty folder":
        picture = tmp_path / "photos"
        picture.mkdir()
    elif what == "text":
        picture.write_text("not a picture")
    elif what != "missing":
        paper = Image.new("L", (200, 200), 230)
        if what == "specks":
            for xy in [(20, 30), (150, 90), (60, 170)]:
                paper.putpixel(xy, 10)
        paper.save(picture)
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", out_dir, "--image",
                        picture, "--out", tmp_path / "run")
    refused(result, f"--image {picture}: {phrase}")
    assert "Remedy: " in result[2] and not (tmp_path / "run").exists()


# ------------------------------------------------------- bad input: one message, nothing left

@pytest.mark.parametrize("flags", [("--epochs", "0"), ("--epochs", "-1"), ("--batch-size", "0"),
                                   ("--lr", "nan"), ("--seed", "-1")])
def test_8_1_refuses_impossible_numbers_at_parse(tmp_path, flags):
    result = run_lesson(SAVE, *QUICK, *flags, "--out", tmp_path / "o")
    refused(result, f"argument {flags[0]}: expected", code=2)
    assert not (tmp_path / "o").exists()


def test_8_1_stops_when_the_loss_diverges(tmp_path):
    result = run_lesson(SAVE, *QUICK, "--epochs", "1", "--lr", "1e38", "--out", tmp_path / "o")
    refused(result, "The loss became nan at epoch 0")
    assert "smaller learning rate than --lr 1e+38" in result[2] and temporary_files(tmp_path) == []
    assert not (tmp_path / "o" / "net_tf2").exists()


@pytest.mark.parametrize("where", ["checkpoint", "saved model"])
def test_8_1_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch, where):
    import tensorflow as tf

    def disk_full(make_partial):  # writes part of the files, then fails as TensorFlow does
        def fails(*args, **kwargs):
            make_partial(*args)
            raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")
        return fails
    if where == "checkpoint":  # TensorFlow writes the shards first, into my_net-0_temp/
        monkeypatch.setattr(tf.train.CheckpointManager, "save", disk_full(
            lambda manager: (Path(manager.directory) / "my_net-0_temp").mkdir(parents=True)))
    else:
        monkeypatch.setattr(tf.saved_model, "save", disk_full(
            lambda model, path: (Path(path) / "variables").mkdir(parents=True)))
    out = tmp_path / "o"
    result = run_lesson(SAVE, *QUICK, "--epochs", "1", "--out", out)
    refused(result, "No space left on device")
    assert "nothing half-written was kept" in result[2] and temporary_files(tmp_path) == []
    assert (out / "net_tf2").exists() == (where == "saved model")  # complete, or not there at all
    assert not (out / "saved_model").exists()


def _half(path):  # what TensorFlow has written of `path` when the kill comes
    Path(path).mkdir(parents=True)
    (Path(path) / "half.data-00000-of-00001").write_bytes(b"\0" * 100)


SAVES = {  # --api, the save that is killed, what it wrote first, what the run folder keeps
    "v1 Saver": ("v1", lambda tf: (tf.compat.v1.train.Saver, "save"),
                 lambda saver, sess, prefix, *a, **k: _half(Path(prefix).parent), []),
    "v2 checkpoint": ("v2", lambda tf: (tf.train.CheckpointManager, "save"),
                      lambda manager, *a, **k: _half(Path(manager.directory) / "my_net-0_temp"),
                      []),
    "v2 SavedModel": ("v2", lambda tf: (tf.saved_model, "save"),
                      lambda model, path, *a, **k: _half(Path(path) / "variables"),
                      ["net_tf2"]),  # the checkpoints were complete before the SavedModel began
}


@pytest.mark.parametrize("case", SAVES)
def test_8_1_killed_while_saving_leaves_no_temporary_folder(tmp_path, monkeypatch, case):
    """A real SIGTERM (an IDE's stop button, `kill`) to this process in the middle of a save."""
    import tensorflow as tf
    assert signal.getsignal(signal.SIGTERM) is tfcourse.cli._stop  # else the kill ends pytest
    api, where, partial, kept = SAVES[case]

    def killed(*args, **kwargs):
        partial(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # the handler raises Stopped here, at once
        raise AssertionError("SIGTERM did not stop the run")
    monkeypatch.setattr(*where(tf), killed)
    out = tmp_path / "o"
    code, _, err = run_lesson(SAVE, *QUICK, "--api", api, "--epochs", "1", "--out", out)
    assert code == 130 and "Interrupted (SIGTERM)" in err and "Traceback" not in err, err
    assert temporary_files(tmp_path) == [] and not list(tmp_path.rglob("half*"))
    assert sorted(p.name for p in out.iterdir()) == sorted(["log.txt", "metrics.json"] + kept)
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "interrupted" and len(record["progress"]) == 1


def test_8_2_without_a_run_of_8_1_says_which_command_makes_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)
    result = run_lesson(RESTORE, *QUICK, "--out", tmp_path / "o")
    refused(result, "no finished run of 8-1 with --api v2")
    assert f"python {SAVE} --api v2 --quick --data synthetic" in result[2]
    result = run_lesson(RESTORE, *QUICK, "--model-dir", tmp_path / "no where",
                        "--out", tmp_path / "o")
    refused(result, f"No checkpoint of lesson 8-1 in {tmp_path / 'no where' / 'net_tf2'}")
    assert f"--out '{tmp_path / 'no where'}'" in result[2] and not (tmp_path / "o").exists()


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_8_2_refuses_another_models_checkpoint_naming_the_variables(tmp_path, api):
    import tensorflow as tf
    folder = tmp_path / "run" / ("net" if api == "v1" else "net_tf2")
    if api == "v2":
        other = tf.train.Checkpoint(W=tf.Variable(tf.zeros([784, 500])),
                                    W2=tf.Variable(tf.zeros([500, 10])),
                                    b=tf.Variable(tf.zeros([10])))
        tf.train.CheckpointManager(other, folder, max_to_keep=1).save()
    else:
        folder.mkdir(parents=True)
        graph = tf.Graph()
        with graph.as_default():
            tf.Variable(tf.zeros([784, 500]), name="W")
            tf.Variable(tf.zeros([500, 10]), name="W2")
            tf.Variable(tf.zeros([10]), name="b")
            saver = tf.compat.v1.train.Saver()
            with tf.compat.v1.Session() as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                saver.save(sess, str(folder / "my_net.ckpt"))
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", tmp_path / "run",
                        "--out", tmp_path / "o")
    refused(result, "is of another model")
    assert "W: shape (784, 500) in the checkpoint, (784, 10) in this model" in result[2]
    assert "W2: in the checkpoint, not in this model" in result[2]
    assert "b:" not in result[2]  # b matches and is not blamed
    assert f"8_1_saver_save.py --api {api} --out" in result[2]  # the command that makes it


def test_8_2_reports_a_damaged_checkpoint(saved, tmp_path):
    api, out_dir, _ = saved
    copy = tmp_path / "run"
    shutil.copytree(out_dir, copy)
    folder = copy / ("net" if api == "v1" else "net_tf2")
    for data in folder.glob("*.data-*"):
        data.write_bytes(data.read_bytes()[:100])  # as if the disk filled up while saving
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", copy, "--out", tmp_path / "o")
    refused(result, "is incomplete or damaged")
    assert f"8_1_saver_save.py --api {api} --out" in result[2]


def test_8_2_reports_a_checkpoint_index_naming_a_missing_file(saved, tmp_path):
    api, out_dir, _ = saved
    copy = tmp_path / "run"
    shutil.copytree(out_dir, copy)
    folder = copy / ("net" if api == "v1" else "net_tf2")
    for index in folder.glob("*.index"):
        index.unlink()
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", copy, "--out", tmp_path / "o")
    refused(result, "the checkpoint is incomplete")


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_8_2_refuses_a_checkpoint_holding_nan(tmp_path, api):
    import tensorflow as tf
    folder = tmp_path / "run" / ("net" if api == "v1" else "net_tf2")
    W = tf.Variable(tf.fill([784, 10], float("nan")), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    if api == "v2":
        tf.train.CheckpointManager(tf.train.Checkpoint(W=W, b=b), folder, max_to_keep=1).save()
    else:
        folder.mkdir(parents=True)
        with tf.Graph().as_default():
            variables = [tf.Variable(tf.fill([784, 10], float("nan")), name="W"),
                         tf.Variable(tf.zeros([10]), name="b")]
            with tf.compat.v1.Session() as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                tf.compat.v1.train.Saver(variables).save(sess, str(folder / "my_net.ckpt"))
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", tmp_path / "run",
                        "--out", tmp_path / "o")
    refused(result, "holds NaN or infinite values in W: the training it saved diverged")
    assert f"8_1_saver_save.py --api {api} --out" in result[2]


CLASS_6 = {  # what 8-2 is pointed at -> a phrase of its one message
    "another lesson's run": ("other", "is a run of lesson 4-1, not of lesson 8-1"),
    "a damaged checkpoint file": ("garbage", "checkpoint is damaged: it names no checkpoint"),
    "the other --api's run": ("swap", "(it holds {}/: that run of 8-1 used --api {})"),
}


@pytest.mark.parametrize("case", CLASS_6)
def test_8_2_names_the_file_and_the_lesson_that_makes_it(saved, tmp_path, case):
    api, out_dir, _ = saved
    kind, phrase = CLASS_6[case]
    run = tmp_path / "run"
    if kind == "other":
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps(
            {"lesson": "4-1", "script": "week04_softmax_dropout_optimizers/4_1_cross_entropy.py",
             "status": "finished"}))
    elif kind == "garbage":
        shutil.copytree(out_dir, run)
        folder = run / ("net" if api == "v1" else "net_tf2")
        (folder / "checkpoint").write_text("model_checkpoint_path: {{{ not a checkpoint")
    else:  # a v1 run restored with --api v2, or a v2 run with --api v1
        shutil.copytree(out_dir, run)
        phrase = phrase.format("net" if api == "v1" else "net_tf2", api)
        api = "v2" if api == "v1" else "v1"
    before = sorted(p.relative_to(tmp_path) for p in run.rglob("*"))
    # a damaged `checkpoint` file: TensorFlow's get_checkpoint_state warns, then the lesson says
    # what to do
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", run, "--out", tmp_path / "o",
                        tf_warns=("ParseError", "Checkpoint ignored") if kind == "garbage" else ())
    refused(result, phrase)
    if kind == "other":  # never a command that would write into another lesson's run
        assert f"Remedy: run lesson 8-1 first:\n  python {SAVE} --api {api} --quick" in result[2]
    else:
        assert f"Remedy: run lesson 8-1 (again):\n  python {SAVE} --api {api} --out" in result[2]
    assert sorted(p.relative_to(tmp_path) for p in run.rglob("*")) == before  # nothing changed
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flag", ["--model-dir", "--out", "--data-dir"])
def test_8_2_folder_flags_naming_a_file_stop_at_parse(tmp_path, flag):
    a_file = tmp_path / "my_net.ckpt.index"
    a_file.write_text("not a folder")
    flags = {"--model-dir": tmp_path / "m", "--out": tmp_path / "o", flag: a_file}
    result = run_lesson(RESTORE, "--quick", *[str(v) for kv in flags.items() for v in kv])
    refused(result, f"argument {flag}: {a_file} is a file, not a folder", code=2)
    assert a_file.read_text() == "not a folder" and not (tmp_path / "o").exists()


def test_8_2_never_writes_into_8_1s_run_folder(saved, tmp_path):
    api, out_dir, _ = saved
    before = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", out_dir, "--out", out_dir)
    refused(result, "is 8-1's run folder: this run's log and record would replace 8-1's")
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == before
