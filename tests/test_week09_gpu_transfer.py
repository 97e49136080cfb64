"""Week 9: retrain (9-retrain) and the test of its model (9-1), on pictures the tests draw.

Keras's InceptionV3 is replaced by a tiny model of the same interface (its ImageNet weights cannot
be downloaded here, and building the real one costs seconds); the lesson's 2015 graph by
`inception_standin`, which has the real graph's tensor names, old ops and GraphDef version, and
whose features are the mean colour, so a retrained layer can learn colours.
(9-0 and 9-2 are tested in test_week09_tfrecord.py, 9-3 in test_week09_strategy.py, but for
its global-batch check, at the end here.)
"""
import random
import re
import shutil
from pathlib import Path

import pytest

import inception_standin
import tfcourse
import tfcourse.cli
from lesson_runner import run_lesson

WEEK = "week09_gpu_transfer"
RETRAIN, TEST = f"{WEEK}/9_1_retrain.py", f"{WEEK}/9_1_test_retrained.py"
DISTRIBUTED = f"{WEEK}/9_3_distributed_cnn.py"
SCORE = re.compile(r"(.+) \(score = (\d\.\d{5})\)")
COLOURS = {"red circle": (200, 40, 40), "green square": (40, 180, 60),
           "blue triangle": (50, 70, 210)}


def colour_pictures(root, per_class=10, classes=tuple(COLOURS)):
    """Pictures whose mean colour tells the class (what the stand-in graph's features see)."""
    from PIL import Image
    rng = random.Random(1)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            colour = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in COLOURS[name])
            Image.new("RGB", (40 + i, 40), colour).save(root / name / f"{name} {i:03d}.jpg")
    return root


def awkward_pictures(root):
    """Coloured pictures plus the awkward cases: a PNG, a GIF, a text file, a broken JPEG and an
    empty class folder."""
    from PIL import Image
    colour_pictures(root, per_class=6)
    Image.open(root / "red circle" / "red circle 000.jpg").save(root / "red circle" / "as png.png")
    green = root / "green square"
    Image.open(green / "green square 000.jpg").save(green / "动图.gif")
    (root / "green square" / "notes.txt").write_text("not a picture")
    (root / "blue triangle" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a jpeg" * 4)
    whole = (root / "red circle" / "red circle 001.jpg").read_bytes()
    (root / "blue triangle" / "cut.jpg").write_bytes(whole[:-10])  # a copy broken off near its end
    (root / "empty class").mkdir()
    return root


def pictures_to_classify(folder):
    from PIL import Image
    folder.mkdir()
    for name, colour in (("red.jpg", (220, 30, 30)), ("green.png", (30, 200, 50)),
                         ("blue.gif", (40, 60, 230))):
        Image.new("RGB", (40, 40), colour).save(folder / name)
    (folder / "readme.md").write_text("hello")
    return folder


def score_blocks(out, names):
    """{picture name: [(label, score)...]} from 9-1's output."""
    lines = out.splitlines()
    return {Path(line).name: [(m.group(1), float(m.group(2)))
                              for m in map(SCORE.fullmatch, lines[i + 1:i + 4]) if m]
            for i, line in enumerate(lines) if line.endswith(names)}


def refused(result, phrase, code=1):
    exit_code, out, err = result
    assert exit_code == code and "Traceback" not in err, err
    assert phrase in err, err


@pytest.fixture
def fake_keras_inception(monkeypatch, tmp_path):
    """A tiny model in place of tf.keras.applications.InceptionV3; Keras's file is not fetched."""
    import tensorflow as tf
    calls = []

    def InceptionV3(include_top=True, weights="imagenet", input_shape=None, pooling=None):
        calls.append(dict(include_top=include_top, weights=weights, input_shape=input_shape,
                          pooling=pooling))
        return tf.keras.Sequential([tf.keras.Input(input_shape),
                                    tf.keras.layers.GlobalAveragePooling2D(),
                                    tf.keras.layers.Dense(2048)])  # -> (2048,), as pooling="avg"

    def download(urls, dest, **checks):
        calls.append(dict(urls=urls, dest=Path(dest).name, **checks))
        return tmp_path / Path(dest).name

    monkeypatch.setattr(tf.keras.applications, "InceptionV3", InceptionV3)
    monkeypatch.setattr(tfcourse, "download", download)
    return calls


@pytest.fixture(scope="module")
def standin_model(tmp_path_factory):
    """The stand-in 2015 graph, extracted as the course's inception_model/."""
    return inception_standin.extracted(tmp_path_factory.mktemp("inception") / "inception_model")


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, standin_model):
    """One retrain run on the stand-in graph: its run folder (output_model/, output_labels.txt)."""
    root = tmp_path_factory.mktemp("retrained")
    code, out, err = run_lesson(RETRAIN, "--data-dir", colour_pictures(root / "train"), "--graph",
                                "--model-dir", standin_model, "--steps", "50",
                                "--out", root / "run")
    assert code == 0, err
    return root / "run"


