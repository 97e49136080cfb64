"""Bench: lesson 3-2's epoch: the lesson's plain code vs the teacher's compat.v1 loop vs the
faster variant.

  - teacher: the course's loop on `tf.compat.v1` (placeholder + feed_dict + Session, numpy batches
    as `mnist.train.next_batch` gives them): what a learner gets by only fixing the imports;
  - lesson: 3-2's plain TF2 code, a `tf.data` pipeline iterated inside one `tf.function` epoch;
  - variant: `_variants.epoch_runner` (the images in one tensor, shuffled `tf.gather` batches in
    one `tf.function`), the project's faster way, which no lesson uses.
All three are timed in ONE run, epochs interleaved (A, B, C, A, B, C, ...), and the medians
compared, so a busy machine slows them alike. The issue's bar: lesson / teacher <= 1.2.

    python bench/bench_week03_mnist_simple.py --data-dir ../shared/data/mnist [--repeats 5]
"""

import argparse
import statistics

import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
from _variants import epoch_runner, lesson_epoch  # bench/_variants.py
import numpy as np
import tensorflow as tf


def teacher_epoch(x_train, y_train, batch_size, lr):
    """The teacher's 3-2 loop, ported only as far as needed to run on TF 2.21."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 784])
        y = tf.compat.v1.placeholder(tf.float32, [None, 10])
        W = tf.Variable(tf.zeros([784, 10]))
        b = tf.Variable(tf.zeros([10]))
        prediction = tf.nn.softmax(tf.matmul(x, W) + b)
        loss = tf.reduce_mean(tf.square(y - prediction))
        train_step = tf.compat.v1.train.GradientDescentOptimizer(lr).minimize(loss)
        init = tf.compat.v1.global_variables_initializer()
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(init)
    n_batch = len(x_train) // batch_size
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(x_train))  # next_batch shuffles each epoch
        for batch in range(n_batch):
            index = order[batch * batch_size : (batch + 1) * batch_size]
            sess.run(train_step, feed_dict={x: x_train[index], y: y_train[index]})

    return epoch


def train_step_fn(lr):
    """3-2's model and step, as in the lesson."""
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    optimizer = tf.keras.optimizers.SGD(learning_rate=lr)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            prediction = tf.nn.softmax(tf.matmul(x, W) + b)
            loss = tf.reduce_mean(tf.square(y - prediction))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss

    return train_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument(
        "--repeats",
        type=tfcourse.positive_int,
        default=5,
        help="timed epochs of each (after one warm-up)",
    )
    args = parser.parse_args()
    data = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True)
    runners = {
        "teacher: compat.v1 feed_dict loop": teacher_epoch(data.x_train, data.y_train, 100, 0.2),
        "lesson: tf.data inside a tf.function epoch": lesson_epoch(
            train_step_fn(0.2), data.x_train, data.y_train, 100
        ),
        "variant: _variants.epoch_runner": epoch_runner(
            train_step_fn(0.2), data.x_train, data.y_train, 100
        ),
    }
    timings = interleaved(runners, args.repeats)  # after one warm-up round (tracing, caches)
    print(
        f"lesson 3-2, one epoch = {len(data.x_train) // 100} steps of batch 100; "
        f"median of {args.repeats} interleaved epochs"
    )
    wall = {name: statistics.median(t) for name, t in timings.wall.items()}
    cpu = {name: statistics.median(t) for name, t in timings.cpu.items()}
    for name in runners:
        print(
            f"  {name:45s} {wall[name]:.3f} s/epoch wall "
            f"(min {min(timings.wall[name]):.3f}), {cpu[name]:.3f} s CPU"
        )
    teacher, lesson, variant = wall.values()
    print(
        f"lesson / teacher: {lesson / teacher:.2f}x the time (bar: 1.2x); "
        f"variant / lesson: {variant / lesson:.2f}x"
    )


if __name__ == "__main__":
    main()
