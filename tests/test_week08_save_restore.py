"""Week 8, lessons 8-1 and 8-2: save a trained model, restore it, refuse the wrong checkpoint."""
import re
import shutil
import stat
from pathlib import Path

import pytest

import tfcourse.cli
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
    """8-1 run once per --api, into a folder whose name has a space: (api, run folder, its stdout)."""
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
        assert (out_dir / "net" / "checkpoint").read_text().startswith('model_checkpoint_path: "my_net.ckpt"')
    else:
        assert sorted(p.name for p in (out_dir / "net_tf2").glob("*.index")) == ["my_net-0.index", "my_net-1.index"]
        assert (out_dir / "saved_model" / "saved_model.pb").is_file()
        assert stat.S_IMODE((out_dir / "saved_model").stat().st_mode) & 0o055  # not mkdtemp's 0700
        reloaded = float(re.search(r"reloaded: test accuracy ([0-9.]+)", out).group(1))
        assert reloaded == acc[-1]  # the SavedModel predicts what the trained model did
    assert temporary_files(out_dir) == []  # nothing half-written stays behind
    assert f"--api {api} --model-dir '{out_dir}' --quick --data synthetic" in out  # quoted: a space


def test_8_2_restores_exactly_the_saved_accuracy(saved, tmp_path):
    api, out_dir, saved_out = saved
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", out_dir, "--out", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    restoring = next(i for i, line in enumerate(lines) if line.startswith("Restoring parameters from"))
    assert float(lines[restoring - 1]) < 0.3  # untrained W = b = 0: every image is called a 0
    assert lines[restoring + 1] == str(accuracies(saved_out)[-1])  # to the digit


def test_8_2_finds_8_1s_newest_finished_run_without_flags(saved, tmp_path, monkeypatch):
    api, out_dir, saved_out = saved
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)  # runs/ goes under tmp_path
    runs = tmp_path / "runs" / "week08_save_inception" / "8_1_saver_save"
    shutil.copytree(out_dir, runs / "20260101-000000")
    (runs / "20260102-000000" / "net_tf2").mkdir(parents=True)  # newer, but unfinished: no metrics.json
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api)
    assert code == 0, err
    assert f"Restoring parameters from {runs / '20260101-000000'}" in out
    assert out.splitlines()[-3] == str(accuracies(saved_out)[-1])


# ---------------------------------------------------------------- bad input: one message, nothing left

@pytest.mark.parametrize("flags", [("--epochs", "0"), ("--epochs", "-1"), ("--batch-size", "0"), ("--lr", "nan")])
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


def test_8_2_without_a_run_of_8_1_says_which_command_makes_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)
    result = run_lesson(RESTORE, *QUICK, "--out", tmp_path / "o")
    refused(result, "no finished run of 8-1 with --api v2")
    assert "python week08_save_inception/8_1_saver_save.py --api v2 --quick --data synthetic" in result[2]
    result = run_lesson(RESTORE, *QUICK, "--model-dir", tmp_path / "no where", "--out", tmp_path / "o")
    refused(result, f"No checkpoint of lesson 8-1 in {tmp_path / 'no where' / 'net_tf2'}")
    assert f"--out '{tmp_path / 'no where'}'" in result[2]


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_8_2_refuses_another_models_checkpoint_naming_the_variables(tmp_path, api):
    import tensorflow as tf
    folder = tmp_path / "run" / ("net" if api == "v1" else "net_tf2")
    if api == "v2":
        other = tf.train.Checkpoint(W=tf.Variable(tf.zeros([784, 500])), W2=tf.Variable(tf.zeros([500, 10])),
                                    b=tf.Variable(tf.zeros([10])))
        tf.train.CheckpointManager(other, folder, max_to_keep=1).save()
    else:
        folder.mkdir(parents=True)
        graph = tf.Graph()
        with graph.as_default():
            tf.Variable(tf.zeros([784, 500]), name="W"), tf.Variable(tf.zeros([500, 10]), name="W2")
            tf.Variable(tf.zeros([10]), name="b")
            saver = tf.compat.v1.train.Saver()
            with tf.compat.v1.Session() as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                saver.save(sess, str(folder / "my_net.ckpt"))
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", tmp_path / "run", "--out", tmp_path / "o")
    refused(result, "is of another model")
    assert "W: shape (784, 500) in the checkpoint, (784, 10) in this model" in result[2]
    assert "W2: in the checkpoint, not in this model" in result[2]
    assert "b:" not in result[2]  # b matches and is not blamed
    assert f"8_1_saver_save.py --api {api} --out" in result[2]  # the command that writes the right one


def test_8_2_reports_a_damaged_checkpoint(saved, tmp_path):
    api, out_dir, _ = saved
    copy = tmp_path / "run"
    shutil.copytree(out_dir, copy)
    folder = copy / ("net" if api == "v1" else "net_tf2")
    for data in folder.glob("*.data-*"):
        data.write_bytes(data.read_bytes()[:100])  # as if the disk filled up while saving
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", copy, "--out", tmp_path / "o")
    refused(result, "is incomplete or damaged")


def test_8_2_reports_a_checkpoint_index_naming_a_missing_file(saved, tmp_path):
    api, out_dir, _ = saved
    copy = tmp_path / "run"
    shutil.copytree(out_dir, copy)
    folder = copy / ("net" if api == "v1" else "net_tf2")
    for index in folder.glob("*.index"):
        index.unlink()
    result = run_lesson(RESTORE, *QUICK, "--api", api, "--model-dir", copy, "--out", tmp_path / "o")
    refused(result, "the checkpoint is incomplete")
