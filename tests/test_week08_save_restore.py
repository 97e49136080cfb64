"""Week 8, lessons 8-1 and 8-2: save a trained model, restore it, refuse the wrong checkpoint."""
import re
import shutil

import pytest

from lesson_runner import run_lesson

SAVE = "week08_save_inception/8_1_saver_save.py"
RESTORE = "week08_save_inception/8_2_saver_restore.py"
QUICK = ("--quick", "--data", "synthetic")


def accuracies(out):
    return [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([0-9.]+)$", out, re.M)]


@pytest.fixture(scope="module", params=["v1", "v2"])
def saved(request, tmp_path_factory):
    """8-1 run once per --api: (api, run folder, its stdout)."""
    out_dir = tmp_path_factory.mktemp(f"save_{request.param}")
    code, out, err = run_lesson(SAVE, *QUICK, "--api", request.param, "--out", out_dir)
    assert code == 0, err
    return request.param, out_dir, out


def test_8_1_learns_and_saves_complete_files(saved):
    api, out_dir, out = saved
    acc = accuracies(out)
    assert len(acc) == 2 and acc[-1] > 0.6  # ten classes: chance is 0.1
    if api == "v1":
        assert (out_dir / "net" / "my_net.ckpt.index").is_file()
        assert "tf.compat.v1.train.Saver" in out
    else:
        assert (out_dir / "net_tf2" / "checkpoint").is_file()
        assert (out_dir / "saved_model" / "saved_model.pb").is_file()
        reloaded = float(re.search(r"reloaded: test accuracy ([0-9.]+)", out).group(1))
        assert reloaded == acc[-1]  # the SavedModel predicts what the trained model did
    leftovers = [p.name for p in out_dir.rglob("*") if re.search(r"partial|tmp|tempstate|_temp", p.name)]
    assert leftovers == []  # nothing half-written stays behind


def test_8_2_restores_exactly_the_saved_accuracy(saved, tmp_path):
    api, out_dir, saved_out = saved
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api, "--from", out_dir, "--out", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    restoring = next(i for i, line in enumerate(lines) if line.startswith("Restoring parameters from"))
    before, after = lines[restoring - 1], lines[restoring + 1]
    assert float(before) < 0.3  # untrained W = b = 0: every image is called a 0
    last_saved = re.findall(r"^Iter \d+,Testing Accuracy ([0-9.]+)$", saved_out, re.M)[-1]
    assert after == last_saved  # to the digit


def test_8_2_without_checkpoint_says_to_run_8_1(tmp_path):
    code, out, err = run_lesson(RESTORE, *QUICK, "--from", tmp_path / "nothing", "--out", tmp_path / "o")
    assert code != 0
    assert "No checkpoint" in err and "python week08_save_inception/8_1_saver_save.py --api v2" in err


def test_8_2_refuses_another_models_checkpoint_naming_the_variables(tmp_path):
    import tensorflow as tf
    other = tf.train.Checkpoint(W=tf.Variable(tf.zeros([784, 500])), W2=tf.Variable(tf.zeros([500, 10])),
                                b=tf.Variable(tf.zeros([10])))
    tf.train.CheckpointManager(other, tmp_path / "run" / "net_tf2", max_to_keep=1).save()
    code, out, err = run_lesson(RESTORE, *QUICK, "--from", tmp_path / "run", "--out", tmp_path / "o")
    assert code != 0
    assert "another model" in err
    assert "W: shape (784, 500) in the checkpoint, (784, 10) in this model" in err
    assert "W2: in the checkpoint, not in this model" in err
    assert "b:" not in err  # b matches and is not blamed


def test_8_2_reports_a_damaged_checkpoint(saved, tmp_path):
    api, out_dir, _ = saved
    copy = tmp_path / "run"
    shutil.copytree(out_dir, copy)
    folder = copy / ("net" if api == "v1" else "net_tf2")
    for data in folder.glob("*.data-*"):
        data.write_bytes(data.read_bytes()[:100])  # as if the disk filled up while saving
    code, out, err = run_lesson(RESTORE, *QUICK, "--api", api, "--from", copy, "--out", tmp_path / "o")
    assert code != 0
    assert "incomplete or damaged" in err and "Traceback" not in err
