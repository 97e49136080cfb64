"""Bench for lesson 6-1: the course's compat.v1 feed_dict loop vs our TF2 step, in one run.

Times one training step (batch 100) of the 6-1 network several ways, interleaved so that the
shared machine's noise hits all of them alike:
  v1            the teacher's loop: placeholders + feed_dict + Session.run(train_step) on
                tf.compat.v1 (tf.nn ops and AdamOptimizer, loss on logits as in our fixed version)
  tf2-fp32      the lesson's own code: build_model and make_train_steps from 6_1_cnn_mnist.py
                (tfcourse.layers, tfcourse.optimizers.Adam, GradientTape step, 5 steps per
                tf.function call, batches from tf.data)
  tf2-bf16      the same with --mixed-precision (mixed_bfloat16 on a CPU)
and what each of the lesson's speed choices is worth, each the fp32 lesson with one choice undone:
  1-per-call    one step per tf.function call instead of 5
  keras-layers  keras.layers.Conv2D and Dense instead of tfcourse.layers
  keras-adam    keras.optimizers.Adam (~10 element-wise ops per variable) instead of the fused kernel
  tf2-loop      tf.data iterated inside one tf.function (a tf.while_loop)
and the machine's fp32 matrix-multiply speed, which gives the fp32 limit for the step's FLOPs.

    python bench/bench_week06_cnn.py            # about a minute on 2 idle cores
    python bench/bench_week06_cnn.py --reps 3 --steps 10
"""
import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
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

# multiply-adds per image, forward: conv1, conv2, fc1, fc2; training ~ 3x forward (forward + 2 backward)
MACS = 28 * 28 * 32 * 5 * 5 * 1 + 14 * 14 * 64 * 5 * 5 * 32 + 3136 * 1024 + 1024 * 10


def v1_step_runner(images, labels, batch):
    """The course's graph and Session; returns run(n) that does n feed_dict steps."""
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        tf.compat.v1.set_random_seed(0)
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        keep_prob = v1.placeholder(tf.float32)

        def weight(shape):
            return tf.Variable(v1.truncated_normal(shape, stddev=0.1))

        def bias(shape):
            return tf.Variable(tf.constant(0.1, shape=shape))

        def conv2d(a, W):
            return tf.nn.conv2d(a, W, strides=[1, 1, 1, 1], padding="SAME")

        def max_pool_2x2(a):
            return tf.nn.max_pool2d(a, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        x_image = tf.reshape(x, [-1, 28, 28, 1])
        h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x_image, weight([5, 5, 1, 32])) + bias([32])))
        h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, weight([5, 5, 32, 64])) + bias([64])))
        h_fc1 = tf.nn.relu(tf.matmul(tf.reshape(h_pool2, [-1, 7 * 7 * 64]), weight([3136, 1024])) + bias([1024]))
        h_fc1_drop = tf.nn.dropout(h_fc1, rate=1 - keep_prob)
        prediction = tf.matmul(h_fc1_drop, weight([1024, 10])) + bias([10])
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction))
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


def tf2_step_runner(images, labels, batch, policy, steps_per_call=None, keras_layers=False,
                    keras_adam=False):
    """The lesson's model and train_steps; returns run(n) that does n steps, as the lesson does."""
    steps_per_call = steps_per_call or lesson["STEPS_PER_CALL"]
    with mock.patch.object(tfcourse, "layers", tf.keras.layers if keras_layers else tfcourse.layers):
        model = lesson["build_model"](policy, 0.7)
    optimizer = (tf.keras.optimizers.Adam if keras_adam else tfcourse.optimizers.Adam)(1e-4)
    train_steps = lesson["make_train_steps"](model, optimizer, tf.distribute.get_strategy(), batch)
    data = (tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
            .repeat().prefetch(tf.data.AUTOTUNE))
    batches = iter(data)

    def run(n):
        for first in range(0, n, steps_per_call):
            train_steps(batches, min(steps_per_call, n - first))
    return run


