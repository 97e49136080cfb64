"""Bench: lesson 3-2's epoch, the teacher's compat.v1 feed_dict loop vs our TF2 script's way.

The yardstick is the teacher's own loop on `tf.compat.v1` (placeholder + feed_dict + Session,
`mnist.train.next_batch`-style numpy batches): what a learner gets by only fixing the imports.
Ours runs the whole epoch in one graph with `tfcourse.epoch_runner`, as the lesson does; the
textbook TF2 way (a `tf.data` pipeline iterated inside a `tf.function`) is timed too.
Both are timed in ONE run, epochs interleaved (A, B, A, B, ...), and the medians compared, so a
busy machine slows both alike.

    python bench/bench_week03_mnist_simple.py --data-dir ../shared/data/mnist [--repeats 5]
"""
import argparse
import statistics

import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
import numpy as np
import tensorflow as tf


def compat_v1_epoch_runner(x_train, y_train, batch_size, lr):
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
            index = order[batch * batch_size:(batch + 1) * batch_size]
            sess.run(train_step, feed_dict={x: x_train[index], y: y_train[index]})
    return epoch


def _softmax_regression(lr):
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    optimizer = tf.keras.optimizers.SGD(learning_rate=lr)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(y - tf.nn.softmax(tf.matmul(x, W) + b)))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss
    return train_step


def tf_data_epoch_runner(x_train, y_train, batch_size, lr):
    """The textbook TF2 way: a tf.data pipeline iterated inside one tf.function."""
    dataset = (tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=0)
               .batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    train_step = _softmax_regression(lr)

    @tf.function
    def train_epoch(data):
        for x, y in data:
            train_step(x, y)
    return lambda: train_epoch(dataset)


def lesson_epoch_runner(x_train, y_train, batch_size, lr):
    """Lesson 3-2's way: tfcourse.epoch_runner (shuffled tf.gather batches in one tf.function)."""
    return tfcourse.epoch_runner(_softmax_regression(lr), x_train, y_train, batch_size)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs of each (after one warm-up)")
    args = parser.parse_args()
    data = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True)
    runners = {
        "compat.v1 feed_dict loop (teacher)": compat_v1_epoch_runner(data.x_train, data.y_train, 100, 0.2),
        "TF2 tf.data inside tf.function": tf_data_epoch_runner(data.x_train, data.y_train, 100, 0.2),
        "TF2 tfcourse.epoch_runner (the lesson, ours)": lesson_epoch_runner(data.x_train, data.y_train, 100, 0.2),
    }
    times = interleaved(runners, args.repeats).wall  # after one warm-up round (tracing, caches)
    print(f"lesson 3-2, one epoch = {len(data.x_train) // 100} steps of batch 100; "
          f"median of {args.repeats} interleaved epochs")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"  {name:46s} {median:.3f} s/epoch  (min {min(times[name]):.3f})")
    teacher, textbook, ours = medians.values()
    print(f"speed-up of ours over the teacher's loop: {teacher / ours:.2f}x "
          f"(tf.data inside tf.function: {teacher / textbook:.2f}x)")


if __name__ == "__main__":
    main()
