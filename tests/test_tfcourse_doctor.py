"""`python -m tfcourse doctor`: each check says ✓ or ✗ with its remedy; offline (127.0.0.1 only)."""

import gzip
import hashlib
import importlib.metadata
import socket
import stat
import sys
import time

import pytest

from tfcourse import CourseError, mnist
from tfcourse.tools import doctor

REAL_NVIDIA_SMI = doctor._nvidia_smi  # the fixture below replaces it in every other test


@pytest.fixture(autouse=True)
def local_only(monkeypatch, dead_url):
    """Every mirror the doctor knows is a closed port on 127.0.0.1; no GPU driver is asked."""
    monkeypatch.setattr(mnist, "NPZ_URLS", [dead_url])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [dead_url.rsplit("/", 1)[0] + "/"])
    monkeypatch.setattr(doctor, "_nvidia_smi", lambda: None)


def report(capsys, *argv):
    """Run the doctor; its exit code and {check name: {status, detail, remedy}} from its lines."""
    code = doctor.main([str(a) for a in argv])
    out, checks = capsys.readouterr().out, {}
    for line in out.splitlines():
        if line[:2] in ("✓ ", "! ", "✗ "):
            name, _, detail = line[2:].partition(": ")
            status = {"✓": "ok", "!": "warn", "✗": "error"}[line[0]]
            checks[name] = dict(status=status, detail=detail, remedy="")
        elif line.startswith("    → "):
            checks[name]["remedy"] = line[6:]
    assert out.strip().splitlines()[-1].startswith("Ready" if code == 0 else "Not ready")
    return code, checks


def test_offline_the_report_says_so_and_asks_no_mirror(capsys, monkeypatch):
    monkeypatch.setattr(doctor, "_probe", lambda url, answers: pytest.fail(f"asked {url}"))
    code = doctor.main(["--offline"])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("python -m tfcourse doctor") and lines[-1].startswith(
        ("Ready", "Not ready")
    )
    checks = [line for line in lines[1:-1] if line[:1] in "✓!✗"]
    assert {
        "Python",
        "tensorflow",
        "keras",
        "tensorboard",
        "GPU",
        "MNIST",
        "mirrors",
        "Chinese font",
    } <= {line[2:].split(":")[0] for line in checks}
    assert (
        "! mirrors: not checked (--offline)" in out
        and "not checked (--offline)" in out.split("MNIST")[1]
    )
    assert all(line.startswith("    → ") for line in lines[1:-1] if line[:1] not in "✓!✗" and line)
    assert code == (1 if "✗" in out else 0)


def test_a_mirror_that_does_not_answer_is_reported_not_waited_on(capsys, monkeypatch, dead_url):
    silent = socket.socket()  # accepts connections (the kernel's backlog) but never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    monkeypatch.setattr(doctor, "MIRROR_SECONDS", 0.3)
    try:
        code, checks = report(capsys, "--mirror", f"http://127.0.0.1:{silent.getsockname()[1]}/")
    finally:
        silent.close()
    assert (
        code == 1 and checks["MNIST"]["status"] == "error"
    )  # no cache (conftest's empty KERAS_HOME), no mirror
    assert (
        "no mirror answers" in checks["MNIST"]["detail"]
        and "--data-dir" in checks["MNIST"]["remedy"]
    )
    assert checks["mirrors"]["status"] == "warn" and checks["mirrors"]["detail"].startswith(
        "offline"
    )
    assert (
        "no answer within 0.3 s" in checks["mirrors"]["detail"]
        or "ReadTimeout" in checks["mirrors"]["detail"]
    )
    assert "ConnectionError" in checks["mirrors"]["detail"]  # the closed ports


def test_a_mirror_that_answers_and_a_data_dir_that_is_not_there(capsys, file_server, tmp_path):
    file_server.files["/mnist.npz"] = b"not really"
    code, checks = report(capsys, "--mirror", file_server.base_url + "/")
    assert (
        checks["mirrors"]["status"] == "ok"
        and "answering: 127.0.0.1" in checks["mirrors"]["detail"]
    )
    assert checks["MNIST"]["status"] == "warn" and "downloads it" in checks["MNIST"]["detail"]
    assert file_server.requests == [("/mnist.npz", None)]
    code, checks = report(capsys, "--offline", "--data-dir", tmp_path / "nowhere")
    assert code == 1 and "no such folder" in checks["MNIST"]["detail"]


