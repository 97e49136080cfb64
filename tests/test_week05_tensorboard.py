"""Week 5: TensorBoard. The lessons run in --quick mode on synthetic digits (once, shared by the
tests), the event files are read back, and one test starts the real `tensorboard` on the run
folders and asks its HTTP API what a learner's browser would ask."""
import glob
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.core.protobuf import config_pb2

import tfcourse
from lesson_runner import run_lesson

LESSON_5_2 = "week05_tensorboard/5_2_tensorboard_graph.py"
LESSON_5_3 = "week05_tensorboard/5_3_tensorboard_running.py"
LESSON_5_4 = "week05_tensorboard/5_4_tensorboard_projector.py"
QUICK = ("--quick", "--data", "synthetic")
LESSON_SCOPES = ["input/x-input", "input/y-input", "layer/weights/W", "layer/biases/b",
                 "layer/xw_plus_b/", "layer/softmax/", "loss/", "train/", "accuracy/"]
VARIABLE_SUMMARIES = [f"layer/{part}/summaries/{name}"
                      for part in ("weights", "biases")
                      for name in ("mean", "stddev", "max", "min")]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("week05")


def _run_once(root, name, script, *flags):
    """Run a lesson --quick on synthetic digits into root/name (once per module: the fixtures)."""
    code, out, err = run_lesson(script, *QUICK, *flags, "--out", root / name)
    assert code == 0, err
    return root / name, out


@pytest.fixture(scope="module")
def run_5_2(root):
    return _run_once(root, "5_2", LESSON_5_2)


@pytest.fixture(scope="module")
def run_5_3(root):
    return _run_once(root, "5_3", LESSON_5_3, "--epochs", "3")


@pytest.fixture(scope="module")
def run_5_4(root):
    return _run_once(root, "5_4", LESSON_5_4, "--steps", "51")


@pytest.fixture(scope="module")
def runs(root, run_5_2, run_5_3, run_5_4):
    """Each lesson run once, into its own folder under one root (one fixture each: each run is
    timed with the first test that needs it)."""
    return {"5_2": run_5_2, "5_3": run_5_3, "5_4": run_5_4, "root": root}


def events(folder):
    """{tag: [(step, value or bytes)]} and the GraphDefs found in the one event file in `folder`."""
    files = glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    assert len(files) == 1, f"expected one event file in {folder}, found {files}"
    values, graphs = {}, []
    for event in tf.compat.v1.train.summary_iterator(files[0]):
        if event.graph_def:
            graphs.append(tf.compat.v1.GraphDef.FromString(event.graph_def))
        for value in event.summary.value:
            tensor = (tf.make_ndarray(value.tensor) if value.HasField("tensor")
                      else value.simple_value)
            values.setdefault(value.tag, []).append((event.step, tensor))
            if value.metadata.plugin_data.plugin_name == "graph_run_metadata_graph":
                run_metadata = config_pb2.RunMetadata.FromString(tensor.item())
                graphs.extend(g.pre_optimization_graph for g in run_metadata.function_graphs)
    return values, graphs


def has_lesson_scopes(graph, scopes=LESSON_SCOPES):
    names = [node.name for node in graph.node]
    return all(any(name.startswith(scope) for name in names) for scope in scopes)


def iter_lines(out, pattern):
    return [(int(i), float(acc)) for i, acc in re.findall(pattern, out)]


# ---------------------------------------------------------------- 5-2: the graph, both ways

def test_5_2_learns_and_writes_the_graph_both_ways(run_5_2):
    folder, out = run_5_2
    (epoch, acc), = iter_lines(out, r"(?m)^Iter (\d+),Testing Accuracy ([\d.]+)$")
    assert epoch == 0 and acc > 0.5  # chance is 0.1
    assert f"tensorboard --logdir {folder} --host 127.0.0.1" in out.splitlines()

    _, tf1_graphs = events(folder / "logs" / "tf1")  # FileWriter(logdir, sess.graph)
    assert len(tf1_graphs) == 1 and has_lesson_scopes(tf1_graphs[0])
    assert any(n.op == "Placeholder" and n.name == "input/x-input" for n in tf1_graphs[0].node)

    _, tf2_graphs = events(folder / "logs" / "tf2")  # tf.summary.graph of the traced train_step
    assert len(tf2_graphs) == 1 and has_lesson_scopes(tf2_graphs[0])
    assert not any(n.op == "Placeholder" and n.name == "input/x-input" for n in tf2_graphs[0].node)


