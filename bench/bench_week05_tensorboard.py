"""Bench: lesson 5-3's epoch with TensorBoard summaries: the lesson's plain code vs the teacher's compat.v1 loop vs the faster variant.

One timed unit = one epoch of 550 steps (batch 100, GD 0.2, loss on logits) + that epoch's
summaries (mean/stddev/max/min/histogram of W and b, loss, accuracy) + the test accuracy:
  - teacher: the course's 5-3 on `tf.compat.v1`: placeholders, `tf.compat.v1.summary.*` merged,
    `sess.run([merged, train_step], feed_dict=...)` at EVERY step, `writer.add_summary(summary,
    epoch)` once per epoch (numpy batches as `mnist.train.next_batch` gives them);
  - lesson: 5-3's plain code: the epoch as `tf.data` inside one `tf.function`, summaries written
    once per epoch with `tf.summary` (tfcourse.summaries.variable_summaries, as the lesson);
  - variant: the same with the epoch on `_variants.epoch_runner` (shuffled tf.gather batches);
  - every step: the lesson's epoch with every step's summaries written inside its graph, to show
    what writing at every step would cost.
Epochs are interleaved after one warm-up round and medians compared, so a busy machine slows all
alike. Event files go to a temporary folder that is removed.

    python bench/bench_week05_tensorboard.py --data-dir ../shared/data/mnist [--repeats 5]
"""
import argparse
import statistics
import tempfile

import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
from _variants import epoch_runner  # bench/_variants.py
import numpy as np
import tensorflow as tf
from tfcourse.summaries import variable_summaries  # what 5-3 writes


def teacher_runner(data, logdir, lr=0.2, batch_size=100):
    """The teacher's 5-3, ported only as far as needed to run on TF 2.21 (loss on logits)."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        def variable_summaries(var):
            with tf.name_scope("summaries"):
                mean = tf.reduce_mean(var)
                v1.summary.scalar("mean", mean)
                with tf.name_scope("stddev"):
                    stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
                v1.summary.scalar("stddev", stddev)
                v1.summary.scalar("max", tf.reduce_max(var))
                v1.summary.scalar("min", tf.reduce_min(var))
                v1.summary.histogram("histogram", var)
        with tf.name_scope("input"):
            x = v1.placeholder(tf.float32, [None, 784], name="x-input")
            y = v1.placeholder(tf.float32, [None, 10], name="y-input")
        with tf.name_scope("layer"):
            with tf.name_scope("weights"):
                W = tf.Variable(tf.zeros([784, 10]), name="W")
                variable_summaries(W)
            with tf.name_scope("biases"):
                b = tf.Variable(tf.zeros([10]), name="b")
                variable_summaries(b)
            with tf.name_scope("xw_plus_b"):
                wx_plus_b = tf.matmul(x, W) + b
            with tf.name_scope("softmax"):
                prediction = tf.nn.softmax(wx_plus_b)
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=wx_plus_b))
            v1.summary.scalar("loss", loss)
        with tf.name_scope("train"):
            train_step = v1.train.GradientDescentOptimizer(lr).minimize(loss)
        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
            v1.summary.scalar("accuracy", accuracy)
        merged = v1.summary.merge_all()
        init = v1.global_variables_initializer()
    sess = v1.Session(graph=graph)
    sess.run(init)
    with graph.as_default():  # FileWriter refuses to work in eager mode
        writer = v1.summary.FileWriter(logdir, sess.graph)
    n_batch = len(data.x_train) // batch_size
    rng = np.random.default_rng(0)
    state = {"epoch": 0}

    def epoch():
        order = rng.permutation(len(data.x_train))  # next_batch shuffles each epoch
        for batch in range(n_batch):
            index = order[batch * batch_size:(batch + 1) * batch_size]
            summary, _ = sess.run([merged, train_step],
                                  feed_dict={x: data.x_train[index], y: data.y_train[index]})
        writer.add_summary(summary, state["epoch"])
        state["epoch"] += 1
        return sess.run(accuracy, feed_dict={x: data.x_test, y: data.y_test})
    return epoch, writer.close


def _tf2_model(lr):
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    optimizer = tf.keras.optimizers.SGD(learning_rate=lr)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=tf.matmul(x, W) + b))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss

    @tf.function
    def accuracy(x, y):
        correct = tf.equal(tf.argmax(y, 1), tf.argmax(tf.nn.softmax(tf.matmul(x, W) + b), 1))
        return tf.reduce_mean(tf.cast(correct, tf.float32))

    def summaries(step, loss, acc):
        with tf.name_scope("layer"):
            with tf.name_scope("weights"):
                variable_summaries(W, step)
            with tf.name_scope("biases"):
                variable_summaries(b, step)
        with tf.name_scope("loss"):
            tf.summary.scalar("loss", loss, step=step)
        with tf.name_scope("accuracy"):
            tf.summary.scalar("accuracy", acc, step=step)
    return train_step, accuracy, summaries, optimizer


def tf_data_epoch(train_step, data, batch_size):
    """5-3's epoch: tf.data inside one tf.function, returning the epoch's mean loss."""
    train_data = (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).shuffle(len(data.x_train), seed=0)
                  .batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))

    @tf.function
    def train_epoch():
        total, steps = tf.constant(0.0), tf.constant(0.0)
        for x, y in train_data:
            total += train_step(x, y)
            steps += 1.0
        return total / steps
    return train_epoch


def per_epoch_runner(data, logdir, lr=0.2, batch_size=100, variant=False):
    """5-3's way: one graph call per epoch, summaries once per epoch (eager); variant: epoch_runner."""
    train_step, accuracy, summaries, _ = _tf2_model(lr)
    train_epoch = (epoch_runner(train_step, data.x_train, data.y_train, batch_size) if variant
                   else tf_data_epoch(train_step, data, batch_size))
    writer = tf.summary.create_file_writer(logdir)
    state = {"epoch": 0}

    def epoch():
        loss = train_epoch()
        acc = accuracy(data.x_test, data.y_test)
        with writer.as_default():
            summaries(state["epoch"], loss, acc)
        writer.flush()
        state["epoch"] += 1
        return acc
    return epoch, writer.close


