"""Bad input a learner can cause, in the shared code of every lesson: one clear message, a
non-zero exit, and nothing half-written or left behind to break the next run (issue 22).

Lesson 3-2 stands in for every lesson here: the flags, the run folder, the signals and the MNIST
loading are the same shared code in all of them. Lesson-specific cases (another model's
checkpoint, a damaged TFRecord shard, ...) are tested beside their lessons.
"""
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tfcourse
from lesson_runner import PROJECT_ROOT, run_lesson
from tfcourse import cli, mnist

LESSON = "week03_regression/3_2_mnist_simple.py"
QUICK = ("--quick", "--data", "synthetic", "--epochs", "1")


def assert_clear_failure(code, err, phrase, exit_code=1):
    assert code == exit_code, err
    assert "Traceback" not in err
    assert phrase in err, err


# ## Class 3: numbers argparse would take but NumPy or TensorFlow would not
@pytest.mark.parametrize("flag, value, phrase", [
    ("--epochs", "0", "a whole number above 0"),
    ("--epochs", "-1", "a whole number above 0"),
    ("--batch-size", "0", "a whole number above 0"),
    ("--lr", "nan", "a finite number above 0"),
    ("--lr", "-0.1", "a finite number above 0"),
    ("--lr", "fast", "a finite number above 0"),
    ("--seed", "-1", "a whole number from 0 to 4294967295"),
    ("--seed", str(2**32), "a whole number from 0 to 4294967295"),
    ("--threads", "0", "--threads"),
    ("--memory-limit", "-5", "a whole number above 0"),
])
def test_impossible_numbers_stop_at_parse_time(tmp_path, flag, value, phrase):
    code, out, err = run_lesson(LESSON, *QUICK, flag, value, "--out", tmp_path / "run")
    assert_clear_failure(code, err, phrase, exit_code=2)
    assert flag in err and "Iter" not in out
    assert not (tmp_path / "run").exists()  # nothing was started, so nothing was made


def test_batch_larger_than_the_data_is_refused(tmp_path):
    code, out, err = run_lesson(LESSON, *QUICK, "--batch-size", "100000", "--out", tmp_path / "run")
    assert_clear_failure(code, err, "--batch-size 100000 is larger than the 5000 training images")
    assert "Iter" not in out
    assert not (tmp_path / "run").exists()  # a run that fails before any progress leaves no folder


def test_a_diverging_loss_stops_with_the_step_and_the_remedy(tmp_path):
    parser = tfcourse.parser("Lesson 0-0 测试 — test.", lr=0.5)
    run = tfcourse.start(parser.parse_args(["--out", str(tmp_path / "run")]), "week00/0_0.py")
    try:
        run.check_finite(1.25, "epoch 0")  # a finite loss passes
        with pytest.raises(tfcourse.CourseError,
                           match=r"(?s)became nan at epoch 3.*smaller learning rate than --lr 0.5"):
            run.check_finite(float("nan"), "epoch 3")
        with pytest.raises(tfcourse.CourseError, match="became inf"):
            run.check_finite(np.float32("inf"), "step 10")
    finally:
        run.close("failed")


def test_quick_changes_defaults_only_and_typed_flags_win():
    parser = tfcourse.parser("Lesson 0-0 测试 — test.", epochs=21, batch_size=100,
                             quick=dict(epochs=2))
    assert parser.parse_args([]).epochs == 21
    assert parser.parse_args(["--quick"]).epochs == 2
    assert parser.parse_args(["--quick", "--epochs", "5"]).epochs == 5
    assert parser.parse_args(["--epochs", "5", "--quick"]).epochs == 5
    assert parser.parse_args(["--quick"]).batch_size == 100  # not in the quick dict: the lesson's
    assert parser.parse_args([]).epochs == 21  # --quick left no defaults behind
    assert tfcourse.parse(parser, "--quick --epochs 3").epochs == 3  # a notebook's way


# ## Class 7: a path flag naming the wrong kind of thing
@pytest.mark.parametrize("flag", ["--out", "--data-dir"])
def test_a_folder_flag_given_a_file_is_one_message(tmp_path, flag):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    code, out, err = run_lesson(LESSON, *QUICK, flag, a_file)
    assert_clear_failure(code, err, "is a file, not a folder", exit_code=2)
    assert flag in err and a_file.read_text() == "not a folder"


