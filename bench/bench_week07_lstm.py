"""Bench for lesson 7-2: time per training step and per epoch of the LSTM, three ways, in one run.

  lesson       Keras LSTM(100, unroll=True): the 28 steps written out as one graph, one
               tf.function call per batch from tf.data (as the lesson runs)
  while-loop   the same with --no-unroll: a tf.while_loop over the 28 steps, like the course's
               tf.nn.dynamic_rnn
  epoch-graph  while loop, and tf.data iterated inside one tf.function (the usual alternative)
Batches of 50, interleaved repetitions; the per-epoch figure is the per-step time x 1100 steps
(55000 images / 50). CPU time (all threads) is printed too: steadier on a shared machine.

    python bench/bench_week07_lstm.py
    python bench/bench_week07_lstm.py --reps 3 --steps 50
"""
import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
import tensorflow as tf

import argparse
from functools import partial
import runpy
import statistics
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
lesson = runpy.run_path(str(ROOT / "week07_lstm" / "7_2_lstm_mnist.py"), run_name="bench")


def runner(images, labels, batch, unroll, epoch_graph=False):
    model = lesson["build_model"](100, unroll=unroll)
    optimizer = tf.keras.optimizers.Adam(1e-4)
    data = (tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
            .repeat().prefetch(tf.data.AUTOTUNE))

    def train_step(x, y):
        with tf.GradientTape() as tape:
            prediction = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables))

    if epoch_graph:
        @tf.function
        def train_steps(dataset):
            for x, y in dataset:
                train_step(x, y)
        return lambda n: train_steps(data.take(n))

    compiled_step = tf.function(train_step)
    batches = iter(data)

    def run(n):
        for _ in range(n):
            compiled_step(*next(batches))
    return run


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
    runners = {"lesson": runner(images, labels, args.batch, True),
               "while-loop": runner(images, labels, args.batch, False),
               "epoch-graph": runner(images, labels, args.batch, False, epoch_graph=True)}
    # one warm-up round: tracing
    timings = interleaved({name: partial(run, args.steps) for name, run in runners.items()}, args.reps)
    times = {name: [t / args.steps for t in wall] for name, wall in timings.wall.items()}
    cpu = {name: [t / args.steps for t in wall] for name, wall in timings.cpu.items()}

    steps_per_epoch = 55000 // args.batch
    print(f"7-2 LSTM(100) training step, batch {args.batch}; median of {args.reps} interleaved "
          f"repetitions of {args.steps} steps:")
    ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    cpu_ms = {name: 1000 * statistics.median(t) for name, t in cpu.items()}
    for name, value in ms.items():
        print(f"  {name:11s} {value:6.2f} ms/step -> {value * steps_per_epoch / 1000:5.1f} s per epoch of "
              f"{steps_per_epoch} steps; CPU {cpu_ms[name]:6.2f} ms/step -> "
              f"{cpu_ms[name] * steps_per_epoch / 1000:5.1f} s   (wall: {', '.join(f'{1000 * t:.1f}' for t in times[name])})")
    for other in ("while-loop", "epoch-graph"):
        print(f"ratio {other} / lesson = {ms[other] / ms['lesson']:.2f} wall, "
              f"{cpu_ms[other] / cpu_ms['lesson']:.2f} CPU (above 1: the lesson's way is faster)")


if __name__ == "__main__":
    main()
