"""Lesson 5-3 tensorboard网络运行 — TensorBoard: watching the network train.

本课在训练时写 TensorBoard 日志：5-2 的单层 softmax 网络训练 51 个周期，每个周期记录 W 和 b 的
variable_summaries（平均值、标准差、最大值、最小值、直方图），以及 loss 和 accuracy 标量。
与视频的不同：TF2 的 tf.summary 写入即生效，不需要 merge_all 和 sess.run；视频每一批都计算汇总
但每个周期只写一次，这里每个周期算一次、写一次（图上的点一样）；损失函数用 logits（视频做了
两次 softmax）。

Lesson 5-2's one-layer softmax network, now logging while it trains: the lesson's
`variable_summaries` (mean, stddev, max, min and a histogram) for the weights W and the biases b,
plus scalars for the loss and the accuracy, for 51 epochs (batch 100, gradient descent 0.2).
After each epoch it prints the test accuracy like the video:

    Iter 0,Testing Accuracy 0.8234        (teacher's saved output; Iter 50: 0.9259)

and writes one point per epoch to every panel, as the teacher's
`writer.add_summary(summary, epoch)`: SCALARS shows layer/weights/summaries/{mean,stddev,max,min},
the same for layer/biases, loss/loss and accuracy/accuracy; HISTOGRAMS and DISTRIBUTIONS show how
W and b spread out epoch by epoch; GRAPHS shows one training step inside the lesson's name scopes.

Run:
    python week05_tensorboard/5_3_tensorboard_running.py
    python week05_tensorboard/5_3_tensorboard_running.py --quick --data synthetic   # seconds
    tensorboard --logdir RUN_FOLDER --host 127.0.0.1  # the folder the lesson prints first

Differences from the course code (TensorFlow 1.x):
  - `tf.summary.merge_all()` + `sess.run([merged, train_step])` + `FileWriter.add_summary` become
    `tf.summary.create_file_writer` and `tf.summary.scalar/histogram(..., step=epoch)`, which
    write at once (TF2 summaries are ops that run, not nodes to fetch). The tags keep the lesson's
    name scopes, so the panels are named as in the video.
  - The teacher ran the merged summaries on EVERY batch but wrote only the last one of each
    epoch. Here the summaries are computed and written once per epoch, after the epoch's graph
    call: the same points on the plots, much less work (`bench/bench_week05_tensorboard.py`).
  - loss/loss is the mean training loss over the epoch (the teacher's was the last batch's),
    accuracy/accuracy is the test accuracy that is printed (the teacher's was the last training
    batch's), and accuracy/train_accuracy is the accuracy on all training images after the epoch.
  - The course fed softmax output into `softmax_cross_entropy_with_logits` (softmax twice); here
    the loss takes the logits x W + b, as that function expects. It learns faster at first, so
    the early epochs are above the teacher's; softmax still gives `prediction`.
  - Old event files in the run folder's logs/ are removed first (the teacher deleted logs/ by
    hand), so TensorBoard shows one run, not several on top of each other.
"""
# %%
import shlex

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=51, batch_size=100, lr=0.2, mnist=True,
                         quick=dict(epochs=2))
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --epochs 3")
run = tfcourse.start(args, "week05_tensorboard/5_3_tensorboard_running.py")

logdir = run.out / "logs"
if logdir.exists() and not logdir.is_dir():
    raise tfcourse.CourseError(f"{logdir} is a file: the event files go into a folder there.\n"
                               "Remedy: another --out folder, or move that file away.")
for old in logdir.glob("events.out.tfevents.*"):
    old.unlink()  # only the event files an earlier run left here
print(f"watch it train:  tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")

# %% [markdown]
# ## The course's variable_summaries
# Mean, standard deviation, max, min and a histogram of one variable, under `summaries/`.
# In TF2 each `tf.summary` call writes at once to the default writer, at `step`.

# %%
def variable_summaries(var, step):
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean, step=step)  # 平均值
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev, step=step)  # 标准差
        tf.summary.scalar("max", tf.reduce_max(var), step=step)  # 最大值
        tf.summary.scalar("min", tf.reduce_min(var), step=step)  # 最小值
        tf.summary.histogram("histogram", var, step=step)  # 直方图


# %% [markdown]
# ## Data
# Images as 784-vectors in [0, 1], labels one-hot; a new order every epoch, 550 batches of 100.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Model
# 784 -> 10 softmax, zero-initialised, in the lesson's name scopes (as 5-2).

# %%
with tf.name_scope("layer"):
    with tf.name_scope("weights"):
        W = tf.Variable(tf.zeros([784, 10]), name="W")  # -> layer/weights/W
    with tf.name_scope("biases"):
        b = tf.Variable(tf.zeros([10]), name="b")  # -> layer/biases/b


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


# %% [markdown]
# ## Loss and optimizer
# Cross-entropy on the logits, plain gradient descent.

# %%
def loss_fn(y, logits):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

# %% [markdown]
# ## Training
# One graph runs a whole epoch and returns its mean loss. No summaries inside it, so nothing
# slows the 550 steps down; after each epoch, one point on every panel, as the teacher's
# `writer.add_summary(summary, epoch)`.

# %%
def train_step(x, y):
    with tf.name_scope("input"):
        x = tf.identity(x, name="x-input")
        y = tf.identity(y, name="y-input")
    with tf.GradientTape() as tape:
        logits, prediction = model(x)
        with tf.name_scope("loss"):
            loss = loss_fn(y, logits)
    with tf.name_scope("train"):
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    return loss


@tf.function
def train_epoch():
    total, steps = tf.constant(0.0), tf.constant(0.0)
    for x, y in train_data:
        total += train_step(x, y)
        steps += 1.0
    return total / steps


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

    for epoch in range(args.epochs):
        train_loss = train_epoch()
        run.check_finite(train_loss, f"epoch {epoch}")
        acc = float(accuracy(mnist.x_test, mnist.y_test))
        train_acc = accuracy(mnist.x_train, mnist.y_train)  # all 55000 images, after the epoch
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
        run.log(epoch=epoch, test_accuracy=acc, loss=train_loss)
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

# %% [markdown]
# ## Evaluation
# The test accuracy after the last epoch (teacher: 0.9259 after 51). In TensorBoard: SCALARS
# for the curves, HISTOGRAMS and DISTRIBUTIONS for how W and b spread out, GRAPHS for the step.

# %%
print(f"TensorBoard logs: {logdir}")
print(f"open them with:  tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
run.finish(test_accuracy=acc)
