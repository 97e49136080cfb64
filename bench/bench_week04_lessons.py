"""Bench: week 4's lessons, the teacher's compat.v1 feed_dict loop vs our TF2 scripts' way.

For each lesson (4-1 cross-entropy, 4-2 dropout, 4-3 Adam, 5-1 homework) the same network, loss
and optimizer are built twice:
  - the teacher's loop on `tf.compat.v1` (placeholder + feed_dict + Session, numpy batches as
    `mnist.train.next_batch` gives them), what a learner gets by only fixing the imports;
  - the lesson scripts' way: `tfcourse.epoch_runner` (the images stay in one tensor and one
    `tf.function` runs the epoch, gathering each batch from a fresh random order).
Epochs are interleaved (A, B, A, B, ...) after one warm-up round, and the medians compared, so a
busy machine slows both alike. 5-1, whose lesson uses tfcourse.optimizers.Adam, is also timed with
keras.optimizers.Adam, and 4-2 (tfcourse.layers.matmul) with tf.matmul, in the same loop. 4-2 is heavy (7.6 M weights): it is timed on --steps-42 batches
(default 110, a fifth of an epoch) and scaled to 550 steps; its cost is the matrix products.

    python bench/bench_week04_lessons.py --data-dir ../shared/data/mnist [--repeats 3] [--lessons 4-1,5-1]
"""
import argparse
import statistics

import tfcourse  # quiet TensorFlow import
from _timing import interleaved  # bench/_timing.py
import numpy as np
import tensorflow as tf

# lesson -> (layer sizes, hidden activation, W init, optimizer name, learning rate, keep_prob);
# "fused-adam": the lesson uses tfcourse.optimizers.Adam (Keras's Adam on TF1's fused kernel)
LESSONS = {
    "4-1": ([784, 10], None, "zeros", "sgd", 0.2, 1.0),
    "4-2": ([784, 2000, 2000, 1000, 10], tf.nn.tanh, "truncated", "sgd", 0.2, 0.7),
    "4-3": ([784, 10], None, "zeros", "adam", 1e-2, 1.0),
    "5-1": ([784, 500, 300, 10], tf.nn.tanh, "truncated", "fused-adam", 1e-3, 1.0),
}


def make_weights(sizes, init):
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if init == "zeros":
            weights += [tf.Variable(tf.zeros([n_in, n_out])), tf.Variable(tf.zeros([n_out]))]
        else:
            weights += [tf.Variable(tf.random.truncated_normal([n_in, n_out], stddev=0.1)),
                        tf.Variable(tf.zeros([n_out]) + 0.1)]
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
        logits = forward(x, weights, activation, keep_prob,
                         lambda h, k: tf.compat.v1.nn.dropout(h, rate=1 - k))
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer = (tf.compat.v1.train.GradientDescentOptimizer(lr) if opt == "sgd"
                     else tf.compat.v1.train.AdamOptimizer(lr))
        train_step = optimizer.minimize(loss)
        init_op = tf.compat.v1.global_variables_initializer()
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(init_op)
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(x_train))  # next_batch shuffles each epoch
        for batch in range(steps):
            index = order[batch * 100:(batch + 1) * 100]
            sess.run(train_step, feed_dict={x: x_train[index], y: y_train[index], keep_prob: keep})
    return epoch


def tf2_runner(lesson, x_train, y_train, steps, opt=None, hidden_matmul=None):
    """The lesson scripts' way: `tfcourse.epoch_runner`, one graph per epoch, batches gathered
    from in-memory tensors in a fresh random order (4-1 and 4-3 write the same loop inline)."""
    sizes, activation, init, lesson_opt, lr, keep = LESSONS[lesson]
    opt = opt or lesson_opt
    # 4-2's hidden layers use tfcourse.layers.matmul (tf.matmul with a faster gradient)
    hidden_matmul = hidden_matmul or (tfcourse.layers.matmul if lesson == "4-2" else tf.matmul)
    weights = make_weights(sizes, init)
    optimizer = {"sgd": tf.keras.optimizers.SGD, "adam": tf.keras.optimizers.Adam,
                 "fused-adam": tfcourse.optimizers.Adam}[opt](learning_rate=lr)
    optimizer.build(weights)

    def dropout(h, k):
        return tf.nn.dropout(h, rate=1.0 - k) if k < 1.0 else h

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = forward(x, weights, activation, keep, dropout, hidden_matmul)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss
    # `steps` batches: an epoch over the first steps*100 examples
    return tfcourse.epoch_runner(train_step, x_train[:steps * 100], y_train[:steps * 100], 100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: cache/download)")
    parser.add_argument("--data", default="mnist", choices=["mnist", "synthetic"])
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs of each (after one warm-up)")
    parser.add_argument("--steps-42", type=int, default=110, help="batches timed for 4-2 (550 = a whole epoch)")
    parser.add_argument("--lessons", default="4-1,4-3,5-1,4-2", help="which lessons, comma-separated")
    args = parser.parse_args()
    data = tfcourse.load_mnist(data=args.data, data_dir=args.data_dir, one_hot=True)
    n_batch = len(data.x_train) // 100
    for lesson in args.lessons.split(","):
        steps = min(args.steps_42, n_batch) if lesson == "4-2" else n_batch
        runners = {"compat.v1 feed_dict loop (teacher)": compat_v1_runner(lesson, data.x_train, data.y_train, steps),
                   "TF2 epoch in one graph (ours)": tf2_runner(lesson, data.x_train, data.y_train, steps)}
        # what each of the lessons' speed choices is worth: the same loop with it undone
        if LESSONS[lesson][3] == "fused-adam":
            runners["ours with keras.optimizers.Adam"] = tf2_runner(lesson, data.x_train, data.y_train,
                                                                   steps, opt="adam")
        if lesson == "4-2":
            runners["ours with tf.matmul"] = tf2_runner(lesson, data.x_train, data.y_train, steps,
                                                       hidden_matmul=tf.matmul)
        times = {name: [t * n_batch / steps for t in wall]  # after one warm-up round
                 for name, wall in interleaved(runners, args.repeats).wall.items()}
        print(f"lesson {lesson}: one epoch = {n_batch} steps of batch 100"
              + (f" (timed on {steps} steps, scaled)" if steps != n_batch else "")
              + f"; median of {args.repeats} interleaved epochs")
        medians = {name: statistics.median(t) for name, t in times.items()}
        for name, median in medians.items():
            print(f"  {name:45s} {median:7.3f} s/epoch  (min {min(times[name]):.3f})")
        teacher, ours = list(medians.values())[:2]
        print(f"  speed-up of ours over the teacher's loop: {teacher / ours:.2f}x", flush=True)
        for name in list(medians)[2:]:
            print(f"  ours over {name}: {medians[name] / ours:.2f}x", flush=True)


if __name__ == "__main__":
    main()
