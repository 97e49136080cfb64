"""Week 9: 9-0 check_gpu without a GPU, 9-2 pictures -> TFRecord shards -> your own model.

All pictures are drawn by the tests (coloured shapes per class, plus awkward files).
"""
import json
import os
import random
import re
import shutil

import pytest

import tfcourse
import tfcourse.cli
from lesson_runner import run_lesson

WEEK = "week09_gpu_transfer"
CHECK_GPU = f"{WEEK}/9_0_check_gpu.py"
CONVERT, TRAIN = f"{WEEK}/9_2_images_to_tfrecord.py", f"{WEEK}/9_2_train_own_model.py"
COLOURS = {"red circle": (220, 40, 40), "green square": (40, 180, 60), "黄色 星形": (230, 200, 30)}


def make_pictures(root, per_class=6):
    """A coloured blob on a dark background per picture, plus the awkward cases: a PNG, a GIF, a
    text file, a broken JPEG and an empty class folder."""
    from PIL import Image, ImageDraw
    rng = random.Random(0)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            image = Image.new("RGB", (48, 48), tuple(rng.randint(0, 90) for _ in range(3)))
            x, y, r = rng.randint(12, 36), rng.randint(12, 36), rng.randint(8, 12)
            ImageDraw.Draw(image).ellipse([x - r, y - r, x + r, y + r], fill=colour)
            image.save(root / name / f"{name} {i:03d}.jpg")
    Image.open(root / "red circle" / "red circle 000.jpg").save(root / "red circle" / "as png.png")
    green = root / "green square"
    Image.open(green / "green square 000.jpg").save(green / "动图.gif")
    (green / "notes.txt").write_text("not a picture")
    (root / "黄色 星形" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a jpeg" * 4)
    whole = (root / "red circle" / "red circle 001.jpg").read_bytes()
    (root / "黄色 星形" / "cut.jpg").write_bytes(whole[:-10])  # a copy broken off near its end
    (root / "empty class").mkdir()
    return root


def refused(result, phrase, code=1):
    exit_code, out, err = result
    assert exit_code == code and "Traceback" not in err, err
    assert re.search(phrase, err), err
    return out, err


# ---------------------------------------------------------------- 9-0 check_gpu

def test_check_gpu_reports_devices_benchmark_and_next_steps(tmp_path):
    import tensorflow as tf
    code, out, err = run_lesson(CHECK_GPU, "--quick", "--platform", "windows",
                                "--out", tmp_path / "w")
    assert code == 0, err
    assert f"TensorFlow {tf.__version__}" in out and "Physical devices: CPU:0" in out
    gflops = float(re.search(r"CPU:0\s+float32\s+([\d.]+) GFLOP/s", out).group(1))
    assert gflops > 0
    record = json.loads((tmp_path / "w" / "metrics.json").read_text(encoding="utf-8"))
    assert record["progress"][0]["device"] == "CPU:0" and record["status"] == "finished"
    if tf.config.list_physical_devices("GPU"):
        assert re.search(r"GPU:0\s+float32\s+[\d.]+ GFLOP/s", out) and "OK: TensorFlow uses" in out
        return
    assert "No GPU" in out and "Native Windows has had no GPU build" in out and "WSL2" in out
    code, out, err = run_lesson(CHECK_GPU, "--quick", "--platform", "linux", "--require-gpu",
                                "--out", tmp_path / "l")
    assert code == 1 and "No usable GPU (--require-gpu)" in err  # an install script can tell
    assert "nvidia-smi" in out and f'pip install "tensorflow[and-cuda]=={tf.__version__}"' in out


@pytest.mark.parametrize("driver", ["working", "broken"])
def test_check_gpu_explains_why_no_gpu_from_nvidia_smi(tmp_path, monkeypatch, driver):
    import importlib.util
    import platform
    import tensorflow as tf
    if platform.system() != "Linux" or tf.config.list_physical_devices("GPU"):
        pytest.skip("the reasons are checked on a Linux machine without a GPU")
    fake = tmp_path / "nvidia-smi"  # stands in for the driver's tool
    fake.write_text("#!/bin/sh\necho '0, NVIDIA Test GPU, 81559, 1024, 550.54'\n"
                    if driver == "working" else
                    "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    code, out, err = run_lesson(CHECK_GPU, "--quick", "--out", tmp_path / "run")
    assert code == 0, err
    if driver == "broken":
        assert "`nvidia-smi` fails: the driver is not working" in out
        return
    assert "nvidia-smi GPU 0 NVIDIA Test GPU: 1024 MiB used of 81559 MiB (driver 550.54)" in out
    if tf.sysconfig.get_build_info().get("is_cuda_build") and \
            importlib.util.find_spec("nvidia") is None:
        assert "the CUDA libraries are not" in out


# ---------------------------------------------------------------- 9-2: TFRecord shards, own model

TINY = ("--steps", "30", "--image-size", "32", "--batch-size", "16")  # 3 colours: 30 steps


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Pictures of three classes (and the awkward files) converted once:
    (pictures, shards, out, err)."""
    root = tmp_path_factory.mktemp("week09_tfrecord")
    images = make_pictures(root / "pictures", per_class=20)
    code, out, err = run_lesson(CONVERT, "--dataset-dir", images, "--num-test", "12",
                                "--out", root / "records")
    assert code == 0, err
    return images, root / "records", out, err


def test_tfrecord_shards_hold_the_pictures_and_labels(shards):
    import tensorflow as tf
    images, out_dir, out, err = shards
    usable = 3 * 20 + 2  # the pictures + the PNG and the GIF; not the text nor the broken JPEG
    assert f">> Converting image {usable - 12}/{usable - 12} shard 4" in out
    assert ">> Converting image 12/12 shard 3" in out  # 3 per shard: the fifth test shard is empty
    assert "broken.jpg: cannot be decoded" in out and "notes.txt: not an image file" in out
    assert "cut.jpg: cannot be decoded" in out and "Premature end" not in err  # libjpeg's line
    names = sorted(p.name for p in out_dir.glob("*.tfrecord"))
    assert names == [f"image_{s}_{i:05d}-of-00005.tfrecord" for s in ("test", "train")
                     for i in range(5)]
    assert not [p for p in out_dir.iterdir() if ".tmp" in p.name]
    labels = (out_dir / "labels.txt").read_text(encoding="utf-8")
    assert labels == "0:green square\n1:red circle\n2:黄色 星形\n"
    counts = {}
    for split in ("train", "test"):
        files = [str(p) for p in sorted(out_dir.glob(f"image_{split}_*"))]
        records = list(tf.data.TFRecordDataset(files))
        counts[split] = len(records)
        example = tf.train.Example.FromString(records[0].numpy()).features.feature
        assert example["image/format"].bytes_list.value[0] in (b"jpg", b"png", b"gif")
        assert example["image/class/label"].int64_list.value[0] in (0, 1, 2)
        assert tf.io.decode_image(example["image/encoded"].bytes_list.value[0]).shape[-1] == 3
    assert counts == {"train": usable - 12, "test": 12}

    code, out, err = run_lesson(CONVERT, "--data-dir", images, "--out", out_dir)
    assert code == 0 and "exist already" in out  # kept, as the lesson does
    code, out, err = run_lesson(CONVERT, "--data-dir", images, "--overwrite", "--num-test", "500",
                                "--out", out_dir)
    assert code == 1 and "would leave none for training" in err and "Traceback" not in err
    assert len(list(out_dir.glob("*.tfrecord"))) == 10  # the earlier shards are untouched
    assert (out_dir / "labels.txt").read_text(encoding="utf-8") == labels


def phone_photo(path, size=(30, 40)):
    """A portrait photo (w, h = size) with a red top-left corner, stored as phones do: the pixels
    turned on their side, and the EXIF Orientation tag 6 saying 'turn 90 degrees clockwise'."""
    from PIL import Image, ImageDraw
    upright = Image.new("RGB", size, (40, 40, 40))
    ImageDraw.Draw(upright).rectangle([0, 0, 9, 9], fill=(230, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.rotate(90, expand=True).save(path, exif=exif, quality=95)  # stored: 40 wide, 30 high
    return path


def test_a_phones_photo_is_read_upright_and_a_clear_background_white(tmp_path):
    """TensorFlow's decoders ignore the EXIF tag and the alpha channel: 8-4, 8-4b, 9-retrain, 9-1
    and 9-2 would see a phone's photo on its side and a clear background as black. as_shown
    gives the picture as a viewer shows it; other bytes pass."""
    import tensorflow as tf
    photo = phone_photo(tmp_path / "phone.jpg").read_bytes()
    assert tf.io.decode_image(photo).shape == (30, 40, 3)  # on its side, as stored
    image = tf.io.decode_image(tfcourse.as_shown(photo)).numpy()
    assert image.shape == (40, 30, 3)  # upright: 40 high, 30 wide
    assert image[2, 2, 0] > 180 and image[2, 2, 1] < 80 and image[-3, -3, 0] < 80  # red top-left
    plain = tmp_path / "plain.png"
    from PIL import Image
    Image.new("RGB", (5, 5)).save(plain)
    assert tfcourse.as_shown(plain.read_bytes()) == plain.read_bytes()  # no tag: the same bytes
    assert tfcourse.as_shown(b"not a picture") == b"not a picture"  # the decoder will say so
    clear = Image.new("RGBA", (20, 20), (0, 0, 0, 0))  # a product photo's clear background
    clear.paste((200, 30, 30, 255), (5, 5, 15, 15))
    clear.save(tmp_path / "clear.png")
    assert tf.io.decode_image(clear_bytes := (tmp_path / "clear.png").read_bytes(),
                              channels=3).numpy()[0, 0].tolist() == [0, 0, 0]  # black, as stored
    shown = tf.io.decode_image(tfcourse.as_shown(clear_bytes), channels=3).numpy()
    assert shown[0, 0].min() > 245 and shown[10, 10, 0] > 180 and shown[10, 10, 1] < 80
    opaque = tmp_path / "opaque.png"  # an alpha channel that hides nothing: kept as it is
    Image.new("RGBA", (5, 5), (9, 9, 9, 255)).save(opaque)
    assert tfcourse.as_shown(opaque.read_bytes()) == opaque.read_bytes()

    (tmp_path / "pictures" / "phone").mkdir(parents=True)  # 9-2 stores it upright
    phone_photo(tmp_path / "pictures" / "phone" / "IMG_0001.jpg")
    (tmp_path / "pictures" / "other").mkdir()
    Image.new("RGB", (30, 30)).save(tmp_path / "pictures" / "other" / "plain.jpg")
    code, out, err = run_lesson(CONVERT, "--data-dir", tmp_path / "pictures", "--num-test", "1",
                                "--num-shards", "1", "--out", tmp_path / "records")
    assert code == 0, err
    shapes, shards = [], [str(p) for p in (tmp_path / "records").glob("*.tfrecord")]
    for record in tf.data.TFRecordDataset(shards):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        encoded = feature["image/encoded"].bytes_list.value[0]
        shapes.append(tuple(tf.io.decode_image(encoded).shape))
    assert sorted(shapes) == [(30, 30, 3), (40, 30, 3)]


def test_train_own_model_learns_and_goes_on_from_its_checkpoint(shards, tmp_path):
    _, out_dir, _, _ = shards
    code, out, err = run_lesson(TRAIN, "--dataset_dir", out_dir, *TINY, "--log_every_n_steps", "7",
                                "--out", tmp_path / "train")
    assert code == 0, err
    steps = [int(s) for s in re.findall(r"^global step (\d+): loss = [\d.]+ \([\d.]+ sec/step\)$",
                                        out, re.M)]
    assert steps == [7, 14, 21, 28, 30]  # the last, shorter interval too
    accuracy = float(re.search(r"Test accuracy = ([\d.]+) \(N=12\)", out).group(1))
    assert accuracy >= 0.75  # 3 classes: chance is 0.33
    assert "SYNTHETIC" not in out  # the learner's own pictures
    record = json.loads((tmp_path / "train" / "metrics.json").read_text(encoding="utf-8"))
    assert [point["step"] for point in record["progress"]] == steps
    code, out, err = run_lesson(TRAIN, "--data-dir", out_dir, *TINY, "--max_number_of_steps", "40",
                                "--out", tmp_path / "train")
    assert code == 0, err
    assert "(global step 30)" in out and "global step 40:" in out and "global step 10:" not in out


def test_train_own_model_gives_the_same_run_for_the_same_seed(shards, tmp_path):
    _, out_dir, _, _ = shards
    losses = []
    for name in ("first", "again"):
        code, out, err = run_lesson(TRAIN, "--data-dir", out_dir, *TINY, "--steps", "14",
                                    "--log-every-n-steps", "7", "--out", tmp_path / name)
        assert code == 0, err
        losses.append(re.findall(r"^global step \d+: loss = ([\d.]+)", out, re.M))
    assert len(losses[0]) == 2 and losses[0] == losses[1]


def test_shards_of_drawn_shapes_are_labelled_synthetic_when_trained_on(tmp_path, monkeypatch):
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)  # runs/ goes under tmp_path
    code, out, err = run_lesson(CONVERT, "--data", "shapes", "--quick", "--shapes-per-class", "6",
                                "--num-test", "8")
    assert code == 0, err
    code, out, err = run_lesson(TRAIN, *TINY, "--out", tmp_path / "train")  # 9-2's newest run
    assert code == 0, err
    assert "SYNTHETIC" in out.splitlines()[-2]  # the end line, before 'run folder:'
    record = json.loads((tmp_path / "train" / "metrics.json").read_text(encoding="utf-8"))
    assert record["synthetic"] is True


# ------------------------------------------------------- bad input: one message, nothing left

def foreign_records(shard):
    import tensorflow as tf
    with tf.io.TFRecordWriter(str(shard)) as writer:
        writer.write(tf.train.Example().SerializeToString())  # no picture features


def label_out_of_range(shard):
    import tensorflow as tf
    feature = {"image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
               "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[7]))}
    with tf.io.TFRecordWriter(str(shard)) as writer:
        writer.write(tf.train.Example(features=tf.train.Features(feature=feature))
                     .SerializeToString())


def cut(path, n=100):
    path.write_bytes(path.read_bytes()[:-n])


def flip(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


SHARD = "image_train_00002-of-00005.tfrecord"
DAMAGE = {  # issue 22 class 6: files of 9-2; case: (damage, phrase)
    "shard truncated": (lambda d: cut(d / SHARD), f"{SHARD} is truncated"),
    "shard bit flipped": (lambda d: flip(d / SHARD), f"{SHARD} is damaged near byte [\\d,]+"),
    "last record cut short": (lambda d: cut(d / SHARD, 3), f"{SHARD} is truncated"),
    "another program's records": (lambda d: foreign_records(d / SHARD),
                                  f"records in .*{SHARD} are of another kind"),
    "label beyond labels.txt": (lambda d: label_out_of_range(d / SHARD),
                                f"{SHARD} holds label 7, but .*labels.txt has 3 classes"),
    "labels.txt missing": (lambda d: (d / "labels.txt").unlink(), "No labels.txt of 9-2 in"),
    "labels.txt not text": (lambda d: (d / "labels.txt").write_bytes(b"\xff\xfe\x81"),
                            "labels.txt is not UTF-8 text"),
    "labels.txt not id:name": (lambda d: (d / "labels.txt").write_text("cat\ndog\n"),
                               "holds 'cat', not 9-2's 'id:name' lines"),
    "labels.txt ids with a gap": (lambda d: (d / "labels.txt").write_text("0:a\n2:b\n"),
                                  "must number two or more classes 0, 1, 2"),
    "no train shards (another lesson's folder)": (
        lambda d: [p.unlink() for p in d.glob("image_train_*")], "No image_train_\\*.tfrecord"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_or_foreign_input_is_one_clear_message(shards, tmp_path, case):
    data = tmp_path / "records"
    shutil.copytree(shards[1], data)
    damage, phrase = DAMAGE[case]
    damage(data)
    out, err = refused(run_lesson(TRAIN, "--data-dir", data, *TINY, "--out", tmp_path / "train"),
                       phrase)
    assert "python week09_gpu_transfer/9_2_images_to_tfrecord.py" in err  # makes it again
    assert "global step" not in out and not (tmp_path / "train").exists()  # no run folder left


def test_train_without_any_run_of_9_2_says_convert_first(tmp_path, monkeypatch):
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)  # no runs of 9-2 here
    out, err = refused(run_lesson(TRAIN, *TINY, "--out", tmp_path / "r"), "No finished run of 9-2")
    assert "Remedy: run lesson 9-2, python week09_gpu_transfer/9_2_images_to_tfrecord.py" in err
    assert not (tmp_path / "r").exists()


def test_train_refuses_a_checkpoint_of_another_model(shards, tmp_path):
    import tensorflow as tf
    train_dir = tmp_path / "train" / "train_dir"
    W, b = tf.Variable(tf.zeros([784, 10])), tf.Variable(tf.zeros([10]))  # what lesson 8-1 saves
    tf.train.CheckpointManager(tf.train.Checkpoint(W=W, b=b), train_dir, max_to_keep=1).save()
    before = sorted(p.name for p in train_dir.iterdir())
    out, err = refused(run_lesson(TRAIN, "--data-dir", shards[1], *TINY,
                                  "--out", tmp_path / "train"),
                       "is not a checkpoint of this small_cnn for 3 classes")
    assert "Remedy" in err and "global step" not in out
    assert sorted(p.name for p in train_dir.iterdir()) == before


FLAGS = {  # issue 22 classes 3 (numbers, combinations), 7 (paths); (script, flags, code, phrase)
    "inception on small pictures": (TRAIN, ["--arch", "inception_v3", "--quick"], 1,
                                    "--image-size 75 or more"),
    "image size too small": (TRAIN, ["--image-size", "8"], 2, "argument --image-size"),
    "log every 0 steps": (TRAIN, ["--log-every-n-steps", "0"], 2, "argument --log-every-n-steps"),
    "no shards": (CONVERT, ["--num-shards", "0"], 2, "argument --num-shards"),
    "negative test count": (CONVERT, ["--num-test", "-1"], 2, "argument --num-test"),
    "convert: data dir is a file": (CONVERT, ["--data-dir", "{tmp}/a file"], 2,
                                    "is a file, not a folder"),
    "convert: missing folder": (CONVERT, ["--data-dir", "{tmp}/nowhere"], 1,
                                "does not exist.*\nRemedy: .*--data-dir DIR"),
    "train: data dir is a file": (TRAIN, ["--data-dir", "{tmp}/a file"], 2,
                                  "is a file, not a folder"),
    "train: out is a file": (TRAIN, ["--out", "{tmp}/a file"], 2, "is a file, not a folder"),
    "9-0: matrices of size 0": (CHECK_GPU, ["--size", "0"], 2, "argument --size"),
    "9-0: benchmarks of 0 seconds": (CHECK_GPU, ["--seconds", "0"], 2, "argument --seconds"),
    "9-1: top 0 classes": (f"{WEEK}/9_1_test_retrained.py", ["--top-k", "0"], 2,
                           "argument --top-k"),
}


@pytest.mark.parametrize("case", FLAGS)
def test_impossible_flags_are_one_message_before_any_work(tmp_path, case):
    script, flags, code, phrase = FLAGS[case]
    (tmp_path / "a file").write_text("a file, not a folder")
    flags = [flag.format(tmp=tmp_path) for flag in flags]
    refused(run_lesson(script, *flags, "--out", tmp_path / "run"), phrase, code)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]  # no run folder, nothing else


@pytest.mark.parametrize("stop, after", [("KeyboardInterrupt", 20), ("SIGTERM", 45),
                                         ("SIGHUP", 53)])
def test_stopped_conversion_leaves_no_temporary_file_nor_labels(shards, tmp_path, monkeypatch,
                                                                stop, after):
    """Ctrl-C, or a kill (SIGTERM: an IDE's stop button, SIGHUP: a closed terminal), while the
    train shards (20), or the test shards (45, 53), are written."""
    import tensorflow as tf
    real, written = tf.io.TFRecordWriter, []

    class Stopping(real):
        def write(self, record):
            written.append(record)
            if len(written) > after and stop == "KeyboardInterrupt":
                raise KeyboardInterrupt
            if len(written) > after:  # what the handlers of SIGTERM and SIGHUP raise
                raise tfcourse.cli.Stopped(stop)
            super().write(record)

    monkeypatch.setattr(tf.io, "TFRecordWriter", Stopping)
    out, err = refused(run_lesson(CONVERT, "--data-dir", shards[0], "--num-test", "12",
                                  "--out", tmp_path / "run"), "Interrupted", code=130)
    if stop != "KeyboardInterrupt":
        assert f"Interrupted ({stop})" in err
    left = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert not [name for name in left if ".tmp" in name] and "labels.txt" not in left, left
    record = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert record["status"] == "interrupted"
    monkeypatch.undo()
    refused(run_lesson(TRAIN, "--data-dir", tmp_path / "run", *TINY, "--out", tmp_path / "t"),
            "No labels.txt of 9-2 in")  # an incomplete set is not trained on