@pytest.fixture
def fake_mnist(monkeypatch):
    """Four small IDX files (synthetic digits, gzipped); mnist's table of counts and MD5s is
    pointed at them, so the lessons' own checks accept them."""
    from tfcourse.synthetic import synthetic_digits

    raw = {}
    for split, n, seed in (("train", 120, 1), ("t10k", 40, 2)):
        x, y = synthetic_digits(n, seed=seed)
        for kind, magic, shape, values in (
            ("images-idx3", 2051, [n, 28, 28], (x * 255).round()),
            ("labels-idx1", 2049, [n], y),
        ):
            raw[f"{split}-{kind}-ubyte"] = (
                b"".join(d.to_bytes(4, "big") for d in [magic, *shape])
                + values.astype("uint8").tobytes()
            )
    monkeypatch.setattr(
        mnist,
        "IDX_FILES",
        {
            name: (int.from_bytes(data[4:8], "big"), hashlib.md5(data).hexdigest())
            for name, data in raw.items()
        },
    )
    monkeypatch.setattr(mnist, "DOWNLOAD_BACKOFF", 0)
    return {name + ".gz": gzip.compress(data, mtime=0) for name, data in raw.items()}


def cache_with(files):
    folder = mnist.keras_cache_dir() / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


# Issue 22 class 8: missing, damaged and unwritable are three verdicts, each with its remedy, and
# each the verdict of what a lesson then does (tfcourse.load_mnist on the same cache and mirrors).
@pytest.mark.parametrize(
    "case, mirror, status, phrase, lesson_works",
    [
        ("two missing", False, "error", "missing t10k-images-idx3-ubyte.gz, t10k-labels", False),
        ("two missing", True, "warn", "missing t10k-images-idx3-ubyte.gz, t10k-labels", True),
        ("one damaged", False, "error", "damaged in", False),
        ("one damaged", True, "warn", "deletes the damaged file and downloads", True),
        ("unwritable", True, "error", "cannot be written", False),
        ("npz cut short", False, "error", "mnist.npz: sha256", False),
        ("all four", False, "ok", "verified", True),
    ],
)
def test_the_mnist_verdict_is_what_a_lesson_then_does(
    case,
    mirror,
    status,
    phrase,
    lesson_works,
    fake_mnist,
    file_server,
    monkeypatch,
    tmp_path,
    capsys,
):
    if case == "unwritable":
        (tmp_path / "a-file").write_text("KERAS_HOME is a file")
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "a-file"))
    else:
        cache_with(
            {
                n: d
                for n, d in fake_mnist.items()
                if case == "one damaged"
                or case == "two missing"
                and "train" in n
                or case == "all four"
            }
        )
    if case == "npz cut short":
        (mnist.keras_cache_dir() / "mnist.npz").write_bytes(b"cut short")
    if case == "one damaged":
        path = mnist.keras_cache_dir() / "mnist" / "train-labels-idx1-ubyte.gz"
        path.write_bytes(path.read_bytes()[:-9])
    if mirror:
        file_server.files.update({f"/idx/{name}": data for name, data in fake_mnist.items()})
        monkeypatch.setattr(mnist, "IDX_MIRRORS", [file_server.url("/idx/")])
    code = doctor.main([])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line[2:].startswith("MNIST:"))
    assert code == (1 if status == "error" else 0) and "Traceback" not in out
    assert line[0] == {"ok": "✓", "warn": "!", "error": "✗"}[status] and phrase in line, out
    if case == "two missing":
        assert "damaged" not in out and "delete" not in out
    try:
        mnist.load_mnist(data="mnist", validation_size=20, verbose=False)
        worked = True
    except CourseError:
        worked = False
    assert worked == lesson_works


def test_missing_or_wrong_packages_are_named_with_the_fix(capsys, monkeypatch):
    real = importlib.metadata.version
    fake = {"captcha": None, "keras": "2.15.0", "tensorflow": "2.20.0"}

    def version(name):
        if name in fake:
            if fake[name] is None:
                raise importlib.metadata.PackageNotFoundError(name)
            return fake[name]
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    code, checks = report(capsys, "--offline")
    assert code == 1
    assert (
        checks["captcha"]["status"] == "error"
        and "pip install -r requirements.txt" in checks["captcha"]["remedy"]
    )
    assert checks["keras"]["status"] == "error" and "Keras 2" in checks["keras"]["detail"]
    assert checks["keras"]["remedy"] == "pip install keras==3.15.1"
    assert (
        checks["tensorflow"]["status"] == "warn"
        and checks["tensorflow"]["remedy"] == "pip install tensorflow==2.21.0"
    )

    fake.update(captcha="0.7.0", keras="3.15.1", tensorflow="2.21.0")
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    code, checks = report(capsys, "--offline")
    assert (
        code == 1
        and checks["tf_keras"]["status"] == "error"
        and "unset TF_USE_LEGACY_KERAS" in checks["tf_keras"]["remedy"]
    )


