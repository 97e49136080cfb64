"""Week 9: several devices and mixed precision, tested without a GPU through the CNN lesson (6-1).

MirroredStrategy needs two devices: the CPU is split into two logical devices (--logical-cpus 2),
which must happen before TensorFlow starts, so that run gets a fresh Python process. Mixed
precision needs no fresh process (the policy is set per layer), so it runs in this one.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
CNN = "week06_cnn_mnist/6_1_cnn_mnist.py"


def final_accuracy(out):
    return float(re.findall(r"Iter \d+, Testing Accuracy= ([\d.]+)", out)[-1])


def test_mirrored_strategy_runs_two_replicas_on_a_split_cpu(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / CNN), "--quick", "--data", "synthetic", "--logical-cpus", "2",
         "--strategy", "mirrored", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"})  # the CPU even where a GPU exists
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    match = re.search(r"(\d+) replica\(s\) ran \(([^)]*)\)", out)
    assert match and match.group(1) == "2", out[-1000:]
    assert "device:CPU:0" in match.group(2) and "device:CPU:1" in match.group(2)  # really two devices
    assert "global batch 200" in out  # --batch-size 100 is per replica
    assert final_accuracy(out) > 0.5  # ten digit classes: chance is 0.1


def test_mixed_precision_uses_bfloat16_on_cpu_and_still_learns(tmp_path):
    import tensorflow as tf
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--mixed-precision", "--out", tmp_path)
    assert code == 0, err
    on_gpu = bool(tf.config.list_logical_devices("GPU"))
    assert f"precision {'mixed_float16' if on_gpu else 'mixed_bfloat16'}" in out  # bfloat16 on a CPU
    assert final_accuracy(out) > 0.5
