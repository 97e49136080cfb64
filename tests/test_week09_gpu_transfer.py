"""Week 9: check_gpu without a GPU, retrain + 9-1 on drawn pictures, TFRecord shards + training.

All data is drawn by the tests (coloured shapes per class). The Keras Inception-v3 base runs with
random weights (the hidden --random-base option: ImageNet weights cannot be downloaded here), and
the lesson's 2015 graph is replaced by tfcourse.inception's tiny stand-in with the same tensor names.
"""
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


def colour_pictures(root, per_class=8):
    """Pictures whose mean colour tells the class (what the tiny stand-in graph's features see)."""
    import random
    from PIL import Image
    rng = random.Random(1)
    for name, colour in (("red circle", (200, 40, 40)), ("green square", (40, 180, 60)), ("blue triangle", (50, 70, 210))):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            jitter = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in colour)
            Image.new("RGB", (40 + i, 40), jitter).save(root / name / f"{name} {i:03d}.jpg")
    return root


def bottleneck_files(folder):
    return sorted(p for p in Path(folder).rglob("*.txt") if p.is_file())


# ---------------------------------------------------------------- 9-0 check_gpu

def test_check_gpu_reports_devices_benchmark_and_next_steps():
    import tensorflow as tf
    code, out, err = run_lesson(f"{WEEK}/9_0_check_gpu.py", "--quick", "--platform", "windows")
    assert code == 0, err
    assert f"TensorFlow {tf.__version__}" in out and "Physical devices: CPU:0" in out
    gflops = float(re.search(r"CPU:0\s+float32\s+([\d.]+) GFLOP/s", out).group(1))
    assert gflops > 0
    if tf.config.list_physical_devices("GPU"):
        assert re.search(r"GPU:0\s+float32\s+[\d.]+ GFLOP/s", out) and "OK: TensorFlow uses" in out
        return
    assert "No GPU" in out and "Native Windows has had no GPU build" in out and "WSL2" in out
    code, out, _ = run_lesson(f"{WEEK}/9_0_check_gpu.py", "--quick", "--platform", "linux", "--require-gpu")
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


# ---------------------------------------------------------------- retrain and 9-1

def test_retrain_keras_base_caches_bottlenecks_and_writes_a_model(tmp_path):
    images = make_pictures(tmp_path / "train")
    args = ["--image-dir", images, "--random-base", "--how-many-training-steps", "12",
            "--validation-percentage", "20", "--testing-percentage", "20", "--out", tmp_path / "run"]
    code, out, err = run_lesson(f"{WEEK}/9_1_retrain.py", *args)
    assert code == 0, err
    usable = 3 * 6 + 2  # shapes + the PNG and the GIF; not the text file nor the broken JPEG
    assert f"Bottlenecks: {usable + 1} computed" not in out
    assert f"Bottlenecks: {usable} computed, 0 reused" in out
    assert len(bottleneck_files(tmp_path / "run" / "bottleneck")) == usable
    assert "notes.txt: not an image file" in out and "broken.jpg: cannot be decoded" in out
    assert "no images found in class folder 'empty class'" in out
    assert re.search(r": Step 0: Train accuracy = \d+\.\d%", out)
    assert re.search(r": Step 11: Validation accuracy = \d+\.\d% \(N=\d+\)", out)
    assert re.search(r"Final test accuracy = \d+\.\d% \(N=[1-9]\d*\)", out)
    assert (tmp_path / "run" / "output_model" / "saved_model.pb").is_file()
    assert (tmp_path / "run" / "output_labels.txt").read_text(encoding="utf-8").split("\n")[:3] == \
        ["blue triangle", "green square", "red circle"]

    # (Re-runs reuse the cache: tested with the stand-in graph below, where a run costs far less.)


def tiny_inception(folder):
    import tfcourse
    from tfcourse import inception
    archive = folder / "tiny.tgz"
    archive.write_bytes(inception.tiny_archive())
    return tfcourse.extract_tar(archive, folder / "inception_model")


