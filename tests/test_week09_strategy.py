"""Week 9, lesson 9-3: the 6-1 CNN on several devices and in mixed precision, tested without a GPU.

MirroredStrategy needs two devices: the CPU is split into two logical devices (--logical-cpus 2),
which must happen before TensorFlow starts, so that run gets a fresh Python process; it also runs
in mixed precision (bfloat16 on a CPU), so one process start checks both.
"""
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week09_gpu_transfer/9_3_distributed_cnn.py"


def test_two_replicas_on_a_split_cpu_in_bfloat16_still_learn(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / LESSON), "--quick", "--data", "synthetic", "--logical-cpus", "2",
         "--mixed-precision", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"})  # the CPU even where a GPU exists
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    match = re.search(r"(\d+) replica\(s\) ran \(([^)]*)\)", out)
    assert match and match.group(1) == "2", out[-1000:]
    assert "device:CPU:0" in match.group(2) and "device:CPU:1" in match.group(2)  # really two devices
    assert "global batch 200, 25 steps per epoch" in out  # --batch-size 100 is per replica
    assert "precision mixed_bfloat16" in out
    has_bf16 = bool({"amx_bf16", "avx512_bf16"} & set(Path("/proc/cpuinfo").read_text().split())) \
        if Path("/proc/cpuinfo").exists() else None
    if has_bf16 is not None:  # the lesson says which case this CPU is, not a promise
        assert ("runs in hardware" if has_bf16 else "emulated") in out
    accuracy = float(re.findall(r"^Iter 0, Testing Accuracy= ([\d.]+)$", out, re.M)[-1])
    assert accuracy > 0.5  # 25 steps; ten digit classes: chance is 0.1


def test_mixed_precision_computes_in_16_bits_with_float32_weights_and_logits():
    import tensorflow as tf
    lesson = runpy.run_path(str(ROOT / LESSON), run_name="test")
    model = lesson["build_model"]("mixed_bfloat16")
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.get_layer("conv1").kernel.dtype == "float32"  # weights stay float32
    logits = model(tf.zeros([2, 28, 28, 1]))
    assert logits.dtype == tf.float32 and logits.shape == (2, 10)
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # nothing leaks to other lessons


@pytest.mark.parametrize("cpuinfo, expected", [
    ("flags : fpu sse2 avx2 avx512f avx512_bf16 amx_bf16", "amx_bf16 and avx512_bf16: bfloat16 runs in hardware"),
    ("flags : fpu sse2 avx2 fma", "no amx_bf16/avx512_bf16: bfloat16 is emulated"),
    (None, "no /proc/cpuinfo to check"),
])
def test_the_bfloat16_note_follows_the_cpu_flags(monkeypatch, cpuinfo, expected):
    note = runpy.run_path(str(ROOT / LESSON), run_name="test")["precision_note"]

    class FakePath:
        def __init__(self, path):
            assert path == "/proc/cpuinfo"

        def read_text(self):
            if cpuinfo is None:
                raise FileNotFoundError("/proc/cpuinfo")
            return cpuinfo
    monkeypatch.setitem(note.__globals__, "Path", FakePath)
    assert expected in note("mixed_bfloat16")
    assert "tensor cores" in note("mixed_float16")


def test_multiworker_explains_a_bad_tf_config_and_conflicting_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--strategy", "multiworker",
                                "--out", tmp_path / "a")
    assert code == 2 and "could not start from TF_CONFIG" in err and "must be JSON" in err
    assert "Traceback" not in err and not (tmp_path / "a").exists()
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["localhost:12345"]}, '
                                    '"task": {"type": "worker", "index": 3}}')
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--strategy", "multiworker",
                                "--out", tmp_path / "b")
    assert code == 2 and "task_id" in err and "Traceback" not in err  # TensorFlow's reason, then the remedy
    monkeypatch.delenv("TF_CONFIG")
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--strategy", "multiworker",
                                "--threads", "2", "--logical-cpus", "2", "--out", tmp_path / "c")
    assert code == 2 and "cannot be combined with --threads, --logical-cpus" in err and "Traceback" not in err


def test_quick_changes_defaults_only_and_typed_flags_win():
    parser = runpy.run_path(str(ROOT / LESSON), run_name="test")["parser"]
    assert parser.parse_args([]).epochs == 21 and parser.parse_args(["--quick"]).epochs == 1
    assert parser.parse_args(["--quick", "--epochs", "3"]).epochs == 3


@pytest.mark.parametrize("flag, value", [("--strategy", "parameter-server"), ("--batch-size", "0"),
                                         ("--epochs", "0"), ("--lr", "-1")])
def test_impossible_flags_stop_at_parse(tmp_path, flag, value):
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", flag, value, "--out", tmp_path / "run")
    assert code == 2 and f"argument {flag}" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
