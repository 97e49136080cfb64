"""Week 9: 9-0 check_gpu without a GPU, 9-2 pictures -> TFRecord shards -> your own model.

All pictures are drawn by the tests (coloured shapes per class, plus awkward files).
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