def test_run_folder_that_cannot_be_made_is_one_message(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, out, err = run_lesson(LESSON, *QUICK, "--out", blocker / "run")
    assert_clear_failure(code, err, "Cannot write to the run folder")
    assert "--out DIR" in err and "Iter" not in out


def test_each_run_gets_its_own_folder_and_failed_runs_leave_none(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path)
    lesson_runs = tmp_path / "runs" / "week03_regression" / "3_2_mnist_simple"
    first = run_lesson(LESSON, *QUICK)
    second = run_lesson(LESSON, *QUICK)
    assert first[0] == 0 and second[0] == 0
    folders = sorted(lesson_runs.iterdir())
    assert len(folders) == 2  # the second run did not overwrite the first one's record
    assert tfcourse.latest_run(LESSON) == folders[-1]

    code, _, err = run_lesson(LESSON, "--quick", "--data-dir", tmp_path / "nowhere")
    assert_clear_failure(code, err, "no such folder")
    assert sorted(lesson_runs.iterdir()) == folders  # no empty folder left
    assert tfcourse.latest_run(LESSON) == folders[-1]


def test_record_and_log_of_a_run(tmp_path):
    code, out, _ = run_lesson(LESSON, "--quick", "--data", "synthetic", "--epochs", "2",
                              "--out", tmp_path)
    assert code == 0
    record = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert record["lesson"] == "3-2" and record["status"] == "finished"
    assert record["synthetic"] is True and record["flags"]["epochs"] == 2
    assert record["versions"]["tensorflow"] == tfcourse_tf_version()
    printed = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert [round(p["test_accuracy"], 4) for p in record["progress"]] == printed
    assert (tmp_path / "log.txt").read_text(encoding="utf-8") == out  # what the learner saw
    assert out.splitlines()[-2].startswith("完成 Done: lesson 3-2 | CPU |")
    assert "data SYNTHETIC" in out


# ## Class 2: killed, not interrupted
def progress_of(out):
    try:
        return json.loads((out / "metrics.json").read_text(encoding="utf-8"))["progress"]
    except (OSError, ValueError):  # not written yet
        return []


ENDLESS = ("week03_regression/3_1_nonlinear_regression.py", "--steps", "1000000000")  # no MNIST


@pytest.mark.timeout(180)
def test_sigterm_and_sighup_end_a_run_like_ctrl_c_and_sigkill_leaves_a_valid_record(tmp_path):
    """A closed terminal (SIGHUP) or `kill`/an IDE's stop button (SIGTERM) during training: one
    line, a non-zero exit, the record says "interrupted", nothing half-written is left. SIGKILL
    (no clean-up at all): log.txt and metrics.json still hold every step up to it, the record
    whole and marked "running" (compare's message for that: test_tfcourse_compare). Two
    lessons at once (3-1: it prints every 200 steps and needs no data); SIGHUP goes to the same
    handler (the next test)."""
    runs = {}
    for name in ("SIGTERM", "SIGKILL"):
        out = tmp_path / name
        runs[name] = (out, subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / ENDLESS[0]), *ENDLESS[1:], "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"))
    for name, (out, process) in runs.items():
        for line in process.stdout:
            if line.startswith("step 400,"):
                break
        deadline = time.monotonic() + 60  # the line is printed, then recorded: wait for that
        while not progress_of(out) and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(getattr(signal, name))
        rest, err = process.communicate(timeout=60)
        assert process.returncode != 0
        record = json.loads((out / "metrics.json").read_text(encoding="utf-8"))  # whole
        if name != "SIGKILL":  # a kill mid-write may leave a hidden .tmp, never a damaged file
            assert not [p.name for p in out.iterdir() if ".tmp" in p.name]
            assert f"已中断 Interrupted ({name})." in err and "Traceback" not in err
            assert record["status"] == "interrupted" and record["progress"]
            continue
        assert record["status"] == "running"  # nothing ran to mark it
        printed = [int(line.split()[1][:-1]) for line in
                   (out / "log.txt").read_text(encoding="utf-8").splitlines()
                   if line.startswith("step ") and line.split()[1] != "0,"]
        steps = [p["step"] for p in record["progress"]]
        assert len(printed) >= 2 and steps in (printed, printed[:-1])  # killed between the two
        assert record["progress"][0]["loss"] > 0


