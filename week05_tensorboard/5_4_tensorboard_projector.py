"""Lesson 5-4 tensorboard可视化 — TensorBoard: the embedding projector.

本课用 TensorBoard 的 PROJECTOR 面板看数据：前 3000 张测试图片作为嵌入（每张 784 维），用 PCA 或
t-SNE 画成三维点，每个点标上数字并显示成它自己的 28x28 小图；同时单层 softmax 网络训练 1001 步
（每批 100，梯度下降 0.5），每 100 步打印测试准确率。与视频的不同：tf.contrib 的 projector 现在在
tensorboard 包里；嵌入保存在 tf.train.Checkpoint 里；sprite 图由程序从数据生成；不再每步做
FULL_TRACE；损失函数用 logits（视频做了两次 softmax）。

The first 3000 test images are an embedding for TensorBoard's PROJECTOR; all it reads is in one run,
`projector/`: metadata.tsv, sprite.png (a 55x55 grid of 28x28 images), projector_config.pbtxt, embedding.ckpt-1.
The softmax network trains beside it (loss, accuracy, inputs, W/b summaries), printing every 100 steps:

    Iter 0, Testing Accuracy= 0.4075        (teacher's saved output; Iter 1000: 0.907)

Run:
    python week05_tensorboard/5_4_tensorboard_projector.py    # --quick --data synthetic: seconds
    tensorboard --logdir runs/week05_tensorboard/5_4_tensorboard_projector/latest --host 127.0.0.1

Differences from the course code (TensorFlow 1.x):
  - `tf.contrib.tensorboard.plugins.projector` is now `tensorboard.plugins.projector`; the embedding
    is a `tf.train.Checkpoint` saved before training, so the projector works while the network trains.
  - No `RunOptions(trace_level=FULL_TRACE)` per step (many times slower); the input images once, at step 0.
  - The loss takes the logits x W + b (the course's double softmax is fixed), so the first steps
    learn much faster than the teacher's. Old event files and checkpoints are removed first.
"""
import os
import shlex

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins import projector
from tfcourse.summaries import variable_summaries  # the course's: mean, stddev, max, min, histogram

parser = tfcourse.make_parser(__doc__, steps=1001, batch_size=100, lr=0.5, mnist=True, quick=dict(steps=101))
parser.add_argument("--images", type=tfcourse.positive_int, default=3000,
                    help="test images in the embedding (lesson: 3000)")


def make_sprite(images, path):
    """Lay 28x28 images out row by row in a square grid (the projector's sprite layout)."""
    side = int(np.ceil(np.sqrt(len(images))))  # 3000 images -> 55 x 55 cells
    sheet = np.ones((side * 28, side * 28), dtype=np.float32)  # white background
    for i, image in enumerate(images.reshape(-1, 28, 28)):
        row, col = divmod(i, side)
        sheet[row * 28:(row + 1) * 28, col * 28:(col + 1) * 28] = 1.0 - image  # dark digits
    with tfcourse.atomic_path(path) as tmp:
        Image.fromarray(np.round(sheet * 255).astype(np.uint8), mode="L").save(tmp, format="PNG")
    return side


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    logdir = run.out / "projector"
    for old in [*logdir.glob("events.out.tfevents.*"), *logdir.glob("embedding.ckpt*")]:
        old.unlink()

    # ## Data: images as 784-vectors in [0, 1], labels one-hot
    mnist = tfcourse.load_mnist(args, one_hot=True)
    image_num = min(args.images, len(mnist.x_test))  # a --quick run has only 1000 test images
    train_data = iter(tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                      .shuffle(len(mnist.x_train), seed=args.seed)
                      .repeat()  # mnist.train.next_batch goes round the data for ever
                      .batch(args.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))

    # ## The embedding: the first image_num test images, their labels and their thumbnails
    embedding = tf.Variable(mnist.x_test[:image_num], trainable=False, name="embedding")  # -> (3000, 784)
    labels = np.argmax(mnist.y_test[:image_num], axis=1)
    tfcourse.atomic_write(logdir / "metadata.tsv", "".join(f"{label}\n" for label in labels))
    side = make_sprite(mnist.x_test[:image_num], logdir / "sprite.png")
    checkpoint_path = tf.train.Checkpoint(embedding=embedding).save(str(logdir / "embedding.ckpt"))

    config = projector.ProjectorConfig()
    embed = config.embeddings.add()
    embed.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"  # the variable's key in the checkpoint
    embed.metadata_path = "metadata.tsv"  # relative to the run folder projector/
    embed.sprite.image_path = "sprite.png"
    embed.sprite.single_image_dim.extend([28, 28])
    tfcourse.atomic_write(logdir / "projector_config.pbtxt", text_format.MessageToString(config))

    # ## Model: 784 -> 10 softmax in the lesson's name scopes
    with tf.name_scope("layer"):
        with tf.name_scope("weights"):
            W = tf.Variable(tf.zeros([784, 10]), name="W")
        with tf.name_scope("biases"):
            b = tf.Variable(tf.zeros([10]), name="b")
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

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

    # ## Training step: one graph that also writes this step's summaries (teacher: merged)
    @tf.function
    def train_step(x, y, step):
        with tf.GradientTape() as tape:
            logits, prediction = model(x, step)
            with tf.name_scope("loss"):
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
                tf.summary.scalar("loss", loss, step=step)
        with tf.name_scope("train"):
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            tf.summary.scalar("accuracy", tf.reduce_mean(tf.cast(correct_prediction, tf.float32)), step=step)
        return loss

    @tf.function
    def accuracy(x, y):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x)[1], 1))
        return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    # ## Training loop: the teacher's `for i in range(max_steps)`, summaries at every step
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        with tf.name_scope("input_reshape"):  # IMAGES: ten inputs, as the teacher's summary.image
            tf.summary.image("input", tf.reshape(mnist.x_train[:10], [-1, 28, 28, 1]), step=0, max_outputs=10)
        for i in range(args.steps):
            loss = train_step(*next(train_data), tf.constant(i, dtype=tf.int64))  # a tensor step: traced once
            if i % 100 == 0 or i == args.steps - 1:
                run.check_finite(loss, f"step {i}")
                acc = float(accuracy(mnist.x_test, mnist.y_test))
                tf.summary.scalar("accuracy/test_accuracy", acc, step=i)
                print("Iter " + str(i) + ", Testing Accuracy= " + str(round(acc, 4)))
                run.record(step=i, test_accuracy=acc)
                writer.flush()
    writer.close()

    print(f"projector files in {logdir}: metadata.tsv ({image_num} labels), sprite.png "
          f"(a {side}x{side} grid of 28x28 images), projector_config.pbtxt, {os.path.basename(checkpoint_path)}.*")
    print(f"open it (then PROJECTOR; 'Color by' label):\n"
          f"tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
    run.finish(test_accuracy=acc)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
