"""Bench: lesson 5-3 as learners run it vs the teacher's compat.v1 loop, per epoch and whole run.

Both run as separate processes with the same number of epochs:
  - lesson: `python week05_tensorboard/5_3_tensorboard_running.py --epochs E ...`, the file
    itself (a tf.data epoch inside one tf.function, summaries written once per epoch);
  - teacher: this script with --teacher: the course's 5-3 on `tf.compat.v1` (placeholders,
    `tf.compat.v1.summary.*` merged, `sess.run([merged, train_step], feed_dict=...)` at EVERY
    step, `writer.add_summary(summary, epoch)` once per epoch, numpy batches as
    `mnist.train.next_batch` gives them; the loss on the logits, as the lesson fixes it).
One epoch = 550 steps of batch 100 + the epoch's summaries + the test accuracy, and both print
the course's `Iter N,Testing Accuracy X` after it: the time between two such lines is one epoch
(the first epoch, with tracing, is left out). Whole process = start to exit, as a learner waits.
Rounds alternate the order (lesson, teacher, teacher, lesson, ...) so a busy machine slows both.

    python bench/bench_week05_tensorboard.py --data-dir ../shared/data/mnist [--epochs 4 --rounds 3]
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import timed_run

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week05_tensorboard/5_3_tensorboard_running.py"


def teacher(args):
    """The teacher's 5-3, ported only as far as needed to run on TF 2.21 (loss on logits)."""
    import tfcourse  # quiet TensorFlow import, MNIST
    import numpy as np
    import tensorflow as tf
    v1 = tf.compat.v1
    mnist = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True,
                                verbose=False)
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
            loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=wx_plus_b))
            v1.summary.scalar("loss", loss)
        with tf.name_scope("train"):
            train_step = v1.train.GradientDescentOptimizer(0.2).minimize(loss)
        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
            v1.summary.scalar("accuracy", accuracy)
        merged = v1.summary.merge_all()
        init = v1.global_variables_initializer()
    batch_size = 100
    n_batch = len(mnist.x_train) // batch_size
    rng = np.random.default_rng(0)
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        with graph.as_default():  # FileWriter refuses to work in eager mode
            writer = v1.summary.FileWriter(args.teacher_logdir, sess.graph)
        for epoch in range(args.epochs):
            order = rng.permutation(len(mnist.x_train))  # next_batch shuffles each epoch
            for batch in range(n_batch):
                index = order[batch * batch_size:(batch + 1) * batch_size]
                summary, _ = sess.run([merged, train_step], feed_dict={
                    x: mnist.x_train[index], y: mnist.y_train[index]})
            writer.add_summary(summary, epoch)
            acc = sess.run(accuracy, feed_dict={x: mnist.x_test, y: mnist.y_test})
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(acc), flush=True)
        writer.close()



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per process (at least 2)")
    parser.add_argument("--rounds", type=int, default=3, help="processes of each, alternated")
    parser.add_argument("--teacher", action="store_true", help="run the teacher's loop only")
    parser.add_argument("--teacher-logdir", default=None, help=argparse.SUPPRESS)
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
                            *data, "--teacher-logdir", f"{tmp}/teacher{round_}"]}
            order = ["lesson", "teacher"] if round_ % 2 == 0 else ["teacher", "lesson"]
            for name in order:
                seconds, cpu, stamps, accuracy = timed_run(commands[name], ROOT)
                epochs = [b - a for a, b in zip(stamps, stamps[1:])]  # after the first epoch
                results[name].append((seconds, cpu, epochs, accuracy))
                print(f"  round {round_} {name:7s} {seconds:6.1f} s whole process "
                      f"({cpu:.1f} s CPU), epochs after the first: "
                      f"{', '.join(f'{e:.2f}' for e in epochs)} s; accuracy {accuracy:.4f}",
                      flush=True)
    print(f"lesson 5-3 vs the teacher's compat.v1 loop, {args.epochs} epochs per process, "
          f"{args.rounds} rounds (medians):")
    summary = {}
    for name, runs in results.items():
        whole = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        epoch = statistics.median(e for r in runs for e in r[2])
        summary[name] = whole, epoch
        print(f"  {name:7s} whole process {whole:6.1f} s ({cpu:.1f} s CPU), "
              f"{epoch:.3f} s per epoch; last accuracy {runs[-1][3]:.4f}")
    (lesson_whole, lesson_epoch), (teacher_whole, teacher_epoch) = summary.values()
    print(f"lesson / teacher: {lesson_whole / teacher_whole:.2f}x whole process, "
          f"{lesson_epoch / teacher_epoch:.2f}x per epoch")


if __name__ == "__main__":
    main()
