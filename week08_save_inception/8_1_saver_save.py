"""Lesson 8-1 保存模型 — Save a trained model (Saver, Checkpoint, SavedModel).

本课训练 4-1 的模型（784 -> 10 的 softmax，W 和 b 从零开始，交叉熵，梯度下降 0.2，每批 100，
11 个周期），每个周期打印测试准确率，然后保存，让 8-2 载入。--api v1 是课程的写法（tf.compat.v1
的图、Session 和 Saver）；默认的 --api v2 是今天的写法（tf.train.Checkpoint 和 SavedModel）。
与视频的不同：损失直接算在 logits 上（课程做了两次 softmax）；保存是“全有或全无”。

Trains the 4-1 model, prints the test accuracy after each epoch as the video did, and saves it:
    Iter 10,Testing Accuracy 0.9169       (teacher's saved output; Iter 0: 0.8234)

  --api v1  the course's way: placeholders, a Session, `Saver().save(sess, "net/my_net.ckpt")`.
  --api v2  (default) `tf.train.Checkpoint(W=W, b=b)` with a `CheckpointManager` (net_tf2/my_net-N,
            one per epoch, keeps 3), and a SavedModel (saved_model/) any TensorFlow program loads.
Run:  python week08_save_inception/8_1_saver_save.py [--api v1] [--quick --data synthetic]

Differences from the course code (TensorFlow 1.x):
  - The loss is computed on the logits, not on softmax(logits) (the course's double softmax).
  - `tensorflow.examples.tutorials.mnist` is gone: `tfcourse.load_mnist` gives the same split.
  - Each folder is written whole (`tfcourse.atomic_path`): a failed run leaves no my_net-1_temp/.
"""
import contextlib
import shlex
from pathlib import Path

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=11, batch_size=100, lr=0.2, mnist=True, quick=dict(epochs=2))
parser.add_argument("--api", choices=["v1", "v2"], default="v2", help="v1 or v2 (default): see below")


@contextlib.contextmanager
def saving(folder):  # `folder` whole or not at all; a full disk or a read-only folder: one message
    try:
        with tfcourse.atomic_path(folder) as tmp:
            yield tmp
    except (tf.errors.OpError, OSError) as error:  # e.g. ResourceExhaustedError: the disk is full
        raise tfcourse.CourseError(f"Writing {folder} failed ({str(error).strip().splitlines()[0]}); nothing "
                                   "half-written was kept.\nRemedy: free some space, or another --out DIR.") from None


def train_and_save_v1(args, mnist, run):
    """The course's program: graph, placeholders, Session, feed_dict, Saver."""
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
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
        saver = v1.train.Saver(save_relative_paths=True)  # W and b; the index names files, not paths

    rng = np.random.default_rng(args.seed)
    n_batch = len(mnist.x_train) // args.batch_size
    with v1.Session(graph=graph) as sess:
        sess.run(v1.global_variables_initializer())
        for epoch in range(args.epochs):
            order = rng.permutation(len(mnist.x_train))[:n_batch * args.batch_size]  # like next_batch
            for index in order.reshape(n_batch, args.batch_size):
                _, loss_value = sess.run([train_step, loss], {x: mnist.x_train[index], y: mnist.y_train[index]})
            run.check_finite(loss_value, f"epoch {epoch}")
            acc = float(sess.run(accuracy, feed_dict={x: mnist.x_test, y: mnist.y_test}))
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
            run.record(epoch=epoch, test_accuracy=acc)
        with saving(run.out / "net") as folder:  # -> net/my_net.ckpt.index, .data-00000-of-00001, checkpoint
            saver.save(sess, str(folder / "my_net.ckpt"))
    print(f"saved (tf.compat.v1.train.Saver): {run.out / 'net' / 'my_net.ckpt'}")
    return acc


class Classifier(tf.Module):
    def __init__(self):
        super().__init__()
        self.W = tf.Variable(tf.zeros([784, 10]), name="W")
        self.b = tf.Variable(tf.zeros([10]), name="b")

    @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32, name="x")])
    def __call__(self, x):
        return tf.nn.softmax(tf.matmul(x, self.W) + self.b)  # prediction: (batch, 10) probabilities


def train_and_save_v2(args, mnist, run):
    """Today's program: tf.Variable, tf.data, tf.function, tf.train.Checkpoint, SavedModel."""
    model = Classifier()  # prediction = model(x); saved as it is below
    W, b = model.W, model.b
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)
    train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed)  # a new order every epoch
                  .batch(args.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))

    @tf.function
    def train_epoch():  # the course's 550 runs of train_step, as one graph call
        loss = tf.constant(0.0)
        for x, y in train_data:  # AutoGraph turns this loop over tf.data into a graph loop
            with tf.GradientTape() as tape:
                logits = tf.matmul(x, W) + b
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss  # the last batch's

    def accuracy(predict):  # on the 10000 test images
        return float(np.mean(np.argmax(predict(tf.constant(mnist.x_test)), 1) == np.argmax(mnist.y_test, 1)))

    checkpoint = tf.train.Checkpoint(W=W, b=b)  # tracks objects: the keys are the attribute names W, b
    with saving(run.out / "net_tf2") as folder:
        manager = tf.train.CheckpointManager(checkpoint, folder, max_to_keep=3, checkpoint_name="my_net")
        for epoch in range(args.epochs):
            run.check_finite(train_epoch(), f"epoch {epoch}")
            acc = accuracy(model)
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
            run.record(epoch=epoch, test_accuracy=acc)
            manager.save(checkpoint_number=epoch)  # -> net_tf2/my_net-<epoch>.index + .data
        kept = ", ".join(Path(path).name for path in manager.checkpoints)
    print(f"saved (tf.train.Checkpoint): {run.out / 'net_tf2'}  (kept: {kept})")

    # ## SavedModel: the graph and the weights together, loadable without this file
    export_dir = run.out / "saved_model"
    with saving(export_dir) as folder:
        tf.saved_model.save(model, str(folder))
    reloaded = tf.saved_model.load(str(export_dir))  # what another program would do
    print(f"saved (SavedModel): {export_dir}  reloaded: test accuracy {round(accuracy(reloaded), 4)}\n"
          f"  load it anywhere: tf.saved_model.load({str(export_dir)!r})(images_784)")
    return acc


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    mnist = tfcourse.load_mnist(args, one_hot=True)  # images (N, 784) in [0, 1], labels one-hot
    acc = (train_and_save_v1 if args.api == "v1" else train_and_save_v2)(args, mnist, run)

    command = ["python", "week08_save_inception/8_2_saver_restore.py", "--api", args.api]  # the same data:
    command += (["--model-dir", str(run.out)] if args.out else []) + (["--quick"] if args.quick else [])
    data_dir = ["--data-dir", str(args.data_dir)] if args.data_dir else []
    command += ["--data", "synthetic"] if mnist.synthetic else data_dir
    print("next: " + shlex.join(command))
    run.finish(test_accuracy=acc)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