def test_retrain_with_the_2015_graph_learns_reuses_its_cache_and_9_1_classifies(tmp_path):
    from PIL import Image
    images = colour_pictures(tmp_path / "图片 train", per_class=10)
    model_dir = tiny_inception(tmp_path)
    args = ["--image-dir", images, "--graph", "--model-dir", model_dir, "--testing-percentage", "25",
            "--out", tmp_path / "run"]
    code, out, err = run_lesson(f"{WEEK}/9_1_retrain.py", *args)
    assert code == 0, err
    assert "Bottlenecks: 30 computed, 0 reused" in out
    test_accuracy = float(re.search(r"Final test accuracy = ([\d.]+)%", out).group(1))
    assert test_accuracy >= 80  # the stand-in's features are the mean colour: 3 colours, chance 33%

    # A second run computes no bottleneck: every one comes from the cache.
    code, out, err = run_lesson(f"{WEEK}/9_1_retrain.py", *args)
    assert code == 0, err
    assert "Bottlenecks: 0 computed, 30 reused" in out

    # Change one picture: only its bottleneck is computed again.
    changed = images / "red circle" / "red circle 003.jpg"
    Image.new("RGB", (48, 48), (200, 30, 30)).save(changed)
    code, out, err = run_lesson(f"{WEEK}/9_1_retrain.py", *args)
    assert code == 0, err
    assert "Bottlenecks: 1 computed, 29 reused" in out

    pictures = tmp_path / "images"
    pictures.mkdir()
    for name, colour in (("red.jpg", (220, 30, 30)), ("green.png", (30, 200, 50)), ("blue.gif", (40, 60, 230))):
        Image.new("RGB", (40, 40), colour).save(pictures / name)
    (pictures / "readme.md").write_text("hello")
    code, out, err = run_lesson(f"{WEEK}/9_1_test_retrained.py", "--model", tmp_path / "run" / "output_model",
                                "--images", pictures, "--out", tmp_path / "test")
    assert code == 0, err
    lines = out.splitlines()
    blocks = {Path(line).name: lines[i + 1:i + 4] for i, line in enumerate(lines)
              if line.endswith(("red.jpg", "green.png", "blue.gif"))}
    assert set(blocks) == {"red.jpg", "green.png", "blue.gif"}
    for name, expected in (("red.jpg", "red circle"), ("green.png", "green square"), ("blue.gif", "blue triangle")):
        scores = [re.fullmatch(r"(.+) \(score = (\d\.\d{5})\)", line) for line in blocks[name][:3]]
        assert all(scores), blocks[name]
        assert scores[0].group(1) == expected  # best class first
        assert abs(sum(float(s.group(2)) for s in scores) - 1) < 1e-3
    assert "readme.md: not an image file" in out
    assert (tmp_path / "test" / "predictions.png").is_file()


@pytest.mark.parametrize("case", ["one class", "missing folder"])
def test_retrain_refuses_unusable_folders(tmp_path, case):
    root = tmp_path / "train"
    if case == "one class":
        draw_shapes(root, per_class=3, size=32, classes=("red circle",))
        (root / "empty").mkdir()
    code, out, err = run_lesson(f"{WEEK}/9_1_retrain.py", "--image-dir", root, "--random-base",
                                "--out", tmp_path / "run")
    assert code != 0 and "Traceback" not in err
    assert ("needs at least two" in err and "Empty class folders: empty" in err) if case == "one class" \
        else "does not exist" in err
    assert "Remedy" in err


def test_9_1_without_a_model_says_run_retrain_first(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/9_1_test_retrained.py", "--model", tmp_path / "nothing",
                                "--out", tmp_path / "run")
    assert code != 0 and "run week09_gpu_transfer/9_1_retrain.py first" in err


# ---------------------------------------------------------------- 9-2: TFRecord shards, own model

def test_tfrecord_shards_labels_and_training_from_them(tmp_path):
    import tensorflow as tf
    images = make_pictures(tmp_path / "pictures", per_class=20, classes=("red circle", "green square", "黄色 星形"))
    out_dir = tmp_path / "records"
    code, out, err = run_lesson(f"{WEEK}/9_2_images_to_tfrecord.py", "--dataset-dir", images,
                                "--num-test", "12", "--out", out_dir)
    assert code == 0, err
    usable = 3 * 20 + 2
    assert f">> Converting image {usable - 12}/{usable - 12} shard 4" in out
    assert ">> Converting image 12/12 shard 3" in out  # 3 per shard: the fifth test shard is empty
    assert "broken.jpg: cannot be decoded" in out and "notes.txt: not an image file" in out
    names = sorted(p.name for p in out_dir.glob("*.tfrecord"))
    assert names == [f"image_{s}_{i:05d}-of-00005.tfrecord" for s in ("test", "train") for i in range(5)]
    assert not list(out_dir.glob("*.tmp"))
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

    code, out, err = run_lesson(f"{WEEK}/9_2_images_to_tfrecord.py", "--dataset-dir", images, "--out", out_dir)
    assert code == 0 and "exist already" in out  # kept, as the lesson does
    code, out, err = run_lesson(f"{WEEK}/9_2_images_to_tfrecord.py", "--dataset-dir", images, "--overwrite",
                                "--num-test", "500", "--out", out_dir)
    assert code != 0 and "would leave none for training" in err

    code, out, err = run_lesson(f"{WEEK}/9_2_train_own_model.py", "--dataset-dir", out_dir, "--quick",
                                "--steps", "50", "--out", tmp_path / "train")
    assert code == 0, err
    assert re.search(r"global step 50: loss = [\d.]+ \([\d.]+ sec/step\)", out)
    accuracy = float(re.search(r"Test accuracy = ([\d.]+) \(N=12\)", out).group(1))
    assert accuracy >= 0.75  # 3 classes: chance is 0.33
    # A second run continues from the checkpoint instead of starting again.
    code, out, err = run_lesson(f"{WEEK}/9_2_train_own_model.py", "--dataset-dir", out_dir, "--quick",
                                "--steps", "60", "--out", tmp_path / "train")
    assert code == 0, err
    assert "(global step 50)" in out and "global step 60:" in out and "global step 10:" not in out


def test_train_without_shards_says_convert_first(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/9_2_train_own_model.py", "--dataset-dir", tmp_path, "--out", tmp_path / "r")
    assert code != 0 and "9_2_images_to_tfrecord.py first" in err
