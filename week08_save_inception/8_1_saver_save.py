"""Lesson 8-1 保存模型 — Save a trained model (Saver, Checkpoint, SavedModel).

本课训练 4-1 的模型（784 -> 10 的 softmax，W 和 b 从零开始，交叉熵，梯度下降 0.2，每批 100，
11 个周期），每个周期打印测试准确率，然后保存，让 8-2 载入。--api v1 是课程的写法（tf.compat.v1
的图、Session 和 Saver）；默认的 --api v2 是今天的写法（tf.train.Checkpoint 和 SavedModel）。
与视频的不同：损失直接算在 logits 上（课程做了两次 softmax）；保存是“全有或全无”：
写到一半被中断（Ctrl-C、kill、磁盘满）不会留下半个文件夹。

Trains the 4-1 model, prints the test accuracy after each epoch as the video did, and saves it:
    Iter 10,Testing Accuracy 0.9169       (teacher's saved output; Iter 0: 0.8234)

  --api v1  the course's way: placeholders, a Session, `Saver().save(sess, "net/my_net.ckpt")`.
  --api v2  (default) `tf.train.Checkpoint(W=W, b=b)` with a `CheckpointManager` (net_tf2/my_net-N,
            one per epoch, keeps 3), and a SavedModel (saved_model/) any TensorFlow program loads.
Run:  python week08_save_inception/8_1_saver_save.py [--api v1] [--quick --data synthetic]
then: python week08_save_inception/8_2_saver_restore.py [--api v1] (the same flags)

Differences from the course code (TensorFlow 1.x):
  - The loss is computed on the logits, not on softmax(logits) (the course's double softmax).
  - `tensorflow.examples.tutorials.mnist` is gone: `tfcourse.load_mnist` gives the same split.
  - Each folder is written whole (`tfcourse.atomic_path`): a run stopped or failed while saving
    leaves no my_net-1_temp/ or half SavedModel, and its record says why it ended.
"""
# %%
import contextlib
import shlex
from pathlib import Path

import numpy as np

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=11, batch_size=100, lr=0.2, mnist=True,
                         quick=dict(epochs=2))
parser.add_argument("--api", choices=["v1", "v2"], default="v2",
                    help="v1: the course's Saver; v2 (default): Checkpoint and SavedModel")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --api v1")
run = tfcourse.start(args, "week08_save_inception/8_1_saver_save.py")


@contextlib.contextmanager
def saving(folder):
    """Write `folder` whole or not at all: TensorFlow writes into a temporary folder beside it,
    renamed at the end; an error, Ctrl-C or kill removes it. A full disk: one message."""
    try:
        with tfcourse.atomic_path(folder) as tmp:
            yield tmp
    except (tf.errors.OpError, OSError) as error:  # e.g. ResourceExhaustedError: disk full
        reason = str(error).strip().splitlines()[0]
        raise tfcourse.CourseError(f"Writing {folder} failed ({reason}); nothing half-written "
                                   "was kept.\nRemedy: free some space, or another --out DIR."
                                   ) from None


# %% [markdown]
# ## Data
# Images as 784-vectors in [0, 1], labels one-hot; 550 batches of 100 per epoch.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)

# %% [markdown]
# ## --api v1: the course's program
# A graph with placeholders, a Session, feed_dict, and `tf.compat.v1.train.Saver`, which saves
# every variable under its name ("W", "b"): net/my_net.ckpt.index, .data-00000-of-00001 and a
# `checkpoint` file naming the newest.

# %%
if args.api == "v1":
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 784], name="x")
        y = v1.placeholder(tf.float32, [None, 10], name="y")
        W = tf.Variable(tf.zeros([784, 10]), name="W")  # the names are the checkpoint's keys
        b = tf.Variable(tf.zeros([10]), name="b")
        logits = tf.matmul(x, W) + b
        prediction = tf.nn.softmax(logits)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_step = v1.train.GradientDescentOptimizer(args.lr).minimize(loss)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        saver = v1.train.Saver(save_relative_paths=True)  # the index names files, not paths

    rng = np.random.default_rng(args.seed)
    n_batch = len(mnist.x_train) // args.batch_size
    with v1.Session(graph=graph) as sess:
        sess.run(v1.global_variables_initializer())
        for epoch in range(args.epochs):
            order = rng.permutation(len(mnist.x_train))  # a new order each epoch, as next_batch
            for batch in range(n_batch):
                index = order[batch * args.batch_size:(batch + 1) * args.batch_size]
                feed = {x: mnist.x_train[index], y: mnist.y_train[index]}
                _, loss_value = sess.run([train_step, loss], feed_dict=feed)
            run.check_finite(loss_value, f"epoch {epoch}")
            acc = float(sess.run(accuracy, feed_dict={x: mnist.x_test, y: mnist.y_test}))
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
            run.log(epoch=epoch, test_accuracy=acc)
        with saving(run.out / "net") as folder:
            saver.save(sess, str(folder / "my_net.ckpt"))
    print(f"saved (tf.compat.v1.train.Saver): {run.out / 'net' / 'my_net.ckpt'}")

