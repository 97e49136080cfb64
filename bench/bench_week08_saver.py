"""Bench for lessons 8-1/8-2: the teacher's compat.v1 loop and Saver against the lesson's code.

Times, interleaved (the machine is shared and noisy), on the same data:
  - one training epoch of the 4-1 model: 550 `sess.run(train_step, feed_dict)` calls (course),
    the lesson's plain code (8-1 --api v2: a `tf.function` epoch over a `tf.data` pipeline), and
    the faster variant `_variants.epoch_runner` (shuffled `tf.gather` batches, not in a lesson);
  - saving: `Saver.save(sess, ...)` against `CheckpointManager.save()`, and the SavedModel export;
  - restoring: `Saver.restore` against `tf.train.Checkpoint.restore`.

    python bench/bench_week08_saver.py --data-dir ../shared/data/mnist [--repeats 5]
"""
import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

import tfcourse
from _timing import interleaved  # bench/_timing.py
from _variants import epoch_runner  # bench/_variants.py: not used by any lesson
from _variants import lesson_epoch as lesson_loop
import tensorflow as tf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    mnist = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True)
    batch_size, lr = 100, 0.2
    work = Path(tempfile.mkdtemp(prefix="bench_week08_"))

    # the course: graph, placeholders, Session, feed_dict, Saver
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        W1 = tf.Variable(tf.zeros([784, 10]), name="W")
        b1 = tf.Variable(tf.zeros([10]), name="b")
        logits1 = tf.matmul(x, W1) + b1
        loss1 = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits1))
        train_step1 = v1.train.GradientDescentOptimizer(lr).minimize(loss1)
        saver = v1.train.Saver()
        init = v1.global_variables_initializer()
    sess = v1.Session(graph=graph)
    sess.run(init)
    rng = np.random.default_rng(0)
    n_batch = len(mnist.x_train) // batch_size

    def course_epoch():
        order = rng.permutation(len(mnist.x_train))
        for batch in range(n_batch):
            index = order[batch * batch_size:(batch + 1) * batch_size]
            sess.run(train_step1, feed_dict={x: mnist.x_train[index], y: mnist.y_train[index]})

    # the lesson (8-1 --api v2): variables, a tf.function epoch over tf.data, Checkpoint, SavedModel
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    optimizer = tf.keras.optimizers.SGD(learning_rate=lr)

    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            logits = tf.matmul(xb, W) + b
            loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=yb, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss
    lesson_epoch = lesson_loop(train_step, mnist.x_train, mnist.y_train, batch_size)
    variant_epoch = epoch_runner(train_step, mnist.x_train, mnist.y_train, batch_size)
    checkpoint = tf.train.Checkpoint(W=W, b=b)
    manager = tf.train.CheckpointManager(checkpoint, work / "net_tf2", max_to_keep=3)
    module = tf.Module()
    module.W, module.b = W, b
    module.__call__ = tf.function(lambda images: tf.nn.softmax(tf.matmul(images, W) + b),
                                  input_signature=[tf.TensorSpec([None, 784], tf.float32)])

    def in_graph(function, *args):  # Saver works on the default graph, as inside `with Session()`
        with graph.as_default():
            return function(*args)

    prefix = work / "net" / "my_net.ckpt"
    jobs = {
        "epoch: course feed_dict loop": course_epoch,
        "epoch: lesson tf.data epoch": lesson_epoch,
        "epoch: variant epoch_runner": variant_epoch,
        "save: Saver.save": lambda: in_graph(saver.save, sess, str(prefix)),
        "save: CheckpointManager.save": manager.save,
        "save: tf.saved_model.save": lambda: tf.saved_model.save(module, str(work / "saved")),
        "restore: Saver.restore": lambda: in_graph(saver.restore, sess, str(prefix)),
        "restore: Checkpoint.restore":
            lambda: checkpoint.restore(manager.latest_checkpoint).assert_consumed(),
    }
    times = interleaved(jobs, args.repeats).wall  # after a warm-up round: tracing, first writes
    for name, values in times.items():
        print(f"{name:<32} median {1000 * statistics.median(values):8.1f} ms  "
              f"(min {1000 * min(values):.1f})")
    med = {name: statistics.median(values) for name, values in times.items()}
    course = med['epoch: course feed_dict loop']
    save_ratio = med['save: Saver.save'] / med['save: CheckpointManager.save']
    print(f"epoch ratio lesson/course: {med['epoch: lesson tf.data epoch'] / course:.2f}x, "
          f"variant/course: {med['epoch: variant epoch_runner'] / course:.2f}x (below 1: faster "
          f"than the course); save ratio Saver/CheckpointManager: {save_ratio:.2f}x "
          f"({args.repeats} repeats, {mnist.describe()})")
    sess.close()


if __name__ == "__main__":
    main()
