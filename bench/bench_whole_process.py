"""Bench: whole processes, start-up included: a lesson as a learner runs it against the teacher's
loop on `tf.compat.v1`, in fresh Python processes, interleaved (teacher, lesson, teacher, ...),
medians compared. Also the peak memory (max RSS) of each.

The teacher's scripts below are the course's 3-2 and 6-1 ported only as far as TF 2.21 needs:
`tf.compat.v1` placeholders, feed_dict and Session, MNIST read from the IDX files with NumPy as
`input_data` did, no run folder, no checks. Each also runs a second time with Python's garbage
collector paused while TensorFlow imports, as `import tfcourse` does.

    python bench/bench_whole_process.py --data-dir ../shared/data/mnist   # 3-2 x1, x5; 6-1 x1
    python bench/bench_whole_process.py --data-dir ../shared/data/mnist --cases 3-2:1 --repeats 9
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ_MNIST = '''
import gzip, sys, time
import numpy as np
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
data_dir, epochs = sys.argv[1], int(sys.argv[2])
def idx(name):
    raw = gzip.open(f"{data_dir}/{name}.gz").read()
    return np.frombuffer(raw, np.uint8, offset=16 if "images" in name else 8)
x_train = idx("train-images-idx3-ubyte").reshape(-1, 784)[5000:].astype(np.float32) / 255
y_train = np.eye(10, dtype=np.float32)[idx("train-labels-idx1-ubyte")[5000:]]
x_test = idx("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255
y_test = np.eye(10, dtype=np.float32)[idx("t10k-labels-idx1-ubyte")]
batch_size, n_batch = 100, 55000 // 100
def next_batch(rng, order, i):
    take = order[i * batch_size:(i + 1) * batch_size]
    return x_train[take], y_train[take]
'''
TEACHER = {
    "3-2": READ_MNIST + '''
x = tf.compat.v1.placeholder(tf.float32, [None, 784])
y = tf.compat.v1.placeholder(tf.float32, [None, 10])
W = tf.Variable(tf.zeros([784, 10]))
b = tf.Variable(tf.zeros([10]))
prediction = tf.nn.softmax(tf.matmul(x, W) + b)
loss = tf.reduce_mean(tf.square(y - prediction))
train_step = tf.compat.v1.train.GradientDescentOptimizer(0.2).minimize(loss)
correct = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
rng = np.random.default_rng(0)
with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    for epoch in range(epochs):
        order = rng.permutation(55000)
        for i in range(n_batch):
            batch_xs, batch_ys = next_batch(rng, order, i)
            sess.run(train_step, feed_dict={x: batch_xs, y: batch_ys})
        acc = sess.run(accuracy, feed_dict={x: x_test, y: y_test})
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(acc))
''',
    "6-1": READ_MNIST + '''
def weight_variable(shape):
    return tf.Variable(tf.compat.v1.truncated_normal(shape, stddev=0.1))
def bias_variable(shape):
    return tf.Variable(tf.constant(0.1, shape=shape))
def conv2d(x, W):
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")
def max_pool_2x2(x):
    return tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
x = tf.compat.v1.placeholder(tf.float32, [None, 784])
y = tf.compat.v1.placeholder(tf.float32, [None, 10])
keep_prob = tf.compat.v1.placeholder(tf.float32)
x_image = tf.reshape(x, [-1, 28, 28, 1])
h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x_image, weight_variable([5, 5, 1, 32]))
                                  + bias_variable([32])))
h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, weight_variable([5, 5, 32, 64]))
                                  + bias_variable([64])))
h_fc1 = tf.nn.relu(tf.matmul(tf.reshape(h_pool2, [-1, 7 * 7 * 64]),
                             weight_variable([7 * 7 * 64, 1024])) + bias_variable([1024]))
h_fc1_drop = tf.nn.dropout(h_fc1, rate=1 - keep_prob)
logits = tf.matmul(h_fc1_drop, weight_variable([1024, 10])) + bias_variable([10])
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
train_step = tf.compat.v1.train.AdamOptimizer(1e-4).minimize(loss)
correct = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
rng = np.random.default_rng(0)
with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    for epoch in range(epochs):
        order = rng.permutation(55000)
        for i in range(n_batch):
            batch_xs, batch_ys = next_batch(rng, order, i)
            sess.run(train_step, feed_dict={x: batch_xs, y: batch_ys, keep_prob: 0.7})
        acc = sum(sess.run(accuracy, feed_dict={x: x_test[i:i + 1000], y: y_test[i:i + 1000],
                                                 keep_prob: 1.0})
                  for i in range(0, 10000, 1000))
        print("Iter " + str(epoch) + ", Testing Accuracy= " + str(acc / 10))
''',
}
# The same start-up switch as `import tfcourse` (Python's garbage collector paused while TensorFlow
# imports): the third column compares the lesson with a teacher that starts as fast.
GC_PAUSED = "import gc\ngc.disable()\nimport tensorflow\ngc.enable()\ngc.freeze()\n"
LESSON = {"3-2": "week03_regression/3_2_mnist_simple.py",
          "6-1": "week06_cnn_mnist/6_1_cnn_mnist.py"}


def timed(command):
    """(seconds, peak MB) of one fresh process; its output must hold an Iter line."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, encoding="utf-8", errors="replace")
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0 or "Iter" not in output:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--cases", default="3-2:1,3-2:5,6-1:1", help="lesson:epochs,...")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for case in args.cases.split(","):
            lesson, epochs = case.split(":")
            teacher = Path(scratch) / f"teacher_{lesson}.py"
            teacher.write_text(TEACHER[lesson], encoding="utf-8")
            paused = Path(scratch) / f"teacher_gc_paused_{lesson}.py"
            paused.write_text(GC_PAUSED + TEACHER[lesson], encoding="utf-8")
            commands = {
                "teacher": [sys.executable, str(teacher), str(args.data_dir), epochs],
                "paused": [sys.executable, str(paused), str(args.data_dir), epochs],
                "lesson": [sys.executable, str(ROOT / LESSON[lesson]), "--data-dir",
                           str(args.data_dir), "--epochs", epochs, "--out", f"{scratch}/run"],
            }
            results = {name: [] for name in commands}
            for _ in range(args.repeats):
                for name, command in commands.items():
                    results[name].append(timed(command))
            seconds = {name: statistics.median(s for s, _ in r) for name, r in results.items()}
            memory = {name: statistics.median(m for _, m in r) for name, r in results.items()}
            print(f"{lesson} --epochs {epochs}: teacher {seconds['teacher']:.1f} s "
                  f"{memory['teacher']:.0f} MB, lesson {seconds['lesson']:.1f} s "
                  f"{memory['lesson']:.0f} MB: {seconds['lesson'] / seconds['teacher']:.2f}x time, "
                  f"{memory['lesson'] / memory['teacher']:.2f}x memory "
                  f"(medians of {args.repeats}, interleaved); teacher with the collector paused "
                  f"at import {seconds['paused']:.1f} s: lesson / it "
                  f"{seconds['lesson'] / seconds['paused']:.2f}x")


if __name__ == "__main__":
    main()
