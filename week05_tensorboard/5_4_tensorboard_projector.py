"""Lesson 5-4 tensorboard可视化 — TensorBoard: the embedding projector.

本课用 TensorBoard 的 PROJECTOR 面板看数据：前 3000 张测试图片作为嵌入（每张 784 维），用 PCA
或 t-SNE 画成三维点，每个点标上数字并显示成它自己的 28x28 小图；同时单层 softmax 网络训练
1001 步（每批 100，梯度下降 0.5），每 100 步打印测试准确率。与视频的不同：tf.contrib 的
projector 现在在 tensorboard 包里；嵌入保存在 tf.train.Checkpoint 里；sprite 图由程序从数据
生成；不再每步做 FULL_TRACE；损失函数用 logits（视频做了两次 softmax）。

The first 3000 test images are an embedding for TensorBoard's PROJECTOR. All it reads is in one
run folder, `projector/`: metadata.tsv (the labels), sprite.png (a 55x55 grid of 28x28 images),
projector_config.pbtxt, and the checkpoint (embedding/ and the `checkpoint` file that points
there). The softmax network trains beside it (loss, accuracy, inputs, W/b summaries), printing
every 100 steps:

    Iter 0, Testing Accuracy= 0.4075        (teacher's saved output; Iter 1000: 0.907)

Run:
    python week05_tensorboard/5_4_tensorboard_projector.py
    python week05_tensorboard/5_4_tensorboard_projector.py --quick --data synthetic  # seconds
    tensorboard --logdir RUN_FOLDER --host 127.0.0.1     # the folder the lesson prints at the end

Differences from the course code (TensorFlow 1.x):
  - `tf.contrib.tensorboard.plugins.projector` is now `tensorboard.plugins.projector`. The
    embedding is a `tf.train.Checkpoint` written before training (so the projector works while
    the network trains), into a folder that appears whole or not at all.
  - The sprite (the teacher's mnist_10k_sprite.png) is drawn here from the embedded images.
  - No `RunOptions(trace_level=FULL_TRACE)` at every step (many times slower); the input images
    are written once, at step 0.
  - The loss takes the logits x W + b (the course's double softmax is fixed), so the first steps
    learn much faster than the teacher's. Old event files are removed first.
  - --quick embeds 1000 images (all the test images a --quick run has).
"""
# %%
import shlex

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins import projector

parser = tfcourse.parser(__doc__, steps=1001, batch_size=100, lr=0.5, mnist=True,
                         quick=dict(steps=101, images=1000))
parser.add_argument("--images", type=tfcourse.number(int, 1, 10000), default=3000,
                    help="test images in the embedding, 1 to 10000 (lesson: 3000)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --steps 201")
run = tfcourse.start(args, "week05_tensorboard/5_4_tensorboard_projector.py")

logdir = run.out / "projector"
if logdir.exists() and not logdir.is_dir():
    raise tfcourse.CourseError(f"{logdir} is a file: the projector's files go into a folder "
                               "there.\nRemedy: another --out folder, or move that file away.")
for old in logdir.glob("events.out.tfevents.*"):
    old.unlink()  # only the event files an earlier run left here

# %% [markdown]
# ## The course's variable_summaries
# Mean, standard deviation, max, min and a histogram of one variable, under `summaries/`.

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
# Images as 784-vectors in [0, 1], labels one-hot. `mnist.train.next_batch` went round the
# data for ever: here an endless shuffled stream of batches of 100.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
if args.images > len(mnist.x_test):
    raise tfcourse.CourseError(
        f"--images {args.images} is more than the {len(mnist.x_test)} test images"
        + (" of a --quick run" if args.quick else "") + ".\n"
        + f"Remedy: --images {len(mnist.x_test)} or fewer"
        + (", or leave out --quick." if args.quick else "."))
train_data = iter(tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed)
                  .repeat()
                  .batch(args.batch_size, drop_remainder=True)
                  .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## The embedding: the first 3000 test images, their labels and their thumbnails
# The projector reads four things from `projector/`: the vectors (a checkpoint), one label per
# line (metadata.tsv), one picture holding every thumbnail row by row (sprite.png), and a
# config that ties them together.

# %%
images = mnist.x_test[:args.images]
embedding = tf.Variable(images, trainable=False, name="embedding")  # -> (3000, 784)
labels = np.argmax(mnist.y_test[:args.images], axis=1)
tfcourse.atomic_write(logdir / "metadata.tsv", "".join(f"{label}\n" for label in labels))

side = int(np.ceil(np.sqrt(len(images))))  # 3000 images -> 55 x 55 cells
sprite = np.ones((side * 28, side * 28), dtype=np.float32)  # white background
for i, image in enumerate(images.reshape(-1, 28, 28)):
    row, col = divmod(i, side)
    sprite[row * 28:(row + 1) * 28, col * 28:(col + 1) * 28] = 1.0 - image  # dark digits
