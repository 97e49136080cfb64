"""Bench for lesson 6-1: the lesson's plain code vs the teacher's compat.v1 loop vs the faster variants.

Times one training step (batch 100) of the 6-1 network, interleaved (bench/_timing.py) so that a
busy moment of the shared machine slows every candidate alike:
  v1            the teacher's loop: placeholders + feed_dict + Session.run(train_step) on
                tf.compat.v1 (tf.nn ops, AdamOptimizer; the loss on the logits, as fixed here)
  lesson        6-1 as written: its build_model (Keras layers), Keras Adam with its update in a
                tf.function(jit_compile=True) (XLA), one @tf.function call per batch from tf.data
  keras-adam    the same without XLA for Adam (the plain Keras loop; what 6-1 did before)
  jit           the whole step with tf.function(jit_compile=True) (XLA also for the layers)
  epoch-graph   tf.data iterated inside one tf.function (a tf.while_loop), Adam as the lesson's
  bf16          9-3's build_model in mixed_bfloat16 with 9-3's plain Adam (9-3's --mixed-precision)
  variants      bench/_variants.py: bias/einsum Conv2D and Dense, the fused Adam kernel, 5 steps
                per tf.function call (never in a lesson: re-implementations)
Each row: ms per step (wall and CPU time of all threads), and the ratio to v1, which is the
per-epoch ratio too (an epoch is 550 such steps). The machine's fp32 matmul speed (2048x2048, its
best round) gives the fp32 limit of the step's FLOPs; each candidate's share of it uses its best
round too (on a shared machine the medians measure the load as much as the code), and per
CPU-second: GFLOP per second of CPU time (all threads), the candidate's over the matmul's.

    python bench/bench_week06_cnn.py            # a few minutes on 2 busy cores
    python bench/bench_week06_cnn.py --reps 3 --steps 10
"""
import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
import _variants  # bench/_variants.py
import tensorflow as tf

import argparse
from functools import partial
import runpy
import statistics
import time
from unittest import mock
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
lesson = runpy.run_path(str(ROOT / "week06_cnn_mnist" / "6_1_cnn_mnist.py"), run_name="bench")
lesson_9_3 = runpy.run_path(str(ROOT / "week09_gpu_transfer" / "9_3_distributed_cnn.py"), run_name="bench")

# multiply-adds per image, forward: conv1, conv2, fc1, fc2; training ~ 3x forward (forward + 2 backward)
MACS = 28 * 28 * 32 * 5 * 5 * 1 + 14 * 14 * 64 * 5 * 5 * 32 + 3136 * 1024 + 1024 * 10