def test_sighup_is_handled_as_sigterm_is(capsys):
    """A closed terminal sends SIGHUP: the same handler as SIGTERM (shown whole in a lesson by
    the test above), and the same one line naming the signal."""
    assert signal.getsignal(signal.SIGHUP) is cli._stop is signal.getsignal(signal.SIGTERM)
    with pytest.raises(cli.Stopped) as stopped:
        cli._stop(signal.SIGHUP, None)
    assert cli.report(stopped.value) == 130
    assert capsys.readouterr().err.strip() == "已中断 Interrupted (SIGHUP)."


def test_an_interrupted_write_leaves_neither_the_file_nor_a_temporary_one(tmp_path):
    target = tmp_path / "model.npy"
    with pytest.raises(cli.Stopped):
        with tfcourse.atomic_path(target) as tmp:
            tmp.write_bytes(b"half of it")
            raise cli.Stopped("SIGTERM")  # what the SIGTERM handler raises mid-write
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"old")  # an older complete file survives an interrupted rewrite
    with pytest.raises(cli.Stopped):
        with tfcourse.atomic_path(target) as tmp:
            tmp.mkdir()  # a SavedModel is a folder
            raise cli.Stopped("SIGHUP")
    assert [p.name for p in tmp_path.iterdir()] == ["model.npy"] and target.read_bytes() == b"old"


# ## Class 4: a console that cannot show every character (a Chinese Windows console is GBK)
# The console handling is installed by `import tfcourse` and needs no TensorFlow: a stand-in
# module in its place skips TensorFlow's five-second start in these child processes.
WITHOUT_TENSORFLOW = "import sys, types\nsys.modules['tensorflow'] = types.ModuleType('tf')\n"


def test_a_gbk_or_ascii_console_gets_stand_ins_never_a_crash(tmp_path):
    script = (WITHOUT_TENSORFLOW + "import tfcourse\nprint('✓ ² → ≥ 完成')\n"
              "raise tfcourse.CourseError('✗ bad ≥ 1\\nRemedy: ² →')")
    for encoding in ("gbk", "ascii"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=90,
                              env={**os.environ, "PYTHONIOENCODING": encoding})
        out, err = done.stdout.decode(encoding), done.stderr.decode(encoding)
        assert done.returncode == 1 and "Traceback" not in err and "Error" not in out
        assert "Error: ? bad " in err and "\nRemedy: ? " in err  # ✗ and ² are in neither
        assert out.startswith("? ? ")


def test_output_piped_into_head_ends_quietly():
    """`python lesson.py | head`: once the reader has gone, the program ends with exit 1 and
    nothing on stderr: no BrokenPipeError traceback, no flush error at exit. (A run's record
    then says "interrupted", as for Ctrl-C: the SIGTERM test shows that path.)"""
    script = WITHOUT_TENSORFLOW + "import tfcourse\nwhile True:\n    print('Iter', 'x' * 70)\n"
    printing = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    assert printing.stdout.readline().startswith(b"Iter ")
    printing.stdout.close()  # what `head -1` does after its line
    err = printing.communicate(timeout=60)[1].decode("utf-8")
    assert printing.returncode == 1 and err == "", err


def tfcourse_tf_version():
    import tensorflow as tf
    return tf.__version__


def gz(data):
    return gzip.compress(data)


@pytest.fixture
def small_mnist(monkeypatch):
    """Four tiny IDX files, with the loader's content table pointed at them."""
    import hashlib
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": (rng.integers(0, 255, (60, 28, 28)), 2051),
              "train-labels-idx1-ubyte": (rng.integers(0, 10, 60), 2049),
              "t10k-images-idx3-ubyte": (rng.integers(0, 255, (20, 28, 28)), 2051),
              "t10k-labels-idx1-ubyte": (rng.integers(0, 10, 20), 2049)}
    raw = {}
    for name, (array, magic) in arrays.items():
        header = magic.to_bytes(4, "big") + len(array).to_bytes(4, "big")
        header += (28).to_bytes(4, "big") * 2 if magic == 2051 else b""
        raw[name] = header + np.asarray(array, dtype=np.uint8).tobytes()
    table = {n: (int.from_bytes(d[4:8], "big"), hashlib.md5(d).hexdigest())
             for n, d in raw.items()}
    monkeypatch.setattr(mnist, "IDX_FILES", table)
    return raw


