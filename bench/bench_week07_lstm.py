"""Bench for lesson 7-2: the lesson's plain code vs the teacher's compat.v1 loop vs other ways, in one run.

  v1           the teacher's loop on tf.compat.v1: placeholders + feed_dict + Session.run, the
               28 steps by tf.compat.v1.nn.dynamic_rnn (a while loop) over a BasicLSTMCell written
               out below with the same maths (tf.contrib and tf.compat.v1.nn.rnn_cell are gone or
               need Keras 2); the loss on the logits, as fixed here
  lesson       7-2 as written: Keras LSTM(100, unroll=True), the 28 steps written out as one
               graph, one @tf.function call per batch from tf.data
  while-loop   the same with --no-unroll: a tf.while_loop over the 28 steps, like dynamic_rnn
  jit          the lesson's step with tf.function(jit_compile=True) (public switch: XLA)
  epoch-graph  while loop, and tf.data iterated inside one tf.function
Batches of 50, interleaved rounds (bench/_timing.py), medians; ms per step, wall and CPU time of
all threads; ratio = candidate / v1 (per step = per epoch: an epoch is 1100 such steps).

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


class BasicLSTMCell:
    """tf.contrib.rnn.BasicLSTMCell(units, forget_bias=1.0)'s maths, as a cell for dynamic_rnn."""

    def __init__(self, units, forget_bias=1.0):
        self.units, self.forget_bias = units, forget_bias
        self.output_size, self.state_size = units, (units, units)
        self.kernel = None

    def zero_state(self, batch_size, dtype):
        return tf.zeros([batch_size, self.units], dtype), tf.zeros([batch_size, self.units], dtype)

    def __call__(self, inputs, state):
        c, h = state
        if self.kernel is None:
            v1 = tf.compat.v1
            self.kernel = v1.get_variable("kernel", [int(inputs.shape[-1]) + self.units, 4 * self.units],
                                          initializer=v1.glorot_uniform_initializer())
            self.bias = v1.get_variable("bias", [4 * self.units], initializer=v1.zeros_initializer())
        i, j, f, o = tf.split(tf.matmul(tf.concat([inputs, h], 1), self.kernel) + self.bias, 4, axis=1)
        new_c = c * tf.sigmoid(f + self.forget_bias) + tf.sigmoid(i) * tf.tanh(j)
        new_h = tf.tanh(new_c) * tf.sigmoid(o)
        return new_h, (new_c, new_h)


def v1_runner(images, labels, batch):
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        inputs = tf.reshape(x, [-1, 28, 28])  # max_time 28, n_inputs 28
        outputs, final_state = v1.nn.dynamic_rnn(BasicLSTMCell(100), inputs, dtype=tf.float32)
        W = tf.Variable(v1.truncated_normal([100, 10], stddev=0.1))
        b = tf.Variable(tf.constant(0.1, shape=[10]))
        logits = tf.matmul(final_state[1], W) + b
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_step = v1.train.AdamOptimizer(1e-4).minimize(loss)
        init = v1.global_variables_initializer()
    sess = v1.Session(graph=graph)
    sess.run(init)
    flat = images.reshape(len(images), 784)
    position = [0]

    def run(n):
        for _ in range(n):  # mnist.train.next_batch(50), then feed it
            i = position[0] % (len(flat) // batch) * batch
            position[0] += 1
            sess.run(train_step, feed_dict={x: flat[i:i + batch], y: labels[i:i + batch]})
    return run


def tf2_runner(images, labels, batch, unroll, epoch_graph=False, jit=False):
    model = lesson["build_model"](100, unroll=unroll)
    optimizer = tf.keras.optimizers.Adam(1e-4)
    data = (tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch, drop_remainder=True)
            .repeat().prefetch(tf.data.AUTOTUNE))

    def train_step(x, y):  # 7-2's, as the lesson writes it (there it is defined inside main)
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables))
        return loss

    if epoch_graph:
        @tf.function
        def train_steps(dataset):
            for x, y in dataset:
                train_step(x, y)
        return lambda n: train_steps(data.take(n))

    compiled_step = tf.function(train_step, jit_compile=jit)
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
    parser.add_argument("--only", default=None, help="comma-separated candidates (default: all)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.batch * 40
    images = rng.random((n, 28, 28), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    makers = {"v1": partial(v1_runner, images, labels, args.batch),
              "lesson": partial(tf2_runner, images, labels, args.batch, True),
              "while-loop": partial(tf2_runner, images, labels, args.batch, False),
              "jit": partial(tf2_runner, images, labels, args.batch, True, jit=True),
              "epoch-graph": partial(tf2_runner, images, labels, args.batch, False, epoch_graph=True)}
    chosen = args.only.split(",") if args.only else list(makers)
    runners = {name: makers[name]() for name in chosen}
    # one warm-up round (tracing), then the timed rounds
    timings = interleaved({name: partial(run, args.steps) for name, run in runners.items()}, args.reps)
    wall = {name: 1000 * statistics.median(t) / args.steps for name, t in timings.wall.items()}
    cpu = {name: 1000 * statistics.median(t) / args.steps for name, t in timings.cpu.items()}

    steps_per_epoch = 55000 // args.batch
    print(f"7-2 LSTM(100) training step, batch {args.batch}; median of {args.reps} interleaved rounds of "
          f"{args.steps} steps; ratio = candidate / v1 (per step = per epoch; below 1: faster than the course's loop)")
    for name in runners:
        ratio = f"x{wall[name] / wall['v1']:.2f} wall, x{cpu[name] / cpu['v1']:.2f} CPU" if "v1" in runners else ""
        print(f"  {name:11s} {wall[name]:6.2f} ms {cpu[name]:6.2f} ms CPU  {ratio:26s} "
              f"-> {wall[name] * steps_per_epoch / 1000:5.1f} s per epoch of {steps_per_epoch} steps   "
              f"(wall: {', '.join(f'{1000 * t / args.steps:.1f}' for t in timings.wall[name])})")


if __name__ == "__main__":
    main()
