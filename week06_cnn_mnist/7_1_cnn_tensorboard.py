"""Lesson 7-1 CNN与TensorBoard可视化（第六周作业） — The CNN in TensorBoard (week 6 homework).

本课是第六周的作业：把 6-1 的卷积网络写进命名空间（input、Conv1、Conv2、fc1、fc2、loss、
accuracy），训练 1001 次（每批 100 张，keep_prob 0.5），每次把训练批和一个测试批的 loss、
accuracy 写到 logs/train 和 logs/test，用 variable_summaries 记录每个权值和偏置的均值、标准差、
最大值、最小值和直方图。与视频的不同：TF2 的 tf.summary 代替 FileWriter + merged；
variable_summaries 每 10 次写一次（TF2 的直方图对 320 万个 fc1 权值很慢）；损失用 logits 计算。

The 6-1 network in name scopes (the GRAPHS tab shows them). Each iteration logs the loss and
accuracy of its training batch (dropout on, as `sess.run([merged, train_step])`) to `logs/train`
and of a test batch to `logs/test`; every 100 and after the last it prints (training accuracy:
the first 10000 training images):

    Iter 1000, Testing Accuracy= 0.9629, Training Accuracy= 0.9602     (teacher's saved output)

Run:
    python week06_cnn_mnist/7_1_cnn_tensorboard.py
    python week06_cnn_mnist/7_1_cnn_tensorboard.py --quick --data synthetic   # 11 iterations
    tensorboard --logdir RUN_FOLDER/logs --host 127.0.0.1     # the lesson prints this line

Differences from the course code (TensorFlow 1.x):
  - `FileWriter` + `merged` + `sess.run(merged, feed_dict)` become `tf.summary.create_file_writer`
    and `tf.summary.scalar` in the `tf.function` step; `tf.summary.graph` writes the step's graph.
  - The loss is on the logits. variable_summaries every 10 iterations, not every one: TF2's
    histogram buckets the 3.2M fc1 weights through a one-hot matrix, ~0.4 s of CPU each time.
"""
# %%
import shlex

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, steps=1001, batch_size=100, lr=1e-4, mnist=True,
                         quick=dict(steps=11))
parser.add_argument("--keep-prob", type=tfcourse.probability, default=0.5,
                    help="dropout keep probability, above 0 up to 1 (lesson: 0.5)")
parser.add_argument("--histogram-every", type=tfcourse.positive_int, default=10, metavar="N",
                    help="write variable_summaries every N iterations (default 10; the course: 1)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --steps 21")
if args.steps > 1 and args.histogram_every >= args.steps:
    raise tfcourse.CourseError(
        f"--histogram-every {args.histogram_every} with --steps {args.steps} writes the variable "
        "summaries at iteration 0 only, before any training: the histograms could not change.\n"
        f"Remedy: --histogram-every {args.steps - 1} or less (or more --steps).")
run = tfcourse.start(args, "week06_cnn_mnist/7_1_cnn_tensorboard.py")

logdir = run.out / "logs"
if logdir.exists() and not logdir.is_dir():
    raise tfcourse.CourseError(f"{logdir} is a file: the event files go into a folder there.\n"
                               "Remedy: another --out folder, or move that file away.")

# %% [markdown]
# ## The course's variable_summaries
# Mean, standard deviation, max, min and a histogram of one variable, under `summaries/`,
# written to the default writer at its default step.

# %%
def variable_summaries(var):
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean)  # 平均值
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev)  # 标准差
        tf.summary.scalar("max", tf.reduce_max(var))  # 最大值
        tf.summary.scalar("min", tf.reduce_min(var))  # 最小值
        tf.summary.histogram("histogram", var)  # 直方图


# %% [markdown]
# ## Data
# 28x28x1 images, one-hot labels; endless shuffled streams of training and test batches
# (the teacher's `next_batch` on both sets).

# %%
mnist = tfcourse.load_mnist(args, one_hot=True, flatten=False)


def batches(images, labels):
    return iter(tf.data.Dataset.from_tensor_slices((images, labels))
                .shuffle(len(images), seed=args.seed)
                .repeat()
                .batch(args.batch_size)
                .prefetch(tf.data.AUTOTUNE))


train_batches = batches(mnist.x_train, mnist.y_train)
test_batches = batches(mnist.x_test, mnist.y_test)

# %% [markdown]
# ## Model
# The lesson's variables, each layer in its own name scope; the network as the course's
# functions conv2d and max_pool_2x2 write it.

# %%
def weight_variable(shape, name):
    return tf.Variable(tf.random.truncated_normal(shape, stddev=0.1), name=name)


def bias_variable(shape, name):
    return tf.Variable(tf.constant(0.1, shape=shape), name=name)


with tf.name_scope("Conv1"):  # 32 5x5 filters on 1 channel
    W_conv1 = weight_variable([5, 5, 1, 32], "W_conv1")
    b_conv1 = bias_variable([32], "b_conv1")
