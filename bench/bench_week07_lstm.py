"""Bench for lesson 7-2: the lesson as learners run it, against the teacher's compat.v1 loop.

  teacher     the course's loop on tf.compat.v1: placeholders + feed_dict + Session.run, the 28
              steps by tf.compat.v1.nn.dynamic_rnn (a while loop) over a BasicLSTMCell written
              out below with the same maths (tf.contrib and tf.compat.v1.nn.rnn_cell are gone or
              need Keras 2); the loss on the logits, as fixed in the lesson. The yardstick only.
  lesson      `python week07_lstm/7_2_lstm_mnist.py` itself, with the same flags: Keras
              LSTM(100, unroll=True), one @tf.function call per batch from tf.data
  while-loop  the lesson with --no-unroll (a tf.while_loop over the 28 steps, like dynamic_rnn)
Each candidate is one whole process (start-up, data, tracing, the epochs, the test accuracy after
each), run interleaved round after round (bench/_timing.py); medians, ratio = candidate / teacher.

    python bench/bench_week07_lstm.py                                  # --quick sizes, synthetic
    python bench/bench_week07_lstm.py --data mnist --data-dir ../shared/data/mnist --full --reps 3
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import interleaved  # bench/_timing.py

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "week07_lstm" / "7_2_lstm_mnist.py"
LINE = re.compile(r"^Iter (\d+), Testing Accuracy= ([\d.]+)$", re.M)


def teacher(args):
    """The course's program on tf.compat.v1 (run in its own process by `--teacher`)."""
    import numpy as np

    import tfcourse  # quiet TensorFlow import, MNIST
    import tensorflow as tf

    class BasicLSTMCell:
        """tf.contrib.rnn.BasicLSTMCell(units, forget_bias=1.0)'s maths, a cell for dynamic_rnn."""

        def __init__(self, units, forget_bias=1.0):
            self.units, self.forget_bias = units, forget_bias
            self.output_size, self.state_size = units, (units, units)
            self.kernel = None

        def zero_state(self, batch_size, dtype):
            zeros = tf.zeros([batch_size, self.units], dtype)
            return zeros, zeros

        def __call__(self, inputs, state):
            c, h = state
            if self.kernel is None:
                v1 = tf.compat.v1
                self.kernel = v1.get_variable(
                    "kernel", [int(inputs.shape[-1]) + self.units, 4 * self.units],
                    initializer=v1.glorot_uniform_initializer())
                self.bias = v1.get_variable("bias", [4 * self.units],
                                            initializer=v1.zeros_initializer())
            gates = tf.matmul(tf.concat([inputs, h], 1), self.kernel) + self.bias
            i, j, f, o = tf.split(gates, 4, axis=1)
            new_c = c * tf.sigmoid(f + self.forget_bias) + tf.sigmoid(i) * tf.tanh(j)
            new_h = tf.tanh(new_c) * tf.sigmoid(o)
            return new_h, (new_c, new_h)

    mnist = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, quick=not args.full,
                                one_hot=True, verbose=False)
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        inputs = tf.reshape(x, [-1, 28, 28])  # max_time 28, n_inputs 28
        outputs, final_state = v1.nn.dynamic_rnn(BasicLSTMCell(100), inputs, dtype=tf.float32)
        W = tf.Variable(v1.truncated_normal([100, 10], stddev=0.1))
        b = tf.Variable(tf.constant(0.1, shape=[10]))
        logits = tf.matmul(final_state[1], W) + b
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_step = v1.train.AdamOptimizer(1e-4).minimize(loss)
        correct = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        init = v1.global_variables_initializer()
    rng = np.random.default_rng(0)
    n_batch = len(mnist.x_train) // 50
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        for epoch in range(args.epochs):
            order = rng.permutation(len(mnist.x_train))  # mnist.train.next_batch(50)'s order
            for batch in range(n_batch):
                index = order[batch * 50:(batch + 1) * 50]
                sess.run(train_step, {x: mnist.x_train[index], y: mnist.y_train[index]})
            acc = sess.run(accuracy, {x: mnist.x_test, y: mnist.y_test})
            print("Iter " + str(epoch) + ", Testing Accuracy= " + str(round(float(acc), 4)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="interleaved rounds (median reported)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs in every process")
    parser.add_argument("--data", choices=["mnist", "synthetic"], default="synthetic")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files")
    parser.add_argument("--full", action="store_true",
                        help="the whole 55000 images (default: the lesson's --quick 5000)")
    parser.add_argument("--only", default=None, help="comma-separated candidates (default: all)")
    parser.add_argument("--teacher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.teacher:
        return teacher(args)

    data = ["--data", args.data] + (["--data-dir", args.data_dir] if args.data_dir else [])
    size = [] if args.full else ["--quick"]
    work = Path(tempfile.mkdtemp(prefix="bench_week07_"))
    commands = {
        "teacher": [sys.executable, __file__, "--teacher", "--epochs", str(args.epochs)] + data
                   + ([] if size else ["--full"]),
        "lesson": [sys.executable, str(LESSON), "--epochs", str(args.epochs)] + data + size,
        "while-loop": [sys.executable, str(LESSON), "--epochs", str(args.epochs), "--no-unroll"]
                      + data + size,
    }
    if args.only:
        commands = {name: commands[name] for name in args.only.split(",")}
    accuracies = {}

    def job(name, command):
        def run_once():
            out = work / f"{name}-{time.monotonic_ns()}"
            extra = [] if name == "teacher" else ["--out", str(out)]
            done = subprocess.run(command + extra, capture_output=True, text=True,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)))
            if done.returncode != 0:
                sys.exit(f"{name} failed:\n{done.stderr[-2000:]}")
            accuracies[name] = LINE.findall(done.stdout)[-1][1]
        return run_once

    timings = interleaved({name: job(name, c) for name, c in commands.items()}, args.reps,
                          warmup=0)
    wall = {name: statistics.median(t) for name, t in timings.wall.items()}
    print(f"7-2 whole process, {args.epochs} epoch(s) of "
          f"{'55000' if args.full else '5000 (--quick)'} {args.data} images, batch 50; "
          f"medians of {args.reps} interleaved rounds; ratio = candidate / teacher")
    for name in commands:
        ratio = f"x{wall[name] / wall['teacher']:.2f}" if "teacher" in wall else ""
        print(f"  {name:11s} {wall[name]:7.1f} s  {ratio:6s} last accuracy {accuracies[name]}  "
              f"(rounds: {', '.join(f'{t:.1f}' for t in timings.wall[name])})")


if __name__ == "__main__":
    main()