def every_step_runner(data, logdir, lr=0.2, batch_size=100):
    """The lesson's epoch with every step's summaries written inside the epoch's graph."""
    train_step, accuracy, summaries, optimizer = _tf2_model(lr)

    def step_with_summaries(x, y):
        step = tf.identity(optimizer.iterations)
        loss = train_step(x, y)
        summaries(step, loss, tf.constant(0.0))  # batch accuracy left out: the cost is the writing
        return loss
    train_epoch = tf_data_epoch(step_with_summaries, data, batch_size)
    writer = tf.summary.create_file_writer(logdir)

    def epoch():
        with writer.as_default():
            train_epoch()
        writer.flush()
        return accuracy(data.x_test, data.y_test)
    return epoch, writer.close


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument("--repeats", type=tfcourse.positive_int, default=5, help="timed epochs of each (after one warm-up)")
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(0)
    data = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True)
    with tempfile.TemporaryDirectory() as tmp:
        runners = {
            "teacher: compat.v1, merged summaries every step": teacher_runner(data, tmp + "/teacher"),
            "lesson: tf.data epoch graph, summaries per epoch": per_epoch_runner(data, tmp + "/lesson"),
            "variant: epoch_runner, summaries per epoch": per_epoch_runner(data, tmp + "/variant", variant=True),
            "lesson's epoch, summaries every step in the graph": every_step_runner(data, tmp + "/every"),
        }
        timings = interleaved({name: epoch for name, (epoch, _) in runners.items()}, args.repeats)
        accuracy = {name: float(value) for name, value in timings.last.items()}
        for _, close in runners.values():
            close()
    print(f"lesson 5-3, one epoch = {len(data.x_train) // 100} steps of batch 100 + summaries + test "
          f"accuracy; median of {args.repeats} interleaved epochs")
    wall = {name: statistics.median(t) for name, t in timings.wall.items()}
    for name, median in wall.items():
        print(f"  {name:50s} {median:.3f} s/epoch wall (min {min(timings.wall[name]):.3f}), "
              f"{statistics.median(timings.cpu[name]):.3f} s CPU; test accuracy after {args.repeats + 1} "
              f"epochs {accuracy[name]:.4f}")
    teacher, lesson, variant, every = wall.values()
    print(f"lesson / teacher: {lesson / teacher:.2f}x the time; variant / lesson: {variant / lesson:.2f}x; "
          f"summaries at every step / lesson: {every / lesson:.2f}x")

if __name__ == "__main__":
    main()