def test_5_2_rerun_replaces_its_event_files(run_5_2):
    folder, _ = run_5_2
    code, _, err = run_lesson(LESSON_5_2, *QUICK, "--out", folder)  # again, same folder
    assert code == 0, err
    for run in ("tf1", "tf2"):  # one event file each, not one per run
        _, graphs = events(folder / "logs" / run)
        assert len(graphs) == 1


# ---------------------------------------------------------------- 5-3: summaries while training

def test_5_3_writes_variable_summaries_loss_and_accuracy_per_epoch(run_5_3):
    folder, out = run_5_3
    printed = iter_lines(out, r"(?m)^Iter (\d+),Testing Accuracy ([\d.]+)$")
    assert [epoch for epoch, _ in printed] == [0, 1, 2]  # typed --epochs 3 wins over --quick's 2
    assert printed[-1][1] > 0.5

    values, graphs = events(folder / "logs")
    for tag in VARIABLE_SUMMARIES + ["loss/loss", "accuracy/accuracy", "accuracy/train_accuracy",
                                     "layer/weights/summaries/histogram",
                                     "layer/biases/summaries/histogram"]:
        assert [step for step, _ in values[tag]] == [0, 1, 2], tag
    # the accuracy panel holds the numbers the script printed
    logged = [round(float(v), 4) for _, v in values["accuracy/accuracy"]]
    assert logged == [acc for _, acc in printed]
    # W starts at zero and spreads out as it learns; the loss falls
    stddev = [float(v) for _, v in values["layer/weights/summaries/stddev"]]
    assert 0 < stddev[0] < stddev[1] < stddev[2]
    loss = [float(v) for _, v in values["loss/loss"]]
    assert loss[2] < loss[1] < loss[0]
    # a histogram is (buckets, 3): left edge, right edge, count over all 7840 weights
    histogram = values["layer/weights/summaries/histogram"][-1][1]
    assert histogram.shape[1] == 3 and histogram[:, 2].sum() == pytest.approx(784 * 10)
    assert len(graphs) == 1  # the training step
    assert has_lesson_scopes(graphs[0], LESSON_SCOPES[:-1])
    # the progress points beside the printed lines, for `python -m tfcourse compare`
    record = json.loads((folder / "metrics.json").read_text())
    assert [p["epoch"] for p in record["progress"]] == [0, 1, 2]
    assert [p["test_accuracy"] for p in record["progress"]] == pytest.approx(
        [acc for _, acc in printed], abs=1e-4)
    assert record["status"] == "finished"


# ---------------------------------------------------------------- 5-4: the projector