def v1_runner(images, labels, batch):
    """The course's graph and Session; returns run(n) that does n feed_dict steps."""
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        v1.set_random_seed(0)
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        keep_prob = v1.placeholder(tf.float32)

        def weight_variable(shape):
            return tf.Variable(v1.truncated_normal(shape, stddev=0.1))

        def bias_variable(shape):
            return tf.Variable(tf.constant(0.1, shape=shape))

        def conv2d(a, W):
            return tf.nn.conv2d(a, W, strides=[1, 1, 1, 1], padding="SAME")

        def max_pool_2x2(a):
            return tf.nn.max_pool2d(a, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        x_image = tf.reshape(x, [-1, 28, 28, 1])
        h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x_image, weight_variable([5, 5, 1, 32])) + bias_variable([32])))
        h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, weight_variable([5, 5, 32, 64])) + bias_variable([64])))
        h_fc1 = tf.nn.relu(tf.matmul(tf.reshape(h_pool2, [-1, 7 * 7 * 64]), weight_variable([3136, 1024]))
                           + bias_variable([1024]))
        h_fc1_drop = tf.nn.dropout(h_fc1, rate=1 - keep_prob)
        logits = tf.matmul(h_fc1_drop, weight_variable([1024, 10])) + bias_variable([10])
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_step = v1.train.AdamOptimizer(1e-4).minimize(loss)
        init = v1.global_variables_initializer()
    sess = v1.Session(graph=graph)
    sess.run(init)
    flat = images.reshape(len(images), 784)
    position = [0]

    def run(n):
        for _ in range(n):  # mnist.train.next_batch(100), then feed it
            i = position[0] % (len(flat) // batch) * batch
            position[0] += 1
            sess.run(train_step, feed_dict={x: flat[i:i + batch], y: labels[i:i + batch], keep_prob: 0.7})
    return run


def step_function(model, optimizer, xla_adam=True):
    """6-1's train_step, as the lesson writes it (there it is defined inside main)."""
    def apply_gradients(gradients):
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    if xla_adam:
        apply_gradients = tf.function(apply_gradients, jit_compile=True)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        apply_gradients(tape.gradient(loss, model.trainable_variables))
        return loss
    return train_step


def tf2_runner(images, labels, batch, jit=False, epoch_graph=False, policy=None, variants=False, per_call=1,
               xla_adam=True):
    data = (tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
            .repeat().prefetch(tf.data.AUTOTUNE))
    if variants:  # the lesson's build_model with the bench's layers in place of Keras's
        with mock.patch.object(tf.keras.layers, "Conv2D", _variants.Conv2D), \
                mock.patch.object(tf.keras.layers, "Dense", _variants.Dense):
            model = lesson["build_model"](0.7)
        optimizer = _variants.Adam(1e-4)
    else:
        model = lesson_9_3["build_model"](policy) if policy else lesson["build_model"](0.7)
        optimizer = tf.keras.optimizers.Adam(1e-4)
    train_step = step_function(model, optimizer, xla_adam=xla_adam and not (jit or variants or policy))
    if epoch_graph:
        @tf.function
        def train_steps(dataset):
            for x, y in dataset:
                train_step(x, y)
        return lambda n: train_steps(data.take(n))

    batches = iter(data)
    if per_call == 1:  # the lesson: one call per batch
        compiled = tf.function(train_step, jit_compile=jit)

        def run(n):
            for _ in range(n):
                compiled(*next(batches))
        return run

    @tf.function
    def train_steps(iterator, steps):
        for _ in range(steps):  # a Python loop: traced into `steps` copies of the step
            train_step(*next(iterator))

    def run(n):
        for first in range(0, n, per_call):
            train_steps(batches, min(per_call, n - first))
    return run


def matmul_gflops(size=2048, reps=5):
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])

    @tf.function
    def go():
        return tf.reduce_sum(tf.matmul(a, b))

    go()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(reps):
        start, cpu_start = time.perf_counter(), time.process_time()
        float(go())
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu_start)
    return 2 * size ** 3 / best / 1e9, 2 * size ** 3 / best_cpu / 1e9  # per second of wall, of CPU time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median reported)")
    parser.add_argument("--steps", type=int, default=20, help="training steps per timing")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--only", default=None, help="comma-separated candidates (default: all)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.batch * 50
    images = rng.random((n, 28, 28, 1), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    makers = {"v1": partial(v1_runner, images, labels, args.batch),
              "lesson": partial(tf2_runner, images, labels, args.batch),
              "keras-adam": partial(tf2_runner, images, labels, args.batch, xla_adam=False),
              "jit": partial(tf2_runner, images, labels, args.batch, jit=True),
              "epoch-graph": partial(tf2_runner, images, labels, args.batch, epoch_graph=True),
              "bf16": partial(tf2_runner, images, labels, args.batch, policy="mixed_bfloat16"),
              "variants": partial(tf2_runner, images, labels, args.batch, variants=True, per_call=5)}
    chosen = args.only.split(",") if args.only else list(makers)
    runners = {name: makers[name]() for name in chosen}
    peaks = []
    # one warm-up round (graph building, tracing, oneDNN kernel selection), then the timed rounds
    timings = interleaved({name: partial(run, args.steps) for name, run in runners.items()},
                          args.reps, each_round=lambda: peaks.append(matmul_gflops()))
    wall = {name: 1000 * statistics.median(t) / args.steps for name, t in timings.wall.items()}
    cpu = {name: 1000 * statistics.median(t) / args.steps for name, t in timings.cpu.items()}

    flop = 3 * 2 * MACS * args.batch
    peak = max(p for p, _ in peaks)  # the machine's best moment: a busy one measures the load, not the CPU
    peak_cpu = max(c for _, c in peaks)  # GFLOP per CPU-second (all threads): steadier under load
    limit_ms = flop / (peak * 1e9) * 1000
    print(f"6-1 training step, batch {args.batch}: {flop / 1e9:.2f} GFLOP; fp32 matmul here up to {peak:.0f} GFLOP/s "
          f"(best of {len(peaks)} rounds; median {statistics.median(p for p, _ in peaks):.0f}; {peak_cpu:.0f} per CPU-second) -> fp32 limit {limit_ms:.1f} ms per step")
    print(f"median of {args.reps} interleaved rounds of {args.steps} steps each; per step, wall and CPU "
          "(all threads); ratio = candidate / v1 (per step = per epoch; below 1: faster than the course's loop)")
    for name in runners:
        ratio = (f"x{wall[name] / wall['v1']:.2f} wall, x{cpu[name] / cpu['v1']:.2f} CPU"
                 if "v1" in runners else "")
        print(f"  {name:12s} {wall[name]:7.1f} ms {cpu[name]:7.1f} ms CPU   {ratio:26s} "
              f"{100 * limit_ms / (1000 * min(timings.wall[name]) / args.steps):4.0f}% of the fp32 limit (best round), "
              f"{100 * flop / (cpu[name] / 1000) / (peak_cpu * 1e9):3.0f}% per CPU-second   "
              f"(wall: {', '.join(f'{1000 * t / args.steps:.1f}' for t in timings.wall[name])})")
    if "lesson" in runners and "variants" in runners:
        print(f"lesson / variants = {wall['lesson'] / wall['variants']:.2f} wall, "
              f"{cpu['lesson'] / cpu['variants']:.2f} CPU (above 1: the variants are faster)")


if __name__ == "__main__":
    main()
