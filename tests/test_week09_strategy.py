"""Week 9, lesson 9-3: the 6-1 CNN on several devices and in mixed precision, tested without a GPU.

MirroredStrategy needs two devices: the CPU is split into two logical devices (--logical-cpus 2),
which must happen before TensorFlow starts, so that run gets a fresh Python process; it also runs
in mixed precision (bfloat16 on a CPU) and with --threads 1, so one process start checks all
three, and what a learner sees in a terminal: no CUDA/oneDNN start-up lines.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week09_gpu_transfer/9_3_distributed_cnn.py"


def test_two_replicas_on_a_split_cpu_in_bfloat16_still_learn_quietly_on_one_thread(tmp_path):
    lesson = str(ROOT / LESSON)
    flags = ["--quick", "--data", "synthetic", "--logical-cpus", "2", "--mixed-precision",
             "--threads", "1", "--out", str(tmp_path)]
    code = (f"import runpy, sys; sys.argv = {[lesson, *flags]!r}; "  # then ask TensorFlow
            f"runpy.run_path({lesson!r}, run_name='__main__'); import tensorflow as tf; "
            "print('threads', tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"})  # the CPU even where a GPU exists
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.splitlines()[-1] == "threads 1 1"  # --threads 1 is what TensorFlow then used
    for noise in ("oneDNN", "cuda", "cuInit", "absl::InitializeLog"):
        assert noise not in result.stderr
    match = re.search(r"(\d+) replica\(s\) ran \(([^)]*)\)", out)
    assert match and match.group(1) == "2", out[-1000:]
    assert "device:CPU:0" in match.group(2) and "device:CPU:1" in match.group(2)  # two devices
    assert "global batch 200, 25 steps per epoch" in out  # --batch-size 100 is per replica
    assert "precision mixed_bfloat16" in out
    # 16-bit compute, float32 weights and logits
    assert "conv1 computes in bfloat16 and keeps its weights in float32; " \
           "fc2 (the logits) computes in float32" in out
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():  # the lesson says which case this CPU is, not a promise
        has_bf16 = bool({"amx_bf16", "avx512_bf16"} & set(cpuinfo.read_text().split()))
        assert ("runs in hardware" if has_bf16 else "emulated") in out
    accuracy = float(re.findall(r"^Iter 0, Testing Accuracy= ([\d.]+)$", out, re.M)[-1])
    assert accuracy > 0.5  # 25 steps; ten digit classes: chance is 0.1


@pytest.mark.parametrize("tf_config, flags, phrase", [
    ("{not json", [], "could not start from TF_CONFIG.*\nRemedy: TF_CONFIG must be JSON"),
    ('{"cluster": {"worker": ["localhost:12345"]}, "task": {"type": "worker", "index": 3}}', [],
     "task_id"),  # TensorFlow's reason, then the remedy
    (None, ["--threads", "2", "--logical-cpus", "2"],
     "cannot be combined with --threads, --logical-cpus"),
])
def test_multiworker_explains_a_bad_tf_config_and_conflicting_flags(tmp_path, monkeypatch,
                                                                    tf_config, flags, phrase):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--strategy",
                                "multiworker", *flags, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err and re.search(phrase, err), err
    assert not (tmp_path / "run").exists()  # before the run folder


@pytest.mark.parametrize("flag, value", [("--strategy", "parameter-server"), ("--batch-size", "0"),
                                         ("--epochs", "0"), ("--lr", "-1"), ("--seed", "-1"),
                                         ("--out", "{tmp}/a file")])
def test_impossible_flags_stop_at_parse(tmp_path, flag, value):
    (tmp_path / "a file").write_text("a file, not a folder")
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--out", tmp_path / "run",
                                flag, value.format(tmp=tmp_path))
    assert code == 2 and f"argument {flag}" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]


def test_logical_cpus_out_of_range_or_too_late_is_one_clear_message(tmp_path):
    code, out, err = run_lesson(LESSON, "--logical-cpus", "0", "--out", tmp_path / "run")
    assert code == 2 and "--logical-cpus" in err and "a whole number from 1 to 64" in err
    import tensorflow as tf
    float(tf.constant(1.0) + 1.0)  # this test process's devices now exist, as in a notebook
    code, out, err = run_lesson(LESSON, "--logical-cpus", "2", "--quick", "--data", "synthetic",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "--logical-cpus must be applied before TensorFlow starts" in err
    assert "fresh Python process" in err and "Iter" not in out
    assert not (tmp_path / "run").exists()  # refused before the run folder