def test_retrain_keras_base_with_the_courses_flags(tmp_path, fake_keras_inception):
    images = awkward_pictures(tmp_path / "train")
    out_dir = tmp_path / "out"
    code, out, err = run_lesson(
        RETRAIN, "--image_dir", images, "--how_many_training_steps", "12",
        "--validation_percentage", "20", "--testing_percentage", "20", "--learning_rate", "0.05",
        "--train_batch_size", "16", "--bottleneck_dir", tmp_path / "bn",
        "--output_graph", out_dir / "output_graph", "--output_labels", out_dir / "labels.txt",
        "--out", tmp_path / "run")
    assert code == 0, err
    weights = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert fake_keras_inception[0]["dest"] == weights and fake_keras_inception[0]["md5"]
    assert fake_keras_inception[1] == dict(include_top=False, pooling="avg",
                                           input_shape=(299, 299, 3),
                                           weights=str(tmp_path / weights))
    usable = 3 * 6 + 2  # the pictures + the PNG and the GIF; not the text nor the broken JPEG
    assert f"Bottlenecks: {usable} computed, 0 reused from {tmp_path / 'bn'}" in out
    assert len(list((tmp_path / "bn").rglob("*_inception_v3.txt"))) == usable
    assert "notes.txt: not an image file" in out and "broken.jpg: cannot be decoded" in out
    assert "cut.jpg: cannot be decoded" in out and "Premature end" not in err  # libjpeg's line
    assert "no images found in class folder 'empty class'" in out
    assert re.search(r": Step 0: Train accuracy = \d+\.\d%", out)
    assert re.search(r": Step 11: Validation accuracy = \d+\.\d% \(N=\d+\)", out)
    assert re.search(r"Final test accuracy = \d+\.\d% \(N=[1-9]\d*\)", out)
    assert (out_dir / "output_graph" / "saved_model.pb").is_file()
    assert not (tmp_path / "run" / "output_model").exists()
    labels = (out_dir / "labels.txt").read_text(encoding="utf-8")
    assert labels == "blue triangle\ngreen square\nred circle\n"

    code, out, err = run_lesson(TEST, "--model-dir", out_dir / "output_graph",
                                "--labels", out_dir / "labels.txt",
                                "--data-dir", pictures_to_classify(tmp_path / "images"),
                                "--top-k", "2", "--out", tmp_path / "test")
    assert code == 0, err
    blocks = score_blocks(out, ("red.jpg", "green.png", "blue.gif"))
    assert set(blocks) == {"red.jpg", "green.png", "blue.gif"}
    assert all(len(block) == 2 for block in blocks.values())


