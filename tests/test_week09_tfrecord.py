"""Week 9: 9-0 check_gpu without a GPU, 9-2 pictures -> TFRecord shards -> your own model.

All pictures are drawn by the tests (coloured shapes per class, plus awkward files).
"""
import json
import os
import re
import sys
from pathlib import Path

import pytest

from lesson_runner import run_lesson

WEEK = "week09_gpu_transfer"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / WEEK))
from _images import draw_shapes  # noqa: E402

def make_pictures(root, per_class=6, classes=("red circle", "green square", "blue triangle")):
    """Shapes per class plus the awkward cases: a PNG, a GIF, a text file, a broken JPEG, an empty class."""
    from PIL import Image
    draw_shapes(root, per_class=per_class, size=48, classes=classes)
    first = root / classes[0] / f"{classes[0]} 000.jpg"
    Image.open(first).save(root / classes[0] / "as png.png")
    Image.open(root / classes[1] / f"{classes[1]} 000.jpg").save(root / classes[1] / "动图.gif")
    (root / classes[1] / "notes.txt").write_text("not a picture")
    (root / classes[2] / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 4)
    (root / "empty class").mkdir()
    return root


# ---------------------------------------------------------------- 9-0 check_gpu

def test_check_gpu_reports_devices_benchmark_and_next_steps(tmp_path):
    import tensorflow as tf
    code, out, err = run_lesson(f"{WEEK}/9_0_check_gpu.py", "--quick", "--platform", "windows", "--out", tmp_path / "w")
    assert code == 0, err
    assert f"TensorFlow {tf.__version__}" in out and "Physical devices: CPU:0" in out
    gflops = float(re.search(r"CPU:0\s+float32\s+([\d.]+) GFLOP/s", out).group(1))
    assert gflops > 0
    if tf.config.list_physical_devices("GPU"):
        assert re.search(r"GPU:0\s+float32\s+[\d.]+ GFLOP/s", out) and "OK: TensorFlow uses" in out
        return
    assert "No GPU" in out and "Native Windows has had no GPU build" in out and "WSL2" in out
    code, out, _ = run_lesson(f"{WEEK}/9_0_check_gpu.py", "--quick", "--platform", "linux", "--require-gpu",
                              "--out", tmp_path / "l")
    assert code == 1  # an install script can tell
    assert "nvidia-smi" in out and f'pip install "tensorflow[and-cuda]=={tf.__version__}"' in out