with tf.name_scope("Conv2"):  # 64 5x5 filters on 32 channels
    W_conv2 = weight_variable([5, 5, 32, 64], "W_conv2")
    b_conv2 = bias_variable([64], "b_conv2")
with tf.name_scope("fc1"):
    W_fc1 = weight_variable([7 * 7 * 64, 1024], "W_fc1")
    b_fc1 = bias_variable([1024], "b_fc1")
with tf.name_scope("fc2"):
    W_fc2 = weight_variable([1024, 10], "W_fc2")
    b_fc2 = bias_variable([10], "b_fc2")
variables = [W_conv1, b_conv1, W_conv2, b_conv2, W_fc1, b_fc1, W_fc2, b_fc2]


def conv2d(x, W):
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    return tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def model(x, keep_prob):
    with tf.name_scope("Conv1"):
        h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x, W_conv1) + b_conv1))        # -> (14, 14, 32)
    with tf.name_scope("Conv2"):
        h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2))  # -> (7, 7, 64)
    with tf.name_scope("fc1"):
        h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])                    # -> (3136,)
        h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)              # -> (1024,)
        h_fc1_drop = tf.nn.dropout(h_fc1, rate=1 - keep_prob)
    with tf.name_scope("fc2"):
        logits = tf.matmul(h_fc1_drop, W_fc2) + b_fc2                           # -> (10,)
    return logits


# %% [markdown]
# ## Loss and accuracy
# Cross-entropy on the logits; the accuracy needs no softmax (argmax is the same).

# %%
def loss_and_accuracy(x, y, keep_prob):
    logits = model(x, keep_prob)
    with tf.name_scope("loss"):
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    with tf.name_scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    return loss, accuracy


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

# %% [markdown]
# ## Summaries
# One writer per folder, the course's logs/train and logs/test; GRAPHS gets one training step.

# %%
train_writer = tf.summary.create_file_writer(str(run.path("logs", "train")))
test_writer = tf.summary.create_file_writer(str(run.path("logs", "test")))


def write_scalars(writer, step, loss, accuracy):
    with writer.as_default(step=step):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)


@tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1]), tf.TensorSpec([None, 10]),
                              tf.TensorSpec([], tf.int64)])
def train_step(x, y, step):
    with tf.name_scope("input"):
        x, y = tf.identity(x, name="x-input"), tf.identity(y, name="y-input")
    with tf.GradientTape() as tape:
        loss, accuracy = loss_and_accuracy(x, y, args.keep_prob)
    with tf.name_scope("train"):
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    write_scalars(train_writer, step, loss, accuracy)  # this batch's, as the course's merged
    return loss


@tf.function
def test_summaries(x, y, step):
    loss, accuracy = loss_and_accuracy(x, y, 1.0)  # keep_prob 1.0 when measuring
    write_scalars(test_writer, step, loss, accuracy)


@tf.function
def write_variable_summaries(step):
    with train_writer.as_default(step=step):
        for var in variables:
            with tf.name_scope(var.name.split(":")[0]):  # -> fc1/W_fc1/summaries/histogram
                variable_summaries(var)


def accuracy_on(images, labels):
    """Eagerly, in batches of 1000: a few big ops, nothing to trace."""
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(1000)
    correct = sum(float(loss_and_accuracy(x, y, 1.0)[1]) * len(x) for x, y in data)
    return correct / len(images)


with train_writer.as_default():  # TensorBoard's GRAPHS tab: the graph of one training step
    tf.summary.graph(train_step.get_concrete_function().graph)

# %% [markdown]
# ## Training
# Every iteration: a training step (with its summaries) and a test batch's summaries;
# variable_summaries every --histogram-every; the teacher's line every 100 and after the last.

# %%
for i in range(args.steps):
    step = tf.constant(i, tf.int64)
    x, y = next(train_batches)
    loss = train_step(x, y, step)
    x, y = next(test_batches)
    test_summaries(x, y, step)
    if i % args.histogram_every == 0:
        write_variable_summaries(step)
    if i % 100 == 0 or i == args.steps - 1:
        run.check_finite(loss, f"iteration {i}")
        test_acc = accuracy_on(mnist.x_test, mnist.y_test)
        train_acc = accuracy_on(mnist.x_train[:10000], mnist.y_train[:10000])
        print("Iter " + str(i) + ", Testing Accuracy= " + str(round(test_acc, 4)) +
              ", Training Accuracy= " + str(round(train_acc, 4)), flush=True)
        run.log(step=i, test_accuracy=test_acc, train_accuracy=train_acc, loss=loss)
for writer in (train_writer, test_writer):
    writer.close()  # flushes the last events to disk

# %% [markdown]
# ## Evaluation
# The last line's accuracies (teacher: 0.9629 test, 0.9602 training at iteration 1000); the
# curves, histograms and the graph are in TensorBoard.

# %%
print("view the logs with:\n"
      f"tensorboard --logdir {shlex.quote(str(run.path('logs')))} --host 127.0.0.1")
run.finish(test_accuracy=test_acc, train_accuracy=train_acc)
