"""Bench week 10: images per second, TFRecord + tf.data pipeline vs decoding JPEG files one by one.

Both produce the same thing 10-3 trains on: batches of 25 pictures, 224x224 grayscale, scaled to
[-1, 1]. The one-by-one way opens each captcha JPEG with Pillow, converts, resizes and scales it
in a Python loop (the course's 10-2 code path); a second one-by-one line does the same with eager
TensorFlow ops (tf.io.read_file + decode_jpeg + resize). The pipeline reads 10-2's TFRecord with
parallel parsing, batching and prefetching. Repetitions are interleaved (the machine is shared
and noisy) and the median of each is reported.

    python bench/bench_week10_tfrecord.py            # 1000 captchas, 5 rounds
    python bench/bench_week10_tfrecord.py --count 300 --rounds 2 --passes 1

A second table times 10-3's training step on the default CNN (48x96, batch 25): the lesson's
plain `tf.function` against the same step with `jit_compile=True` (XLA), a public switch that a
lesson may use if it pays; 20 steps per timing, interleaved.
"""
import argparse
import contextlib
import io
import platform
import runpy
import statistics
import sys
import tempfile
from pathlib import Path

import tfcourse  # noqa: F401  (quiet TensorFlow import)
import tensorflow as tf
import numpy as np

from _timing import interleaved  # bench/_timing.py

WEEK = Path(__file__).resolve().parent.parent / "week10_captcha_tfrecord"
BATCH = 25


def run_lesson(name, *flags):
    """Run a week-10 lesson whole, as `python WEEK/name.py flags` does (its output hidden);
    return its top-level names: its functions, model and data, as a learner runs them."""
    old_argv = sys.argv
    sys.argv = [str(WEEK / name)] + [str(flag) for flag in flags]
    sys.path.insert(0, str(WEEK))  # the lessons' `import _captcha`
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return runpy.run_path(str(WEEK / name), run_name="__main__")
    finally:
        sys.argv = old_argv
        sys.path.remove(str(WEEK))


def one_by_one_pillow(files):
    from PIL import Image
    n = 0
    for start in range(0, len(files), BATCH):
        batch = []
        for path in files[start:start + BATCH]:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("L").resize((224, 224)), dtype=np.float32)
            batch.append((pixels / 255.0 - 0.5) * 2.0)
        n += len(np.stack(batch))
    return n


def one_by_one_tf(files):
    n = 0
    for start in range(0, len(files), BATCH):
        batch = []
        for path in files[start:start + BATCH]:
            image = tf.io.decode_jpeg(tf.io.read_file(str(path)), channels=1)
            image = tf.image.resize(image, (224, 224))
            batch.append((image / 255.0 - 0.5) * 2.0)
        n += int(tf.stack(batch).shape[0])
    return n


def pipeline(record_file, parse_batch, passes):
    """10-3's pipeline (its own parse_batch: parse a batch at once, scale to [-1, 1])."""
    data = (tf.data.TFRecordDataset(str(record_file), buffer_size=8 << 20).batch(BATCH)
            .map(parse_batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    n = 0
    for x, _ in data.repeat(passes):
        n += int(x.shape[0])
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000,
                        help="captchas to generate (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved repetitions (default 5)")
    parser.add_argument("--passes", type=int, default=3,
                        help="passes over the captchas per timing, so each lasts long enough "
                             "(default 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_week10_") as tmp:
        tmp = Path(tmp)
        # The lessons make the data: 10-1 draws the captchas, 10-2 writes the records.
        run_lesson("10_1_generate_captcha.py", "--count", args.count, "--out", tmp / "gen")
        run_lesson("10_2_tfrecord.py", "--data-dir", tmp / "gen" / "images", "--test-count",
                   BATCH, "--out", tmp / "rec")
        files = sorted((tmp / "gen" / "images").glob("*.jpg"))
        record_file = tmp / "rec" / "train.tfrecords"
        # 10-3 once for a step at 224x224: its parse_batch then keeps the stored size.
        parse_batch = run_lesson("10_3_train.py", "--steps", 1, "--input-size", "224x224",
                                 "--data-dir", tmp / "rec", "--out", tmp / "parse")["parse_batch"]

        ways = {"JPEG one by one, Pillow (course)": lambda: one_by_one_pillow(files * args.passes),
                "JPEG one by one, eager tf.io": lambda: one_by_one_tf(files * args.passes),
                "TFRecord + tf.data pipeline": lambda: pipeline(record_file, parse_batch,
                                                                args.passes)}
        timings = interleaved(ways, args.rounds)  # one untimed warm-up round, then A, B, C, ...
        rates = {name: [timings.last[name] / t for t in times]
                 for name, times in timings.wall.items()}
        steps = step_timings(tmp, args.rounds)

    print(f"{args.count} captchas x {args.passes} passes -> batches of {BATCH} x 224x224 in "
          f"[-1, 1]; median of {args.rounds} interleaved rounds (tf threads: all cores); "
          f"CPU: {cpu_name()}")
    for name, rate in rates.items():
        rounds = ", ".join(f"{r:.0f}" for r in rate)
        print(f"  {name:34s} {statistics.median(rate):8.0f} images/s   (rounds: {rounds})")
    fast = rates["TFRecord + tf.data pipeline"]
    for baseline in ("Pillow (course)", "eager tf.io"):
        slow = rates[f"JPEG one by one, {baseline}"]
        paired = statistics.median(f / s for f, s in zip(fast, slow))  # same round, same load
        print(f"ratio TFRecord pipeline / JPEG one by one ({baseline}): "
              f"{statistics.median(fast) / statistics.median(slow):.1f}x of the medians, "
              f"{paired:.1f}x median of the per-round ratios")
    print(f"10-3 training step (default CNN, 48x96, batch {BATCH}), "
          f"median of {args.rounds} interleaved rounds of 20 steps:")
    for name, times in steps.items():
        rounds = ", ".join(f"{1000 * t:.0f}" for t in times)
        print(f"  {name:34s} {1000 * statistics.median(times):8.1f} ms/step (rounds: {rounds})")
    plain, jit = steps.values()
    print(f"ratio lesson / jit_compile: {statistics.median(plain) / statistics.median(jit):.2f}x")


def step_timings(tmp, rounds, steps=20):
    """10-3's own train_step (default CNN, 48x96), as the lesson traced it, against the same
    Python function under tf.function(jit_compile=True): seconds per step, per round."""
    lesson = run_lesson("10_3_train.py", "--steps", 1, "--data-dir", tmp / "rec",
                        "--out", tmp / "train")
    batches = list(lesson["train_data"].take(steps))
    plain = lesson["train_step"]
    jit = tf.function(plain.python_function, jit_compile=True)  # same model, same optimizer

    def make(step):
        def run():
            for x, y in batches:
                loss, _ = step(x, y)
            return float(loss)
        return run

    ways = {"10-3 step, tf.function (lesson)": make(plain),
            "10-3 step, jit_compile=True": make(jit)}
    return {name: [t / steps for t in times]
            for name, times in interleaved(ways, rounds).wall.items()}


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
