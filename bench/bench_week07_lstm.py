"""Bench for lesson 7-2: time per training step and per epoch of the LSTM, two ways, in one run.

  while-loop  the lesson's model: Keras LSTM(100) as it comes (a tf.while_loop over the 28 steps,
              like the course's tf.nn.dynamic_rnn)
  unrolled    the lesson with --unroll: LSTM(100, unroll=True), the 28 steps written out as one graph
Both train on batches of 50 inside one tf.function (as the lesson), interleaved repetitions; the
per-epoch figure is the per-step time x 1100 steps (55000 images / 50).

    python bench/bench_week07_lstm.py
    python bench/bench_week07_lstm.py --reps 3 --steps 50
"""
import tfcourse  # quiet TensorFlow import
import tensorflow as tf

import argparse
import runpy
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
lesson = runpy.run_path(str(ROOT / "week07_lstm" / "7_2_lstm_mnist.py"), run_name="bench")


def runner(images, labels, batch, unroll):
    model = lesson["build_model"](100, unroll=unroll)
    optimizer = tf.keras.optimizers.Adam(1e-4)
    data = (tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
            .repeat().prefetch(tf.data.AUTOTUNE))

    @tf.function
    def train_steps(dataset):
        for x, y in dataset:
            with tf.GradientTape() as tape:
                prediction = model(x, training=True)
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                          model.trainable_variables))

    return lambda n: train_steps(data.take(n))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median reported)")
    parser.add_argument("--steps", type=int, default=100, help="training steps per timing")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.batch * 40
    images = rng.random((n, 28, 28), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    runners = {"while-loop": runner(images, labels, args.batch, False),
               "unrolled": runner(images, labels, args.batch, True)}
    for run in runners.values():  # warm-up: tracing
        run(3)
    times = {name: [] for name in runners}
    for _ in range(args.reps):
        for name, run in runners.items():
            start = time.perf_counter()
            run(args.steps)
            times[name].append((time.perf_counter() - start) / args.steps)

    steps_per_epoch = 55000 // args.batch
    print(f"7-2 LSTM(100) training step, batch {args.batch}; median of {args.reps} interleaved "
          f"repetitions of {args.steps} steps:")
    ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    for name, value in ms.items():
        print(f"  {name:10s} {value:6.2f} ms/step  -> {value * steps_per_epoch / 1000:5.1f} s per epoch "
              f"of {steps_per_epoch} steps   (all: {', '.join(f'{1000 * t:.2f}' for t in times[name])})")
    print(f"ratio unrolled / while-loop = {ms['unrolled'] / ms['while-loop']:.2f} "
          "(above 1: the lesson's while loop is faster)")


if __name__ == "__main__":
    main()