def tf2_epoch_graph_runner(images, labels, batch):
    """The alternative: tf.data iterated inside one tf.function, a tf.while_loop (rejected)."""
    model = lesson["build_model"]("float32", 0.7)
    optimizer = tfcourse.optimizers.Adam(1e-4)
    data = (tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
            .repeat().prefetch(tf.data.AUTOTUNE))

    @tf.function
    def train_steps(dataset):
        for x, y in dataset:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
                    labels=y, logits=model(x, training=True)))
            optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

    return lambda n: train_steps(data.take(n))


def matmul_gflops(size=2048, reps=5):
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])

    @tf.function
    def go():
        return tf.reduce_sum(tf.matmul(a, b))

    go()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        float(go())
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median reported)")
    parser.add_argument("--steps", type=int, default=20, help="training steps per timing")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.batch * 50
    images = rng.random((n, 28, 28, 1), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    runners = {"v1": v1_step_runner(images, labels, args.batch),
               "tf2-fp32": tf2_step_runner(images, labels, args.batch, "float32"),
               "tf2-bf16": tf2_step_runner(images, labels, args.batch, "mixed_bfloat16"),
               "1-per-call": tf2_step_runner(images, labels, args.batch, "float32", steps_per_call=1),
               "keras-layers": tf2_step_runner(images, labels, args.batch, "float32", keras_layers=True),
               "keras-adam": tf2_step_runner(images, labels, args.batch, "float32", keras_adam=True),
               "tf2-loop": tf2_epoch_graph_runner(images, labels, args.batch)}
    peaks = []
    # one warm-up round: graph building, tracing, oneDNN kernel selection
    timings = interleaved({name: partial(run, args.steps) for name, run in runners.items()},
                          args.reps, each_round=lambda: peaks.append(matmul_gflops()))
    times = {name: [t / args.steps for t in wall] for name, wall in timings.wall.items()}
    cpu = {name: [t / args.steps for t in wall] for name, wall in timings.cpu.items()}

    flop = 3 * 2 * MACS * args.batch
    peak = statistics.median(peaks)
    limit_ms = flop / (peak * 1e9) * 1000
    print(f"6-1 training step, batch {args.batch}: {flop / 1e9:.2f} GFLOP; fp32 matmul here "
          f"{peak:.0f} GFLOP/s -> fp32 limit {limit_ms:.1f} ms per step")
    print(f"median of {args.reps} interleaved repetitions of {args.steps} steps each "
          "(wall time; the matmul speed is measured under the same load):")
    ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    cpu_ms = {name: 1000 * statistics.median(t) for name, t in cpu.items()}
    for name, value in ms.items():
        print(f"  {name:12s} {value:7.1f} ms/step   {flop / value / 1e6:6.0f} GFLOP/s   "
              f"{100 * limit_ms / value:4.0f}% of the fp32 limit   "
              f"(all: {', '.join(f'{1000 * t:.1f}' for t in times[name])})")
    print("CPU time per step, all threads together (steadier than wall time on a shared machine):")
    for name, value in cpu_ms.items():
        print(f"  {name:12s} {value:7.1f} ms/step   (all: {', '.join(f'{1000 * t:.1f}' for t in cpu[name])})")
    for other in [name for name in runners if name != "v1"]:
        print(f"ratio v1 / {other} = {ms['v1'] / ms[other]:.2f} wall, {cpu_ms['v1'] / cpu_ms[other]:.2f} CPU "
              "(above 1: faster than the course's loop)")
    print(f"ratio tf2-fp32 / tf2-bf16 = {ms['tf2-fp32'] / ms['tf2-bf16']:.2f} wall, "
          f"{cpu_ms['tf2-fp32'] / cpu_ms['tf2-bf16']:.2f} CPU")


if __name__ == "__main__":
    main()