def damaged_deflate(data):
    """A gzip whose header is fine but whose deflate stream is broken (zlib.error, not OSError)."""
    packed = bytearray(gz(data))
    for i in range(20, 40):
        packed[i] ^= 0xFF
    return bytes(packed)


def test_gzip_damaged_inside_its_deflate_stream_in_data_dir(small_mnist, tmp_path):
    for name, data in small_mnist.items():
        (tmp_path / (name + ".gz")).write_bytes(gz(data))
    damaged = damaged_deflate(small_mnist["t10k-images-idx3-ubyte"])
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(damaged)
    with pytest.raises(tfcourse.CourseError,
                       match=r"t10k-images-idx3-ubyte.gz is damaged.*\n.*Remedy"):
        tfcourse.load_mnist(data_dir=tmp_path, verbose=False)


def test_damaged_cache_file_is_deleted_and_downloaded_again(small_mnist, file_server, monkeypatch,
                                                            capsys):
    cache = mnist.keras_cache_dir() / "mnist"
    cache.mkdir(parents=True)
    for name, data in small_mnist.items():
        (cache / (name + ".gz")).write_bytes(gz(data))
        file_server.files[f"/m/{name}.gz"] = gz(data)
    damaged = damaged_deflate(small_mnist["train-labels-idx1-ubyte"])
    (cache / "train-labels-idx1-ubyte.gz").write_bytes(damaged)
    monkeypatch.setattr(mnist, "NPZ_URLS", [])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [file_server.url("/m/")])
    data = tfcourse.load_mnist(verbose=False, validation_size=10)
    assert len(data.x_train) == 50
    printed = capsys.readouterr().out
    assert "train-labels-idx1-ubyte.gz is damaged" in printed
    assert "; downloading it again" in printed
    assert any(path.endswith("train-labels-idx1-ubyte.gz") for path, _ in file_server.requests)
    fetched = gzip.decompress((cache / "train-labels-idx1-ubyte.gz").read_bytes())
    assert fetched == small_mnist["train-labels-idx1-ubyte"]


def test_damaged_partial_download_is_not_retried_forever(small_mnist, file_server, monkeypatch):
    """A bad .part that a Range request cannot extend (HTTP 416) is checked, deleted, fetched
    anew."""
    cache = mnist.keras_cache_dir() / "mnist"
    cache.mkdir(parents=True)
    for name, data in small_mnist.items():
        file_server.files[f"/m/{name}.gz"] = gz(data)
    good = gz(small_mnist["t10k-labels-idx1-ubyte"])
    damaged = damaged_deflate(small_mnist["t10k-labels-idx1-ubyte"]).ljust(len(good) + 10, b"\0")
    (cache / "t10k-labels-idx1-ubyte.gz.part").write_bytes(damaged)
    monkeypatch.setattr(mnist, "NPZ_URLS", [])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [file_server.url("/m/"), file_server.url("/again/")])
    file_server.files.update({f"/again/{name}.gz": gz(data) for name, data in small_mnist.items()})
    data = tfcourse.load_mnist(verbose=False, validation_size=10)
    assert len(data.y_test) == 20
    assert not list(cache.glob("*.part"))


# ## Class 1: the same content checks for every source and every name a copy uses
def dotted(name):
    return name.replace("-idx", ".idx")  # t10k-labels.idx1-ubyte, as many copies name them


def write_idx(folder, files, name=dotted, pack=lambda data: data):
    folder.mkdir(exist_ok=True)
    for stem, data in files.items():
        (folder / name(stem)).write_bytes(pack(data))
    return folder


def with_label(data, value):
    changed = bytearray(data)
    changed[8] = value  # the first label
    return bytes(changed)