def test_5_4_writes_what_the_projector_reads(run_5_4):
    folder, out = run_5_4
    printed = iter_lines(out, r"(?m)^Iter (\d+), Testing Accuracy= ([\d.]+)$")
    assert [i for i, _ in printed] == [0, 50]  # the typed --steps 51: every 100 steps, and the last
    assert printed[-1][1] > 0.5

    logdir = folder / "projector"
    data = tfcourse.load_mnist(data="synthetic", quick=True, seed=0, one_hot=False, verbose=False)
    n = len(data.x_test)  # a --quick run embeds all 1000 of its test images
    labels = (logdir / "metadata.tsv").read_text().splitlines()
    assert labels == [str(label) for label in data.y_test[:n]]

    # the `checkpoint` file in projector/ points at embedding/embedding.ckpt: TensorBoard reads it
    assert tf.train.latest_checkpoint(str(logdir)) == str(logdir / "embedding" / "embedding.ckpt")
    embedding = tf.train.load_checkpoint(str(logdir)).get_tensor(
        "embedding/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(embedding, data.x_test[:n])
    assert not [p for p in logdir.iterdir() if p.name.startswith(".")]  # no temporary files

    sprite = np.asarray(Image.open(logdir / "sprite.png"))
    side = int(np.ceil(np.sqrt(n)))
    assert sprite.shape == (side * 28, side * 28) and sprite.dtype == np.uint8
    for i in (0, 1, n - 1):  # thumbnail i, row by row, is image i with dark ink on white
        row, col = divmod(i, side)
        thumb = sprite[row * 28:(row + 1) * 28, col * 28:(col + 1) * 28] / 255.0
        np.testing.assert_allclose(thumb, 1.0 - data.x_test[i].reshape(28, 28), atol=1 / 255)
    assert (sprite[-28:, -28:] == 255).all()  # unused cells stay white

    from google.protobuf import text_format
    from tensorboard.plugins import projector
    config = text_format.Parse((logdir / "projector_config.pbtxt").read_text(),
                               projector.ProjectorConfig())
    (embed,) = config.embeddings
    assert (embed.metadata_path, embed.sprite.image_path) == ("metadata.tsv", "sprite.png")
    assert list(embed.sprite.single_image_dim) == [28, 28]

    values, _ = events(logdir)
    assert [step for step, _ in values["loss/loss"]] == list(range(51))
    assert [step for step, _ in values["accuracy/test_accuracy"]] == [0, 50]
    assert len(values["input_reshape/input"]) == 1


# ---------------------------------------------------------------- bad input: one message each


@pytest.mark.parametrize("script, flag, value", [
    (LESSON_5_4, "--steps", "0"), (LESSON_5_4, "--images", "0"), (LESSON_5_4, "--images", "many"),
    (LESSON_5_4, "--images", "10001"), (LESSON_5_3, "--epochs", "-2"), (LESSON_5_3, "--lr", "nan"),
    (LESSON_5_2, "--batch-size", "0"), (LESSON_5_2, "--seed", "-1")])
def test_impossible_numbers_stop_at_parse_time(tmp_path, script, flag, value):
    code, out, err = run_lesson(script, *QUICK, flag, value, "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert f"argument {flag}: expected" in err and "Iter" not in out
    assert not (tmp_path / "run").exists()


def test_5_4_more_images_than_the_test_set_is_one_message_with_a_remedy_that_works(tmp_path):
    code, out, err = run_lesson(LESSON_5_4, *QUICK, "--images", "3000", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "--images 3000 is more than the 1000 test images of a --quick run" in err
    assert "Remedy: --images 1000 or fewer, or leave out --quick." in err
    assert not (tmp_path / "run").exists()  # stopped before anything of its own was written
    # the remedy works: --images 1000 is what the run_5_4 fixture's --quick already uses


@pytest.mark.parametrize("script, flag", [(LESSON_5_3, "--out"), (LESSON_5_4, "--data-dir")])
def test_folder_flags_naming_a_file_stop_at_parse_time(tmp_path, script, flag):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    flags = {"--out": tmp_path / "run", "--data-dir": tmp_path / "data", flag: a_file}
    code, out, err = run_lesson(script, "--quick", *[str(v) for kv in flags.items() for v in kv])
    assert code == 2 and "Traceback" not in err
    assert f"argument {flag}: {a_file} is a file, not a folder" in err
    assert a_file.read_text() == "not a folder" and not (tmp_path / "run").exists()


@pytest.mark.parametrize("script, folder", [(LESSON_5_2, "logs"), (LESSON_5_3, "logs"),
                                            (LESSON_5_4, "projector")])
def test_a_run_folder_whose_log_folder_is_a_file_is_one_message(tmp_path, script, folder):
    (tmp_path / folder).write_text("my notes")  # --out names a folder that holds a file `logs`
    code, out, err = run_lesson(script, *QUICK, "--out", tmp_path)
    assert code == 1 and "Traceback" not in err
    assert f"{tmp_path / folder} is a file" in err and "Remedy: another --out folder" in err
    assert (tmp_path / folder).read_text() == "my notes"  # untouched
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "failed"


def test_5_4_killed_while_writing_the_checkpoint_leaves_no_temporary_folder(tmp_path, monkeypatch):
    """SIGTERM arrives as tfcourse.cli.Stopped (a KeyboardInterrupt) wherever Python is: here in
    the middle of the checkpoint write, after its files are on disk."""
    real_write = tf.train.Checkpoint.write

    def write_then_killed(self, prefix, *args, **kwargs):
        real_write(self, prefix, *args, **kwargs)
        raise tfcourse.cli.Stopped("SIGTERM")
    monkeypatch.setattr(tf.train.Checkpoint, "write", write_then_killed)
    code, out, err = run_lesson(LESSON_5_4, *QUICK, "--out", tmp_path)
    assert code == 130 and "Traceback" not in err and "Interrupted (SIGTERM)" in err
    projector = tmp_path / "projector"
    assert sorted(p.name for p in projector.iterdir()) == ["metadata.tsv", "sprite.png"]
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "interrupted"


def test_5_3_a_diverging_learning_rate_is_one_clear_message(tmp_path):
    code, out, err = run_lesson(LESSON_5_3, *QUICK, "--epochs", "1", "--lr", "1e38",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "The loss became" in err and "at epoch 0" in err and "--lr 1e+38" in err


# ---------------------------------------------------------------- the real TensorBoard

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def test_real_tensorboard_serves_scalars_graphs_and_projector(runs, tmp_path):
    """Start `tensorboard` on the three run folders, ask its HTTP API, stop it by its PID.

    `--reload_interval 0 --reload_task blocking` makes it read every event file BEFORE it starts
    serving, so its "TensorBoard ... at http://127.0.0.1:PORT/" line means the data is there."""
    root, port = runs["root"], _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(root), "--host", "127.0.0.1",
         "--port", str(port), "--load_fast", "false", "--reload_interval", "0",
         "--reload_task", "blocking"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    try:
        log, deadline = [], time.monotonic() + 100  # it starts in about 10 s; never hang the suite
        while not any(f"127.0.0.1:{port}" in line for line in log):  # its "serving at" line
            try:
                log.append(lines.get(timeout=1))  # wakes at once when a line arrives
            except queue.Empty:
                assert process.poll() is None, "tensorboard exited:\n" + "".join(log)
                assert time.monotonic() < deadline, ("tensorboard did not start in 100 s:\n"
                                                     + "".join(log))

        scalar_tags = json.loads(_get(base + "/data/plugin/scalars/tags"))
        expected = set(VARIABLE_SUMMARIES + ["loss/loss", "accuracy/accuracy"])
        assert expected <= set(scalar_tags["5_3/logs"])
        assert "loss/loss" in scalar_tags["5_4/projector"]
        histogram_tags = json.loads(_get(base + "/data/plugin/histograms/tags"))
        assert "layer/weights/summaries/histogram" in histogram_tags["5_3/logs"]
        graph_runs = json.loads(_get(base + "/data/plugin/graphs/info"))
        assert {"5_2/logs/tf1", "5_2/logs/tf2"} <= set(graph_runs)

        info = json.loads(_get(base + "/data/plugin/projector/info?run=5_4/projector"))
        (embed,) = [e for e in info["embeddings"] if e["tensorName"].startswith("embedding/")]
        assert embed["tensorShape"] == [1000, 784]
        assert embed["sprite"]["singleImageDim"] == [28, 28]
        name = urllib.request.quote(embed["tensorName"])
        query = f"run=5_4/projector&name={name}"
        metadata = _get(f"{base}/data/plugin/projector/metadata?{query}").decode()
        written = (root / "5_4" / "projector" / "metadata.tsv").read_text()
        assert metadata.splitlines() == written.splitlines()
        sprite = _get(f"{base}/data/plugin/projector/sprite_image?{query}")
        assert sprite[:8] == b"\x89PNG\r\n\x1a\n"
    finally:  # stop it by its PID, whatever happened above
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
    with pytest.raises(OSError):  # stopped: nothing answers on its port any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
