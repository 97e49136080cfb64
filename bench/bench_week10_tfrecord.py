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
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path

import tfcourse  # noqa: F401  (quiet TensorFlow import)
import tensorflow as tf
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "week10_captcha_tfrecord"))
import _captcha  # noqa: E402
from _timing import interleaved  # noqa: E402  (bench/_timing.py)

BATCH = 25


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


def pipeline(record_file, passes):
    n = 0
    for x, _ in _captcha.dataset(record_file, (224, 224), BATCH).repeat(passes):
        n += int(x.shape[0])
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="captchas to generate (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved repetitions (default 5)")
    parser.add_argument("--passes", type=int, default=3,
                        help="passes over the captchas per timing, so each lasts long enough (default 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_week10_") as tmp:
        tmp = Path(tmp)
        random.seed(0)
        from captcha.image import ImageCaptcha
        generator = ImageCaptcha()
        files = []
        for n in random.sample(range(10000), args.count):
            path = tmp / f"{n:04d}.jpg"
            _captcha.captcha_image(f"{n:04d}", generator).save(path, format="JPEG")
            files.append(path)
        record_file = tmp / "bench.tfrecords"
        with tf.io.TFRecordWriter(str(record_file)) as writer:
            for path in files:
                pixels = _captcha.image_to_pixels(_captcha.read_picture(path))
                writer.write(_captcha.make_example(pixels, path.stem).SerializeToString())

        ways = {"JPEG one by one, Pillow (course)": lambda: one_by_one_pillow(files * args.passes),
                "JPEG one by one, eager tf.io": lambda: one_by_one_tf(files * args.passes),
                "TFRecord + tf.data pipeline": lambda: pipeline(record_file, args.passes)}
        timings = interleaved(ways, args.rounds)  # one untimed warm-up round, then A, B, C, A, B, C, ...
        rates = {name: [timings.last[name] / t for t in times] for name, times in timings.wall.items()}
        steps = step_timings(record_file, args.rounds)

    print(f"{args.count} captchas x {args.passes} passes -> batches of {BATCH} x 224x224 in [-1, 1]; "
          f"median of {args.rounds} "
          f"interleaved rounds (tf threads: all cores); CPU: {cpu_name()}")
    for name, rate in rates.items():
        print(f"  {name:34s} {statistics.median(rate):8.0f} images/s   (rounds: {', '.join(f'{r:.0f}' for r in rate)})")
    fast = rates["TFRecord + tf.data pipeline"]
    for baseline in ("Pillow (course)", "eager tf.io"):
        slow = rates[f"JPEG one by one, {baseline}"]
        paired = statistics.median(f / s for f, s in zip(fast, slow))  # same round, same machine load
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


def step_timings(record_file, rounds, steps=20):
    """10-3's train step, plain tf.function vs jit_compile=True: seconds per step, per round."""
    batches = list(_captcha.dataset(record_file, _captcha.DEFAULT_INPUT["cnn"], BATCH, repeat=True).take(steps))

    def make(jit):
        model = _captcha.build_model("cnn", "four")
        optimizer = tf.keras.optimizers.Adam(0.003)

        @tf.function(jit_compile=jit)
        def train_step(x, y):  # as in 10_3_train.py
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        def run():
            for x, y in batches:
                loss = train_step(x, y)
            return float(loss)
        return run

    ways = {"10-3 step, tf.function (lesson)": make(False), "10-3 step, jit_compile=True": make(True)}
    return {name: [t / steps for t in times] for name, times in interleaved(ways, rounds).wall.items()}


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