@pytest.mark.parametrize("case, phrase", [
    ("label 10 under a dotted name", "MD5 of its content"),
    ("train and test swapped under dotted names", "truncated"),
    ("a label 10, dotted and gzipped", "MD5 of its content"),
])
def test_idx_files_under_any_name_are_checked_the_same_way(small_mnist, tmp_path, case, phrase):
    files = dict(small_mnist)
    if "label 10" in case:
        files["t10k-labels-idx1-ubyte"] = with_label(files["t10k-labels-idx1-ubyte"], 10)
    if "swapped" in case:
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            train, test = files["train-" + kind], files["t10k-" + kind]
            files["train-" + kind], files["t10k-" + kind] = test, train
    pack = gz if "gzipped" in case else (lambda data: data)
    name = (lambda stem: dotted(stem) + ".gz") if "gzipped" in case else dotted
    folder = write_idx(tmp_path / "MNIST_data", files, name, pack)
    code, out, err = run_lesson(LESSON, "--quick", "--data-dir", folder, "--out", tmp_path / "run")
    assert_clear_failure(code, err, phrase)
    assert "is damaged" in err and "Remedy" in err and "Iter" not in out
    assert not (tmp_path / "run").exists()


def test_good_files_under_dotted_names_are_read(small_mnist, tmp_path):
    folder = write_idx(tmp_path / "MNIST_data", small_mnist)
    data = tfcourse.load_mnist(data_dir=folder, verbose=False, validation_size=10)
    assert data.x_train.shape == (50, 784) and data.y_test.shape == (20,)


def save_npz(path, **changes):
    rng = np.random.default_rng(1)
    arrays = dict(x_train=rng.integers(0, 255, (60, 28, 28), dtype=np.uint8),
                  y_train=rng.integers(0, 10, 60, dtype=np.uint8),
                  x_test=rng.integers(0, 255, (20, 28, 28), dtype=np.uint8),
                  y_test=rng.integers(0, 10, 20, dtype=np.uint8))
    arrays.update(changes)
    np.savez(path, **arrays)
    return arrays


def test_an_mnist_npz_that_is_not_keras_file_is_refused_by_a_lesson(tmp_path):
    """Every source is checked by its checksum: a re-saved or changed mnist.npz is refused, in
    one message with a remedy, before anything is written."""
    (tmp_path / "data").mkdir()
    save_npz(tmp_path / "data" / "mnist.npz", y_test=np.full(20, 10, np.uint8))
    code, out, err = run_lesson(LESSON, "--quick", "--data-dir", tmp_path / "data",
                                "--out", tmp_path / "run")
    assert_clear_failure(code, err, "mnist.npz: sha256")
    assert "not Keras's" in err and "is damaged" in err and "Remedy" in err and "Iter" not in out
    assert not (tmp_path / "run").exists()


def test_a_damaged_npz_in_the_cache_is_not_trusted(tmp_path, monkeypatch, capsys):
    cache = mnist.keras_cache_dir()
    cache.mkdir(parents=True)
    save_npz(cache / "mnist.npz", y_test=np.full(20, 10, np.uint8))  # not the published file
    monkeypatch.setattr(mnist, "NPZ_URLS", [])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [])
    with pytest.raises(tfcourse.DownloadError, match="could not be downloaded from any mirror"):
        tfcourse.load_mnist(verbose=False)
    assert "sha256" in capsys.readouterr().out and not (cache / "mnist.npz").exists()


# ## Class 5: a second run into a finished run's folder keeps that run's record
def test_a_run_given_a_finished_runs_folder_keeps_its_record(tmp_path):
    code, first_out, _ = run_lesson(LESSON, *QUICK, "--out", tmp_path)
    assert code == 0
    first = (tmp_path / "metrics.json").read_text(encoding="utf-8")
    code, out, err = run_lesson(LESSON, "--quick", "--data-dir", tmp_path / "nowhere",
                                "--out", tmp_path)
    assert_clear_failure(code, err, "no such folder")
    assert (tmp_path / "metrics.1.json").read_text(encoding="utf-8") == first
    assert (tmp_path / "log.1.txt").read_text(encoding="utf-8") == first_out
    assert "its record is kept as metrics.1.json and log.1.txt" in out
    code, _, _ = run_lesson(LESSON, *QUICK, "--out", tmp_path)  # and again: .2, nothing lost
    assert code == 0 and (tmp_path / "metrics.2.json").exists()
    assert (tmp_path / "metrics.1.json").read_text(encoding="utf-8") == first
    newest = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert newest["status"] == "finished"
