"""Lesson 8-1 保存模型 — Save a trained model (Saver, Checkpoint, SavedModel).

Trains the 4-1 model (784 -> 10 softmax, W and b start at zero, cross-entropy, gradient descent
0.2, batches of 100) for 11 epochs, printing the test accuracy like the video:

    Iter 10,Testing Accuracy 0.9169       (teacher's saved output; Iter 0: 0.8234)

and then saves it so that lesson 8-2 can restore it. Two ways, pick one with --api:
  --api v1  the course's way: a tf.compat.v1 graph with placeholders, a Session, and
            `tf.compat.v1.train.Saver().save(sess, "net/my_net.ckpt")` (name-based checkpoint).
  --api v2  (default) today's way: `tf.train.Checkpoint(W=W, b=b)` with a `CheckpointManager`
            (net_tf2/my_net-N, keeps the last 3, one per epoch), plus a SavedModel
            (saved_model/) that any TensorFlow program can load without this code.

Run:
    python week08_save_inception/8_1_saver_save.py              # then 8_2_saver_restore.py
    python week08_save_inception/8_1_saver_save.py --api v1     # the course's Saver
    python week08_save_inception/8_1_saver_save.py --quick --data synthetic

Everything goes under the run folder (default runs/week08_save_inception/8_1_saver_save/).
Saving is all-or-nothing: TensorFlow writes a checkpoint under temporary names and updates the
`checkpoint` index file last; the SavedModel is written to a temporary folder and renamed.

Differences from the course code (TensorFlow 1.x):
  - The course computes softmax and then softmax_cross_entropy_with_logits on it (softmax twice);
    here the loss is computed on the logits, so the numbers differ slightly from the video.
  - `tensorflow.examples.tutorials.mnist` is gone: `tfcourse.load_mnist` gives the same split.
  - v2 adds the CheckpointManager and the SavedModel export, which the course did not have, and
    runs each epoch inside one tf.function (`tfcourse.epoch_runner`) instead of 550 sess.run calls.
"""
import os
import shutil
import tempfile

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=11, batch_size=100, lr=0.2, mnist=True)
parser.add_argument("--api", choices=["v1", "v2"], default="v2",
                    help="v1: tf.compat.v1 Session and Saver (the course); v2: tf.train.Checkpoint "
                         "and a SavedModel (default)")


def train_and_save_v1(args, mnist, epochs, run):
    """The course's program: graph, placeholders, Session, feed_dict, Saver."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 784], name="x")
        y = v1.placeholder(tf.float32, [None, 10], name="y")
        W = tf.Variable(tf.zeros([784, 10]), name="W")  # the names are the keys in the checkpoint
        b = tf.Variable(tf.zeros([10]), name="b")
        logits = tf.matmul(x, W) + b
        prediction = tf.nn.softmax(logits)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_step = v1.train.GradientDescentOptimizer(args.lr).minimize(loss)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        saver = v1.train.Saver()  # saves every variable of the graph: W and b

    rng = np.random.default_rng(args.seed)
    n_batch = len(mnist.x_train) // args.batch_size
    with v1.Session(graph=graph) as sess:
        sess.run(v1.global_variables_initializer())
        for epoch in range(epochs):
            order = rng.permutation(len(mnist.x_train))
            for batch in range(n_batch):
                index = order[batch * args.batch_size:(batch + 1) * args.batch_size]
                sess.run(train_step, feed_dict={x: mnist.x_train[index], y: mnist.y_train[index]})
            acc = sess.run(accuracy, feed_dict={x: mnist.x_test, y: mnist.y_test})
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(float(acc), 4)))
        # -> net/my_net.ckpt.index, net/my_net.ckpt.data-00000-of-00001, net/checkpoint
        path = saver.save(sess, str(run.path("net", "my_net.ckpt")))
    print(f"saved (tf.compat.v1.train.Saver): {path}")
    return float(acc)


def train_and_save_v2(args, mnist, epochs, run):
    """Today's program: tf.Variable, tf.function, tf.train.Checkpoint, SavedModel."""
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, W) + b
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss

    # One tf.function runs a whole epoch of shuffled batches (550 steps) without returning to Python
    train_epoch = tfcourse.epoch_runner(train_step, mnist.x_train, mnist.y_train, args.batch_size)

    @tf.function
    def accuracy(x, y):
        prediction = tf.nn.softmax(tf.matmul(x, W) + b)
        return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1)), tf.float32))

    # The checkpoint tracks objects, not names: its keys are the attribute names W and b.
    checkpoint = tf.train.Checkpoint(W=W, b=b)
    manager = tf.train.CheckpointManager(checkpoint, run.out / "net_tf2", max_to_keep=3,
                                         checkpoint_name="my_net")
    for epoch in range(epochs):
        train_epoch()
        acc = float(accuracy(mnist.x_test, mnist.y_test))
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
        path = manager.save(checkpoint_number=epoch)  # -> net_tf2/my_net-<epoch>.index + .data
    print(f"saved (tf.train.Checkpoint): {path}  (kept: {', '.join(os.path.basename(p) for p in manager.checkpoints)})")

    # ## SavedModel: the graph and the weights together, loadable without this file
    class Classifier(tf.Module):
        def __init__(self):
            super().__init__()
            self.W, self.b = W, b

        @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32, name="x")])
        def __call__(self, x):
            return tf.nn.softmax(tf.matmul(x, self.W) + self.b)  # (batch, 10) probabilities

    export_dir = run.out / "saved_model"
    staging = tempfile.mkdtemp(prefix="saved_model.", suffix=".partial", dir=run.out)
    try:
        tf.saved_model.save(Classifier(), staging)
        if export_dir.exists():
            shutil.rmtree(export_dir)
        os.replace(staging, export_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    reloaded = tf.saved_model.load(str(export_dir))  # what another program would do
    predicted = np.argmax(reloaded(tf.constant(mnist.x_test)).numpy(), 1)
    reloaded_acc = float(np.mean(predicted == np.argmax(mnist.y_test, 1)))
    print(f"saved (SavedModel): {export_dir}  reloaded: test accuracy {round(reloaded_acc, 4)}\n"
          f"  load it anywhere: tf.saved_model.load({str(export_dir)!r})(images_784)")
    return acc


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs
    mnist = tfcourse.load_mnist(args, one_hot=True)  # images (N, 784) in [0, 1], labels one-hot

    if args.api == "v1":
        acc = train_and_save_v1(args, mnist, epochs, run)
    else:
        acc = train_and_save_v2(args, mnist, epochs, run)
    print(f"device: {run.device}; final test accuracy {acc:.4f}"
          + (" on SYNTHETIC digits" if mnist.synthetic else "")
          + "\nnext: python week08_save_inception/8_2_saver_restore.py --api " + args.api
          + (f" --from {run.out}" if args.out else "") + (" --quick" if args.quick else "")
          + (" --data synthetic" if mnist.synthetic else "")
          + (f" --data-dir {args.data_dir}" if args.data_dir else ""))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