def test_retrain_with_the_2015_graph_learns_reuses_its_cache_and_9_1_finds_it(
        tmp_path, standin_model, monkeypatch):
    from PIL import Image
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)  # runs/ goes under tmp_path
    images = colour_pictures(tmp_path / "图片 train")
    args = ["--data-dir", images, "--graph", "--model-dir", standin_model,
            "--testing-percentage", "25"]
    code, out, err = run_lesson(RETRAIN, *args)
    assert code == 0, err
    cache = tmp_path / "runs" / WEEK / "9_1_retrain" / "bottleneck"  # beside the runs, shared
    assert f"Bottlenecks: 30 computed, 0 reused from {cache}" in out
    test_accuracy = float(re.search(r"Final test accuracy = ([\d.]+)%", out).group(1))
    assert test_accuracy >= 80  # the stand-in's features are the mean colour: chance is 33%

    Image.new("RGB", (48, 48), (200, 30, 30)).save(images / "red circle" / "red circle 003.jpg")
    damaged = cache / "green square" / "green square 001.jpg_pool_3_2015.txt"
    damaged.write_text("sha1=x\n1,2")
    code, out, err = run_lesson(RETRAIN, *args)  # only the changed picture and the damaged file
    assert code == 0, err
    assert "Bottlenecks: 2 computed, 28 reused" in out

    code, out, err = run_lesson(TEST, "--data-dir", pictures_to_classify(tmp_path / "images"),
                                "--out", tmp_path / "test")
    assert code == 0, err  # no --model-dir: retrain's newest finished run
    blocks = score_blocks(out, ("red.jpg", "green.png", "blue.gif"))
    for name, expected in (("red.jpg", "red circle"), ("green.png", "green square"),
                           ("blue.gif", "blue triangle")):
        assert len(blocks[name]) == 3 and blocks[name][0][0] == expected  # all classes, best first
        assert abs(sum(score for _, score in blocks[name]) - 1) < 1e-3
    assert "readme.md: not an image file" in out
    assert (tmp_path / "test" / "predictions.png").stat().st_size > 1000


# ------------------------------------------------------- bad input: one message, nothing left

RETRAIN_CASES = {  # case: (flags, exit code, phrase); issue 22 classes 3 (numbers), 7 (paths)
    "one class": ([], 1, "Empty class folders: empty"),
    "missing folder": (["--data-dir", "{tmp}/nowhere"], 1, "does not exist"),
    "percentages leave no training": (["--validation_percentage", "60", "--testing_percentage",
                                       "40"], 1, "leave no pictures for training"),
    "percentage above 100": (["--testing-percentage", "101"], 2, "argument --testing-percentage"),
    "negative percentage": (["--validation-percentage", "-5"], 2, "expected a finite number"),
    "no pictures per class": (["--max-per-class", "0"], 2, "argument --max-per-class"),
    "data dir is a file": (["--data-dir", "{tmp}/a file"], 2, "is a file, not a folder"),
    "bottleneck dir is a file": (["--bottleneck-dir", "{tmp}/a file"], 2,
                                 "is a file, not a folder"),
    "output model is a file": (["--output_graph", "{tmp}/a file"], 2, "is a file, not a folder"),
    "output labels is a folder": (["--output-labels", "{tmp}"], 1, "is a folder, not a file"),
}


@pytest.mark.parametrize("case", RETRAIN_CASES)
def test_retrain_refuses_bad_input(tmp_path, standin_model, case):
    from PIL import Image
    flags, code, phrase = RETRAIN_CASES[case]
    root = tmp_path / "train"
    if case == "one class":
        colour_pictures(root, per_class=3, classes=("red circle",))
        (root / "empty").mkdir()
    else:
        colour_pictures(root, per_class=3)
    (tmp_path / "a file").write_text("a file, not a folder")
    Image.new("RGB", (8, 8)).save(tmp_path / "unrelated.jpg")
    flags = [flag.format(tmp=tmp_path) for flag in flags]
    result = run_lesson(RETRAIN, "--data-dir", root, "--graph", "--model-dir", standin_model,
                        *flags, "--out", tmp_path / "run")
    refused(result, phrase, code)
    if code == 1:
        assert "Remedy" in result[2] and "--image-dir" not in result[2]  # flags that exist
    assert not (tmp_path / "run").exists() and not list(tmp_path.rglob("*.tmp*"))


