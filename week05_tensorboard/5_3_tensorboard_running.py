"""Lesson 5-3 tensorboard网络运行 — TensorBoard: watching the network train.

Lesson 5-2's one-layer softmax network, now logging while it trains: the lesson's
`variable_summaries` (mean, stddev, max, min and a histogram) for the weights W and the biases b,
plus scalars for the loss and the accuracy, for 51 epochs (batch 100, gradient descent 0.2).
After each epoch it prints the test accuracy like the video:

    Iter 0,Testing Accuracy 0.8234        (teacher's saved output; Iter 50: 0.9259)

and writes one point per epoch to every panel, as the teacher's `writer.add_summary(summary, epoch)`:
SCALARS shows layer/weights/summaries/{mean,stddev,max,min}, the same for layer/biases, loss/loss
and accuracy/accuracy; HISTOGRAMS and DISTRIBUTIONS show how W and b spread out epoch by epoch;
GRAPHS shows one training step inside the lesson's name scopes.

Run:
    python week05_tensorboard/5_3_tensorboard_running.py
    tensorboard --logdir runs/week05_tensorboard/5_3_tensorboard_running --host 127.0.0.1
    python week05_tensorboard/5_3_tensorboard_running.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - `tf.summary.merge_all()` + `sess.run([merged, train_step])` + `FileWriter.add_summary` become
    `tf.summary.create_file_writer` and `tf.summary.scalar/histogram(..., step=epoch)`, which
    write at once (TF2 summaries are ops that run, not nodes to fetch). The tags keep the lesson's
    name scopes, so the panels are named as in the video.
  - The teacher ran the merged summaries on EVERY batch but wrote only the last one of each
    epoch. Here a whole epoch runs in one graph (`tfcourse.epoch_runner`: shuffled batches
    sliced on the device) with no summaries in it, and the summaries are written once per
    epoch: the same points on the plots, much less work
    (`python bench/bench_week05_tensorboard.py` times both loops).
  - loss/loss is the mean training loss over the epoch (the teacher's was the last batch's),
    accuracy/accuracy is the test accuracy that is printed (the teacher's was the last training
    batch's), and accuracy/train_accuracy is the accuracy on all training images after the epoch.
  - The course fed softmax output into `softmax_cross_entropy_with_logits` (softmax twice); here
    the loss takes the logits x W + b, as that function expects. It learns faster at first, so
    the early epochs are above the teacher's; softmax still gives `prediction`.
  - Old event files in the run folder's logs/ are removed first (the teacher deleted logs/ by
    hand), so TensorBoard shows one run, not several on top of each other.
"""
import shlex

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=51, batch_size=100, lr=0.2, mnist=True)


def variable_summaries(var, step):
    """The lesson's helper: mean, stddev, max, min and a histogram of `var` at `step`."""
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean, step=step)  # 平均值
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev, step=step)  # 标准差
        tf.summary.scalar("max", tf.reduce_max(var), step=step)  # 最大值
        tf.summary.scalar("min", tf.reduce_min(var), step=step)  # 最小值
        tf.summary.histogram("histogram", var, step=step)  # 直方图


def clear_old_events(folder):
    """Remove event files an earlier run left in `folder` (only those)."""
    for old in folder.glob("events.out.tfevents.*"):
        old.unlink()


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs
    logdir = run.out / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    clear_old_events(logdir)

    # ## Data: images as 784-vectors in [0, 1], labels one-hot
    mnist = tfcourse.load_mnist(args, one_hot=True)

    # ## Model: 784 -> 10 softmax, zero-initialised, in the lesson's name scopes
    with tf.name_scope("layer"):
        with tf.name_scope("weights"):
            W = tf.Variable(tf.zeros([784, 10]), name="W")  # -> layer/weights/W
        with tf.name_scope("biases"):
            b = tf.Variable(tf.zeros([10]), name="b")  # -> layer/biases/b
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def model(x):
        with tf.name_scope("layer"):
            with tf.name_scope("weights"):  # the read of W: in the graph as layer/weights/W
                weights = tf.identity(W, name="W")
            with tf.name_scope("biases"):
                biases = tf.identity(b, name="b")
            with tf.name_scope("xw_plus_b"):
                logits = tf.matmul(x, weights) + biases  # (batch, 784) @ (784, 10) -> (batch, 10)
            with tf.name_scope("softmax"):
                prediction = tf.nn.softmax(logits)
        return logits, prediction

    def train_step(x, y):
        with tf.name_scope("input"):
            x = tf.identity(x, name="x-input")
            y = tf.identity(y, name="y-input")
        with tf.GradientTape() as tape:
            logits, prediction = model(x)
            with tf.name_scope("loss"):
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        with tf.name_scope("train"):
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss

    # ## Training: one graph runs a whole epoch (550 shuffled batches) and returns its mean loss;
    # no summaries inside it, so nothing slows the 550 steps down
    train_epoch = tfcourse.epoch_runner(train_step, mnist.x_train, mnist.y_train, args.batch_size)

    @tf.function
    def accuracy(x, y):
        with tf.name_scope("accuracy"):
            with tf.name_scope("correct_prediction"):
                correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x)[1], 1))
            with tf.name_scope("accuracy"):
                return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        # GRAPHS: one training step, traced (not run) into a graph with the lesson's scopes
        spec = (tf.TensorSpec([None, 784], tf.float32), tf.TensorSpec([None, 10], tf.float32))
        tf.summary.graph(tf.function(train_step).get_concrete_function(*spec).graph)

        for epoch in range(epochs):
            train_loss = train_epoch()
            acc = float(accuracy(mnist.x_test, mnist.y_test))
            train_acc = accuracy(mnist.x_train, mnist.y_train)  # all 55000 images, after the epoch
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
            # one point per epoch on every panel, as the teacher's add_summary(summary, epoch)
            with tf.name_scope("layer"):
                with tf.name_scope("weights"):
                    variable_summaries(W, epoch)
                with tf.name_scope("biases"):
                    variable_summaries(b, epoch)
            with tf.name_scope("loss"):
                tf.summary.scalar("loss", train_loss, step=epoch)
            with tf.name_scope("accuracy"):
                tf.summary.scalar("accuracy", acc, step=epoch)
                tf.summary.scalar("train_accuracy", train_acc, step=epoch)
            writer.flush()  # TensorBoard shows the new point while training goes on
    writer.close()

    print(f"device: {run.device}; final test accuracy {acc:.4f}"
          + (" on SYNTHETIC digits" if mnist.synthetic else ""))
    print(f"TensorBoard logs: {logdir}")
    print(f"open them with:  tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