with tfcourse.atomic_path(logdir / "sprite.png") as tmp:
    Image.fromarray(np.round(sprite * 255).astype(np.uint8), mode="L").save(tmp, format="PNG")

# The checkpoint goes into a temporary folder that becomes projector/embedding/ when complete
# (Ctrl-C or a kill in between leaves nothing half-written). TensorBoard finds it through the
# `checkpoint` file beside it (tf.train.latest_checkpoint reads it): one line of text, written
# here by hand. TF1's update_checkpoint_state wrote it and is deprecated; Checkpoint.save writes
# one too, for numbered checkpoints in the folder itself.
with tfcourse.atomic_path(logdir / "embedding") as tmp:
    tf.train.Checkpoint(embedding=embedding).write(str(tmp / "embedding.ckpt"))
tfcourse.atomic_write(logdir / "checkpoint", 'model_checkpoint_path: "embedding/embedding.ckpt"\n')

config = projector.ProjectorConfig()
embed = config.embeddings.add()
embed.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"  # the variable's key in the checkpoint
embed.metadata_path = "metadata.tsv"  # relative to projector/
embed.sprite.image_path = "sprite.png"
embed.sprite.single_image_dim.extend([28, 28])
tfcourse.atomic_write(logdir / "projector_config.pbtxt", text_format.MessageToString(config))

# %% [markdown]
# ## Model
# 784 -> 10 softmax in the lesson's name scopes; while training it also logs W and b.

# %%
with tf.name_scope("layer"):
    with tf.name_scope("weights"):
        W = tf.Variable(tf.zeros([784, 10]), name="W")
    with tf.name_scope("biases"):
        b = tf.Variable(tf.zeros([10]), name="b")


def model(x, step=None):
    with tf.name_scope("layer"):
        if step is not None:  # while training: log W and b inside the scopes that hold them
            with tf.name_scope("weights"):
                variable_summaries(W, step)
            with tf.name_scope("biases"):
                variable_summaries(b, step)
        with tf.name_scope("xw_plus_b"):
            logits = tf.matmul(x, W) + b  # (batch, 784) @ (784, 10) -> (batch, 10)
        with tf.name_scope("softmax"):
            prediction = tf.nn.softmax(logits)
    return logits, prediction


# %% [markdown]
# ## Loss and optimizer
# Cross-entropy on the logits, plain gradient descent (0.5).

# %%
def loss_fn(y, logits):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

# %% [markdown]
# ## Training
# The teacher's `for i in range(max_steps)`: one graph per step that also writes this step's
# summaries (the teacher's `merged`); the test accuracy every 100 steps and after the last.

# %%
@tf.function
def train_step(x, y, step):
    with tf.GradientTape() as tape:
        logits, prediction = model(x, step)
        with tf.name_scope("loss"):
            loss = loss_fn(y, logits)
            tf.summary.scalar("loss", loss, step=step)
    with tf.name_scope("train"):
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    with tf.name_scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        batch_accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        tf.summary.scalar("accuracy", batch_accuracy, step=step)
    return loss


@tf.function
def accuracy(x, y):
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x)[1], 1))
    return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))


writer = tf.summary.create_file_writer(str(logdir))
with writer.as_default():
    with tf.name_scope("input_reshape"):  # IMAGES: ten inputs, as the teacher's summary.image
        tf.summary.image("input", tf.reshape(mnist.x_train[:10], [-1, 28, 28, 1]), step=0,
                         max_outputs=10)
    for i in range(args.steps):
        x, y = next(train_data)
        loss = train_step(x, y, tf.constant(i, dtype=tf.int64))  # a tensor step: traced once
        if i % 100 == 0 or i == args.steps - 1:
            run.check_finite(loss, f"step {i}")
            acc = float(accuracy(mnist.x_test, mnist.y_test))
            tf.summary.scalar("accuracy/test_accuracy", acc, step=i)
            print("Iter " + str(i) + ", Testing Accuracy= " + str(round(acc, 4)))
            run.log(step=i, test_accuracy=acc)
            writer.flush()
writer.close()

# %% [markdown]
# ## Evaluation
# The last test accuracy (teacher: 0.907 at step 1000). Then TensorBoard: PROJECTOR, and
# "Color by" label; PCA or T-SNE on the left.

# %%
print(f"projector files in {logdir}: metadata.tsv ({len(labels)} labels), sprite.png "
      f"(a {side}x{side} grid of 28x28 images), projector_config.pbtxt, embedding/")
print("open it (then PROJECTOR; 'Color by' label):\n"
      f"tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
run.finish(test_accuracy=acc)
