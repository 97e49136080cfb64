"""Bench: lesson 6-1 as learners run it vs the teacher's compat.v1 loop, whole process and epoch.

Both run as separate processes with the same number of epochs:
  - lesson: `python week06_cnn_mnist/6_1_cnn_mnist.py --epochs E ...`, the file itself (Keras
    layers, Adam's update under XLA, one tf.function call per batch from tf.data; at the end it
    also draws its two pictures, as learners get them);
  - teacher: this script with --teacher: the course's graph on `tf.compat.v1` (placeholders +
    feed_dict + Session.run(train_step), tf.nn ops, AdamOptimizer 1e-4, keep_prob 0.7, numpy
    batches of 100 as `mnist.train.next_batch` gives them; the loss on the logits, as fixed here).
Both print the course's `Iter N, Testing Accuracy= X` after each epoch. Whole process = start to
exit, as a learner waits (issue 20's bar: 6-1 with 1 epoch within 1.2x of the teacher's); with
--epochs 2 or more, the time between two 'Iter' lines is one epoch (550 steps + the test
accuracy). Rounds alternate the order (lesson, teacher, teacher, lesson, ...).

    python bench/bench_week06_cnn.py --data-dir ../shared/data/mnist [--epochs 1 --rounds 3]
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import timed_run

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week06_cnn_mnist/6_1_cnn_mnist.py"


def teacher(args):
    """The course's 6-1 on tf.compat.v1, ported only as far as needed to run on TF 2.21."""
    import tfcourse  # quiet TensorFlow import, MNIST
    import numpy as np
    import tensorflow as tf
    v1 = tf.compat.v1
    mnist = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True,
                                verbose=False)
    graph = tf.Graph()
    with graph.as_default():
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
        h_conv1 = tf.nn.relu(conv2d(x_image, weight_variable([5, 5, 1, 32]))
                             + bias_variable([32]))
        h_pool1 = max_pool_2x2(h_conv1)
        h_conv2 = tf.nn.relu(conv2d(h_pool1, weight_variable([5, 5, 32, 64]))
                             + bias_variable([64]))
        h_pool2 = max_pool_2x2(h_conv2)
        h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
        h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, weight_variable([3136, 1024]))
                           + bias_variable([1024]))
        h_fc1_drop = tf.nn.dropout(h_fc1, rate=1 - keep_prob)
        logits = tf.matmul(h_fc1_drop, weight_variable([1024, 10])) + bias_variable([10])
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_step = v1.train.AdamOptimizer(1e-4).minimize(loss)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        init = v1.global_variables_initializer()
    batch_size = 100
    n_batch = len(mnist.x_train) // batch_size
    rng = np.random.default_rng(0)
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        for epoch in range(args.epochs):
            order = rng.permutation(len(mnist.x_train))  # next_batch shuffles each epoch
            for batch in range(n_batch):
                index = order[batch * batch_size:(batch + 1) * batch_size]
                sess.run(train_step, feed_dict={x: mnist.x_train[index],
                                                y: mnist.y_train[index], keep_prob: 0.7})
            acc = sum(sess.run(accuracy, feed_dict={x: mnist.x_test[i:i + 1000],
                                                    y: mnist.y_test[i:i + 1000], keep_prob: 1.0})
                      * len(mnist.x_test[i:i + 1000])
                      for i in range(0, len(mnist.x_test), 1000)) / len(mnist.x_test)
            print("Iter " + str(epoch) + ", Testing Accuracy= " + str(acc), flush=True)



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument("--epochs", type=int, default=1, help="epochs per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes of each, alternated")
    parser.add_argument("--teacher", action="store_true", help="run the teacher's loop only")
    args = parser.parse_args()
    if args.teacher:
        return teacher(args)
    data = ["--data", args.data] + (["--data-dir", args.data_dir] if args.data_dir else [])
    results = {"lesson": [], "teacher": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            commands = {
                "lesson": [sys.executable, LESSON, "--epochs", str(args.epochs), *data,
                           "--out", f"{tmp}/lesson{round_}"],
                "teacher": [sys.executable, __file__, "--teacher", "--epochs", str(args.epochs),
                            *data]}
            order = ["lesson", "teacher"] if round_ % 2 == 0 else ["teacher", "lesson"]
            for name in order:
                seconds, cpu, stamps, accuracy = timed_run(commands[name], ROOT)
                epochs = [b - a for a, b in zip(stamps, stamps[1:])]  # after the first epoch
                results[name].append((seconds, cpu, epochs, accuracy))
                print(f"  round {round_} {name:7s} {seconds:6.1f} s whole process "
                      f"({cpu:.1f} s CPU); epochs after the first: "
                      f"{', '.join(f'{e:.1f}' for e in epochs) or '-'}; accuracy {accuracy:.4f}",
                      flush=True)
    print(f"lesson 6-1 vs the teacher's compat.v1 loop, {args.epochs} epoch(s) per process, "
          f"{args.rounds} round(s) (medians):")
    summary = {}
    for name, runs in results.items():
        whole = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        epochs = [e for r in runs for e in r[2]]
        summary[name] = whole, cpu, statistics.median(epochs) if epochs else None
        print(f"  {name:7s} whole process {whole:6.1f} s ({cpu:.1f} s CPU)"
              + (f", {summary[name][2]:.2f} s per epoch" if epochs else "")
              + f"; last accuracy {runs[-1][3]:.4f}")
    (lesson_whole, lesson_cpu, lesson_epoch), (teacher_whole, teacher_cpu, teacher_epoch) = \
        summary.values()
    print(f"lesson / teacher: {lesson_whole / teacher_whole:.2f}x whole process "
          f"(CPU {lesson_cpu / teacher_cpu:.2f}x)"
          + (f", {lesson_epoch / teacher_epoch:.2f}x per epoch" if lesson_epoch else ""))


if __name__ == "__main__":
    main()