def another_programs_model(folder):
    import tensorflow as tf
    module = tf.Module()
    module.w = tf.Variable(tf.ones([784, 10]))
    module.f = tf.function(lambda x: tf.matmul(x, module.w),
                           input_signature=[tf.TensorSpec([None, 784], tf.float32, name="x")])
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.f})


TEST_CASES = {  # issue 22 class 6 (files of 9-retrain), 7 (paths); case: (exit code, phrase)
    "no model": (1, "No retrained model in {run}"),
    "no run at all": (1, "No retrained model in runs/week09_gpu_transfer/9_1_retrain/"),
    "damaged saved_model.pb": (1, "{run}/output_model holds a damaged SavedModel"),
    "another program's model": (1, "holds a SavedModel of another program"),
    "labels of another model": (1, "does not belong to"),
    "labels missing": (1, "Cannot read the labels {run}/output_labels.txt"),
    "labels not text": (1, "are not UTF-8 text"),
    "no pictures": (1, "No pictures to classify"),
    "model dir is a file": (2, "is a file, not a folder"),
    "labels is a folder": (2, "is a folder, not a file"),
}


@pytest.mark.parametrize("case", TEST_CASES)
def test_9_1_refuses_what_is_not_retrains_model(tmp_path, retrained, monkeypatch, case):
    monkeypatch.setattr(tfcourse.cli, "PROJECT_ROOT", tmp_path)  # no runs of retrain here
    run = tmp_path / "run"
    shutil.copytree(retrained, run)
    pictures = pictures_to_classify(tmp_path / "images")
    flags = ["--model-dir", run]
    if case == "no model":
        shutil.rmtree(run / "output_model")
    elif case == "no run at all":
        flags = []
    elif case == "damaged saved_model.pb":
        pb = run / "output_model" / "saved_model.pb"
        pb.write_bytes(pb.read_bytes()[:200])  # cut short
    elif case == "another program's model":
        shutil.rmtree(run / "output_model")
        another_programs_model(run / "output_model")
    elif case == "labels of another model":
        (run / "output_labels.txt").write_text("cat\ndog\nbird\n")
    elif case == "labels missing":
        (run / "output_labels.txt").unlink()
    elif case == "labels not text":
        (run / "output_labels.txt").write_bytes(b"\xff\xfe\x00\x81 binary")
    elif case == "no pictures":
        shutil.rmtree(pictures)
        pictures.mkdir()
        (pictures / "notes.txt").write_text("no pictures here")
    elif case == "model dir is a file":
        flags = ["--model-dir", run / "output_labels.txt"]
    else:
        flags += ["--labels", run]
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    result = run_lesson(TEST, *flags, "--data-dir", pictures, "--out", tmp_path / "o")
    code, phrase = TEST_CASES[case]
    refused(result, phrase.format(run=run), code)
    if case == "another program's model":
        assert "its signatures: serving_default(x) -> output_0" in result[2]
    if code == 1 and case != "no pictures":  # the lesson that makes the right one
        assert f"python {RETRAIN}" in result[2]
    assert not (tmp_path / "o").exists()  # a run that failed before any result leaves no folder
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # nothing changed there


def test_9_3_refuses_a_global_batch_bigger_than_the_training_set(tmp_path, monkeypatch):
    """--batch-size is per replica: load_mnist checks it, 9-3 the global batch."""
    import types
    import tensorflow as tf
    # many replicas without starting devices: the check comes before the strategy is used
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda *a, **k: types.SimpleNamespace(
        num_replicas_in_sync=1000))
    result = run_lesson(DISTRIBUTED, "--quick", "--data", "synthetic", "--out", tmp_path / "run")
    refused(result, "A global batch of 100000 (100 per replica x 1000 replicas) is more than")
    assert re.search(r"more than the \d+ training images\.\nRemedy: a smaller --batch-size, "
                     r"at most \d+\.", result[2])
    assert "Iter " not in result[1] and not (tmp_path / "run").exists()  # stopped before training