@pytest.mark.parametrize("driver", ["working", "broken"])
def test_check_gpu_explains_why_no_gpu_from_nvidia_smi(tmp_path, monkeypatch, driver):
    import importlib.util
    import platform
    import tensorflow as tf
    if platform.system() != "Linux" or tf.config.list_physical_devices("GPU"):
        pytest.skip("the reasons are checked on a Linux machine without a GPU")
    fake = tmp_path / "nvidia-smi"  # stands in for the driver's tool
    fake.write_text("#!/bin/sh\necho '0, NVIDIA Test GPU, 81559, 1024, 550.54'\n" if driver == "working"
                    else "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    code, out, err = run_lesson(f"{WEEK}/9_0_check_gpu.py", "--quick", "--out", tmp_path / "run")
    assert code == 0, err
    if driver == "broken":
        assert "`nvidia-smi` fails: the driver is not working" in out
        return
    assert "nvidia-smi GPU 0 NVIDIA Test GPU: 1024 MiB used of 81559 MiB (driver 550.54)" in out
    if tf.sysconfig.get_build_info().get("is_cuda_build") and importlib.util.find_spec("nvidia") is None:
        assert "the CUDA libraries are not" in out


# ---------------------------------------------------------------- 9-2: TFRecord shards, own model

CONVERT, TRAIN = f"{WEEK}/9_2_images_to_tfrecord.py", f"{WEEK}/9_2_train_own_model.py"
TINY = ("--steps", "30", "--image-size", "32", "--batch-size", "16")  # 3 colours: learnt in 30 steps


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Pictures of three classes (and the awkward files) converted once: (pictures, shards, output)."""
    root = tmp_path_factory.mktemp("week09_tfrecord")
    images = make_pictures(root / "pictures", per_class=20, classes=("red circle", "green square", "黄色 星形"))
    code, out, err = run_lesson(CONVERT, "--dataset-dir", images, "--num-test", "12", "--out", root / "records")
    assert code == 0, err
    return images, root / "records", out


def test_tfrecord_shards_hold_the_pictures_and_labels(shards):
    import tensorflow as tf
    images, out_dir, out = shards
    usable = 3 * 20 + 2  # shapes + the PNG and the GIF; not the text file nor the broken JPEG
    assert f">> Converting image {usable - 12}/{usable - 12} shard 4" in out
    assert ">> Converting image 12/12 shard 3" in out  # 3 per shard: the fifth test shard is empty
    assert "broken.jpg: cannot be decoded" in out and "notes.txt: not an image file" in out
    names = sorted(p.name for p in out_dir.glob("*.tfrecord"))
    assert names == [f"image_{s}_{i:05d}-of-00005.tfrecord" for s in ("test", "train") for i in range(5)]
    assert not [p for p in out_dir.iterdir() if ".tmp" in p.name]
    assert (out_dir / "labels.txt").read_text(encoding="utf-8") == "0:green square\n1:red circle\n2:黄色 星形\n"
    counts = {}
    for split in ("train", "test"):
        records = list(tf.data.TFRecordDataset([str(p) for p in sorted(out_dir.glob(f"image_{split}_*"))]))
        counts[split] = len(records)
        example = tf.train.Example.FromString(records[0].numpy()).features.feature
        assert example["image/format"].bytes_list.value[0] in (b"jpg", b"png", b"gif")
        assert example["image/class/label"].int64_list.value[0] in (0, 1, 2)
        assert tf.io.decode_image(example["image/encoded"].bytes_list.value[0]).shape[-1] == 3
    assert counts == {"train": usable - 12, "test": 12}

    code, out, err = run_lesson(CONVERT, "--data-dir", images, "--out", out_dir)
    assert code == 0 and "exist already" in out  # kept, as the lesson does
    code, out, err = run_lesson(CONVERT, "--data-dir", images, "--overwrite", "--num-test", "500", "--out", out_dir)
    assert code == 1 and "would leave none for training" in err and "Traceback" not in err
    assert len(list(out_dir.glob("*.tfrecord"))) == 10  # the earlier shards are untouched


def test_train_own_model_learns_and_goes_on_from_its_checkpoint(shards, tmp_path):
    _, out_dir, _ = shards
    code, out, err = run_lesson(TRAIN, "--dataset_dir", out_dir, *TINY, "--out", tmp_path / "train")
    assert code == 0, err
    assert re.search(r"global step 30: loss = [\d.]+ \([\d.]+ sec/step\)", out)
    accuracy = float(re.search(r"Test accuracy = ([\d.]+) \(N=12\)", out).group(1))
    assert accuracy >= 0.75  # 3 classes: chance is 0.33
    assert "SYNTHETIC" not in out  # the learner's own pictures
    code, out, err = run_lesson(TRAIN, "--data-dir", out_dir, *TINY, "--max_number_of_steps", "40",
                                "--out", tmp_path / "train")
    assert code == 0, err
    assert "(global step 30)" in out and "global step 40:" in out and "global step 10:" not in out


def test_shards_of_drawn_shapes_are_labelled_synthetic_when_trained_on(tmp_path):
    code, out, err = run_lesson(CONVERT, "--data", "shapes", "--quick", "--shapes-per-class", "6", "--num-test", "8",
                                "--out", tmp_path / "shards")
    assert code == 0, err
    code, out, err = run_lesson(TRAIN, "--data-dir", tmp_path / "shards", *TINY, "--out", tmp_path / "train")
    assert code == 0, err
    assert "SYNTHETIC" in out.splitlines()[-2]  # the end line, before 'run folder:'
    assert json.loads((tmp_path / "train" / "metrics.json").read_text(encoding="utf-8"))["synthetic"] is True


def run_train_expecting_error(data_dir, out, *extra, code=1):
    result, stdout, err = run_lesson(TRAIN, "--data-dir", data_dir, *TINY, *extra, "--out", out)
    assert result == code and "Traceback" not in err, err
    return stdout, err


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign"])
def test_damaged_shard_is_one_clear_message(shards, tmp_path, damage):
    import shutil
    import tensorflow as tf
    data = tmp_path / "records"
    shutil.copytree(shards[1], data)
    shard = data / "image_train_00002-of-00005.tfrecord"
    raw = bytearray(shard.read_bytes())
    if damage == "truncate":
        shard.write_bytes(bytes(raw[: len(raw) - 100]))  # the last record cut short
    elif damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
        shard.write_bytes(bytes(raw))
    else:  # another program's records: Examples without the picture features
        with tf.io.TFRecordWriter(str(shard)) as writer:
            writer.write(tf.train.Example().SerializeToString())
    out, err = run_train_expecting_error(data, tmp_path / "train")
    phrase = {"truncate": r"is (truncated|damaged) near byte [\d,]+", "flip": r"is damaged near byte [\d,]+",
              "foreign": "are of another kind"}[damage]
    assert re.search(phrase, err) and shard.name in err and "9_2_images_to_tfrecord.py" in err, err
    assert "global step" not in out and not (tmp_path / "train").exists()  # no run folder left behind


def test_train_refuses_a_checkpoint_of_another_model(shards, tmp_path):
    import tensorflow as tf
    train_dir = tmp_path / "train" / "train_dir"
    W, b = tf.Variable(tf.zeros([784, 10])), tf.Variable(tf.zeros([10]))  # what lesson 8-1 saves
    tf.train.CheckpointManager(tf.train.Checkpoint(W=W, b=b), train_dir, max_to_keep=1).save()
    before = sorted(p.name for p in train_dir.iterdir())
    out, err = run_train_expecting_error(shards[1], tmp_path / "train")
    assert "is not a checkpoint of this small_cnn for 3 classes" in err and "Remedy" in err
    assert "global step" not in out and sorted(p.name for p in train_dir.iterdir()) == before


def test_train_without_shards_says_convert_first(tmp_path):
    out, err = run_train_expecting_error(tmp_path, tmp_path / "r")
    assert "No labels.txt of 9-2" in err and "9_2_images_to_tfrecord.py first" in err


def test_inception_needs_a_bigger_picture_than_quick(shards, tmp_path):
    out, err = run_train_expecting_error(shards[1], tmp_path / "r", "--arch", "inception_v3", "--quick", code=2)
    assert "--image-size 75 or more" in err


def test_convert_names_its_own_flag_for_a_missing_folder(tmp_path):
    code, out, err = run_lesson(CONVERT, "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "does not exist" in err and "--data-dir" in err and "--image-dir" not in err
    assert not (tmp_path / "run").exists()


def test_interrupted_conversion_leaves_no_shard(shards, tmp_path, monkeypatch):
    import tensorflow as tf
    real, written = tf.io.TFRecordWriter, []

    class Interrupted(real):  # Ctrl-C after a few pictures
        def write(self, record):
            written.append(record)
            if len(written) > 20:
                raise KeyboardInterrupt
            super().write(record)

    monkeypatch.setattr(tf.io, "TFRecordWriter", Interrupted)
    code, out, err = run_lesson(CONVERT, "--data-dir", shards[0], "--num-test", "12", "--out", tmp_path / "run")
    assert code == 130 and "Interrupted" in err and "Traceback" not in err
    left = [p.name for p in (tmp_path / "run").iterdir()] if (tmp_path / "run").exists() else []
    assert not [name for name in left if "tfrecord" in name or "labels" in name or ".tmp" in name], left
