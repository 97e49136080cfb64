"""Bench: week 4's lessons: the lesson's plain code vs the teacher's compat.v1 loop vs the
faster variant.

For each lesson (4-1 cross-entropy, 4-2 dropout, 4-3 Adam, 5-1 homework) the same network, loss
and optimizer are built three times:
  - teacher: the course's loop on `tf.compat.v1` (placeholder + feed_dict + Session, numpy batches
    as `mnist.train.next_batch` gives them), what a learner gets by only fixing the imports;
  - lesson: the lesson's plain TF2 code: a `tf.data` pipeline iterated inside one `tf.function`
    epoch, Keras's optimizer as shipped, tf.matmul; 4-2 and 5-1 switch tf.data's autotuner off
    (`tf.data.Options().autotune.enabled = False`), and a "before" row times them with it on;
  - variant (bench/_variants.py, no lesson uses it): the epoch on shuffled `tf.gather` batches
    (`epoch_runner`), plus for 4-2 the einsum input gradient (`matmul`) and for 5-1 the fused
    ResourceApplyAdam kernel (`Adam`).
Epochs are interleaved (A, B, C, A, B, C, ...) after one warm-up round, and the medians compared,
so a busy machine slows all alike. The issue's bar: lesson / teacher <= 1.2 per epoch. 4-2 is
heavy (7.6 M weights): it is timed on --steps-42 batches (default 110, a fifth of an epoch) and
scaled to 550 steps; its cost is the matrix products.

    python bench/bench_week04_lessons.py --data-dir ../shared/data/mnist [--repeats 3] \
        [--lessons 4-1,5-1]
"""

import argparse
import statistics

import tfcourse  # quiet TensorFlow import
import _variants  # bench/_variants.py
from _timing import interleaved  # bench/_timing.py
import numpy as np
import tensorflow as tf

# lesson -> (layer sizes, hidden activation, W init, optimizer name, learning rate, keep_prob)
LESSONS = {
    "4-1": ([784, 10], None, "zeros", "sgd", 0.2, 1.0),
    "4-2": ([784, 2000, 2000, 1000, 10], tf.nn.tanh, "truncated", "sgd", 0.2, 0.7),
    "4-3": ([784, 10], None, "zeros", "adam", 1e-2, 1.0),
    "5-1": ([784, 500, 300, 10], tf.nn.tanh, "truncated", "adam", 1e-3, 1.0),
}


def make_weights(sizes, init):
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if init == "zeros":
            weights += [tf.Variable(tf.zeros([n_in, n_out])), tf.Variable(tf.zeros([n_out]))]
        else:
            weights += [
                tf.Variable(tf.random.truncated_normal([n_in, n_out], stddev=0.1)),
                tf.Variable(tf.zeros([n_out]) + 0.1),
            ]
    return weights


def forward(x, weights, activation, keep_prob, dropout, matmul=tf.matmul):
    h = x
    for i in range(0, len(weights) - 2, 2):
        h = activation(matmul(h, weights[i]) + weights[i + 1])
        h = dropout(h, keep_prob)
    return tf.matmul(h, weights[-2]) + weights[-1]


def compat_v1_runner(lesson, x_train, y_train, steps):
    """The teacher's loop, ported only as far as needed to run on TF 2.21."""
    sizes, activation, init, opt, lr, keep = LESSONS[lesson]
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 784])
        y = tf.compat.v1.placeholder(tf.float32, [None, 10])
        keep_prob = tf.compat.v1.placeholder(tf.float32)
        weights = make_weights(sizes, init)
        logits = forward(
            x, weights, activation, keep_prob, lambda h, k: tf.compat.v1.nn.dropout(h, rate=1 - k)
        )
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer = (
            tf.compat.v1.train.GradientDescentOptimizer(lr)
            if opt == "sgd"
            else tf.compat.v1.train.AdamOptimizer(lr)
        )
        train_step = optimizer.minimize(loss)
        init_op = tf.compat.v1.global_variables_initializer()
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(init_op)
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(x_train))  # next_batch shuffles each epoch
        for batch in range(steps):
            index = order[batch * 100 : (batch + 1) * 100]
            sess.run(train_step, feed_dict={x: x_train[index], y: y_train[index], keep_prob: keep})

    return epoch