def test_an_unsupported_python_names_the_range_and_the_way_out(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text('requires-python = ">=3.99"\n')
    monkeypatch.setattr(doctor, "PROJECT_ROOT", tmp_path)
    check = doctor.check_python()
    assert check.status == "error" and ">=3.99" in check.detail
    assert "conda create -n tfcourse python=3.12" in check.remedy


def fake_nvidia_smi(folder, cuda="12.2"):
    """A stand-in `nvidia-smi` script, put first on PATH."""
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in --query-gpu*) echo "NVIDIA GeForce RTX 3090, 535.104";;\n'
        '  *) echo "| NVIDIA-SMI 535.104   Driver Version: 535.104   '
        f'CUDA Version: {cuda}  |";; esac\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in is a POSIX shell script")
def test_the_gpu_check_against_a_stand_in_nvidia_smi(tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    smi = REAL_NVIDIA_SMI()
    assert smi == {"gpus": ["NVIDIA GeForce RTX 3090"], "driver": "535.104", "cuda": "12.2"}

    built = {"version": "2.21.0", "cuda": "12.5.1", "cudnn": "9"}
    check = doctor.check_gpu({**built, "gpus": []}, smi, "Linux")  # the driver is too old
    assert check.status == "warn" and "TensorFlow sees none" in check.detail
    assert "CUDA up to 12.2" in check.detail and "built for CUDA 12.5.1" in check.detail
    assert "update the NVIDIA driver to one for CUDA 12.5.1" in check.remedy
    check = doctor.check_gpu({**built, "gpus": []}, {**smi, "cuda": "12.8"}, "Linux")
    assert check.status == "warn" and "tensorflow[and-cuda]==2.21.0" in check.remedy
    check = doctor.check_gpu({**built, "gpus": ["/physical_device:GPU:0"]}, smi, "Linux")
    assert check.status == "ok" and "sees 1" in check.detail
    windows = doctor.check_gpu({**built, "gpus": []}, smi, "Windows")
    assert windows.status == "warn" and "WSL2" in windows.remedy and "2.10" in windows.detail
    mac = doctor.check_gpu({**built, "cuda": None, "gpus": []}, None, "Darwin")
    assert mac.status == "ok" and "run on the CPU" in mac.detail
    broken = doctor.check_gpu({"error": "ImportError: DLL load failed"}, None, "Windows")
    assert broken.status == "error" and "does not import" in broken.detail


def test_a_slow_tensorflow_start_is_stopped_and_reported_as_not_checked(capsys, monkeypatch):
    smi = {"gpus": ["NVIDIA GeForce RTX 3090"], "driver": "535.104", "cuda": "12.2"}
    monkeypatch.setattr(doctor, "_nvidia_smi", lambda: smi)
    monkeypatch.setattr(doctor, "TF_SECONDS", 0.2)  # TensorFlow cannot start that fast
    started = time.monotonic()
    code, checks = report(capsys, "--offline")
    assert time.monotonic() - started < 5  # its child is stopped, not waited for
    assert checks["GPU"]["status"] == "warn" and "not checked" in checks["GPU"]["detail"]
    assert "RTX 3090" in checks["GPU"]["detail"] and "9_0_check_gpu.py" in checks["GPU"]["remedy"]


@pytest.mark.parametrize("kind, phrase", [("file", "a file, not a folder"),
                                          ("nothing", "no such folder")])
def test_doctor_data_dir_of_the_wrong_kind_says_which(kind, phrase, tmp_path, capsys):
    """`doctor --data-dir` naming a file or nothing: the kind is named, as a lesson names it."""
    path = tmp_path / "reviews.csv"
    if kind == "file":
        path.write_text("label,review\n")
    code = doctor.main(["--offline", "--data-dir", str(path)])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line[2:].startswith("MNIST:"))
    assert code == 1 and line.startswith("✗") and phrase in line and "Traceback" not in out