# %% [markdown]
# ## --api v2 (default): today's program. Model
# W and b live in a `tf.Module`; its `__call__` has a fixed input signature, so the SavedModel
# below holds a graph that any TensorFlow program can call without this file.

# %%
class Classifier(tf.Module):
    def __init__(self):
        super().__init__()
        self.W = tf.Variable(tf.zeros([784, 10]), name="W")
        self.b = tf.Variable(tf.zeros([10]), name="b")

    @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32, name="x")])
    def __call__(self, x):
        return tf.nn.softmax(tf.matmul(x, self.W) + self.b)  # prediction: (batch, 10)


if args.api == "v2":
    model = Classifier()
    W, b = model.W, model.b
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)
    train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed)  # a new order every epoch
                  .batch(args.batch_size, drop_remainder=True)
                  .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## --api v2: loss, training, and a checkpoint after every epoch
# `tf.train.Checkpoint(W=W, b=b)` saves objects by the names given here (W=, b=), not by the
# variables' own names; `CheckpointManager` numbers the saves and keeps the newest 3.

# %%
@tf.function
def train_epoch():  # the course's 550 runs of train_step, as one graph call
    loss = tf.constant(0.0)
    for x, y in train_data:  # AutoGraph turns this loop over tf.data into a graph loop
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, W) + b
            loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    return loss  # the last batch's


def test_accuracy(predict):  # on the 10000 test images; `predict` returns probabilities
    prediction = predict(tf.constant(mnist.x_test))
    return float(np.mean(np.argmax(prediction, 1) == np.argmax(mnist.y_test, 1)))


if args.api == "v2":
    checkpoint = tf.train.Checkpoint(W=W, b=b)
    with saving(run.out / "net_tf2") as folder:  # renamed to net_tf2/ after the last epoch
        manager = tf.train.CheckpointManager(checkpoint, folder, max_to_keep=3,
                                             checkpoint_name="my_net")
        for epoch in range(args.epochs):
            run.check_finite(train_epoch(), f"epoch {epoch}")
            acc = test_accuracy(model)
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
            run.log(epoch=epoch, test_accuracy=acc)
            manager.save(checkpoint_number=epoch)  # -> my_net-<epoch>.index + .data-...
        kept = ", ".join(Path(path).name for path in manager.checkpoints)
    print(f"saved (tf.train.Checkpoint): {run.out / 'net_tf2'}  (kept: {kept})")

# %% [markdown]
# ## --api v2: the SavedModel
# The graph and the weights together; `tf.saved_model.load` gives back a callable model.

# %%
if args.api == "v2":
    export_dir = run.out / "saved_model"
    with saving(export_dir) as folder:
        tf.saved_model.save(model, str(folder))
    reloaded = tf.saved_model.load(str(export_dir))  # what another program would do
    print(f"saved (SavedModel): {export_dir}  reloaded: test accuracy "
          f"{round(test_accuracy(reloaded), 4)}\n"
          f"  load it anywhere: tf.saved_model.load({str(export_dir)!r})(images_784)")

# %% [markdown]
# ## Evaluation
# The last epoch's test accuracy (teacher: 0.9169), and the 8-2 command that restores it.

# %%
command = ["python", "week08_save_inception/8_2_saver_restore.py", "--api", args.api]
command += ["--model-dir", str(run.out)] if args.out else []  # else 8-2 finds the newest run
command += ["--quick"] if args.quick else []
if mnist.synthetic:
    command += ["--data", "synthetic"]
elif args.data_dir:
    command += ["--data-dir", str(args.data_dir)]
print("next: " + shlex.join(command))
run.finish(test_accuracy=acc)