def tf2_step(lesson, variant=False):
    """The lesson's model, loss and optimizer as a train_step(x, y) -> loss (traced by the caller).
    variant=True: 4-2's hidden layers on _variants.matmul, 5-1's Adam on _variants.Adam."""
    sizes, activation, init, opt, lr, keep = LESSONS[lesson]
    weights = make_weights(sizes, init)
    if opt == "sgd":
        optimizer = tf.keras.optimizers.SGD(learning_rate=lr)
    else:
        optimizer = (_variants.Adam if variant and lesson == "5-1" else tf.keras.optimizers.Adam)(
            learning_rate=lr
        )
    matmul = _variants.matmul if variant and lesson == "4-2" else tf.matmul
    optimizer.build(weights)  # its slots exist before the epoch is traced

    def dropout(h, k):
        return tf.nn.dropout(h, rate=1.0 - k) if k < 1.0 else h

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = forward(x, weights, activation, keep, dropout, matmul)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    return train_step


def lesson_runner(lesson, x_train, y_train, steps, autotune=True):
    """The lessons' plain loop: tf.data inside one tf.function epoch (`steps` batches of 100)."""
    return _variants.lesson_epoch(
        tf2_step(lesson), x_train[: steps * 100], y_train[: steps * 100], 100, autotune=autotune
    )


def variant_runner(lesson, x_train, y_train, steps):
    """The faster variant: _variants.epoch_runner (+ einsum matmul for 4-2, fused Adam for 5-1)."""
    return _variants.epoch_runner(
        tf2_step(lesson, variant=True), x_train[: steps * 100], y_train[: steps * 100], 100
    )


AUTOTUNE_OFF = {"5-1", "4-2"}  # lessons whose pipeline switches tf.data's autotuner off
VARIANT = {
    "4-1": "epoch_runner",
    "4-2": "epoch_runner + einsum matmul",
    "4-3": "epoch_runner",
    "5-1": "epoch_runner + fused Adam",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument(
        "--repeats",
        type=tfcourse.positive_int,
        default=3,
        help="timed epochs of each (after one warm-up)",
    )
    parser.add_argument(
        "--steps-42", type=int, default=110, help="batches timed for 4-2 (550 = a whole epoch)"
    )
    parser.add_argument(
        "--lessons", default="4-1,4-3,5-1,4-2", help="which lessons, comma-separated"
    )
    args = parser.parse_args()
    data = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True)
    n_batch = len(data.x_train) // 100
    for lesson in args.lessons.split(","):
        steps = min(args.steps_42, n_batch) if lesson == "4-2" else n_batch
        runners = {
            "teacher: compat.v1 feed_dict loop": compat_v1_runner(
                lesson, data.x_train, data.y_train, steps
            ),
            "lesson: tf.data in a tf.function epoch": lesson_runner(
                lesson, data.x_train, data.y_train, steps, autotune=lesson not in AUTOTUNE_OFF
            ),
            "variant: " + VARIANT[lesson]: variant_runner(
                lesson, data.x_train, data.y_train, steps
            ),
        }
        if (
            lesson in AUTOTUNE_OFF
        ):  # the lesson's pipeline as it was before, for the before/after ratio
            runners["before: the same with tf.data's autotuner on"] = lesson_runner(
                lesson, data.x_train, data.y_train, steps, autotune=True
            )
        timings = interleaved(runners, args.repeats)  # after one warm-up round
        scale = n_batch / steps
        print(
            f"lesson {lesson}: one epoch = {n_batch} steps of batch 100"
            + (f" (timed on {steps} steps, scaled)" if steps != n_batch else "")
            + f"; median of {args.repeats} interleaved epochs"
        )
        wall = {name: statistics.median(t) * scale for name, t in timings.wall.items()}
        cpu = {name: statistics.median(t) * scale for name, t in timings.cpu.items()}
        for name in runners:
            print(
                f"  {name:58s} {wall[name]:7.3f} s/epoch wall "
                f"(min {min(timings.wall[name]) * scale:.3f}), "
                f"{cpu[name]:.3f} s CPU"
            )
        teacher, plain, variant = list(wall.values())[:3]
        print(
            f"  lesson / teacher: {plain / teacher:.2f}x the time (bar: 1.2x; CPU time "
            f"{list(cpu.values())[1] / list(cpu.values())[0]:.2f}x); "
            f"variant / lesson: {variant / plain:.2f}x",
            flush=True,
        )
        if lesson in AUTOTUNE_OFF:
            before_name, lesson_name = (
                "before: the same with tf.data's autotuner on",
                list(runners)[1],
            )
            fastest = min(timings.wall[before_name] + timings.wall[lesson_name])
            slow = {
                name: sum(t > 1.3 * fastest for t in timings.wall[name])
                for name in (lesson_name, before_name)
            }
            print(
                f"  before (autotuner on) / teacher: {wall[before_name] / teacher:.2f}x; "
                "epochs over 1.3x the "
                f"fastest: {slow[lesson_name]} of {args.repeats} (lesson), "
                f"{slow[before_name]} (autotuner on)",
                flush=True,
            )


if __name__ == "__main__":
    main()
