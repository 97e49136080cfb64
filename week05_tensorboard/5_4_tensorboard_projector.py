"""Lesson 5-4 tensorboard可视化 — TensorBoard: the embedding projector.

The first 3000 test images become an embedding (one 784-long point per image) that TensorBoard's
PROJECTOR panel shows in 3-D with PCA or t-SNE, each point labelled with its digit and drawn as its
own 28x28 thumbnail. The script writes everything the projector reads into one TensorBoard run,
`projector/`:
  - metadata.tsv: the 3000 labels, one per line (no header: one column);
  - sprite.png: the 3000 images side by side in a 55x55 grid of 28x28 thumbnails, dark digits on
    white, made here from the data (the course shipped a ready-made mnist_10k_sprite.png);
  - projector_config.pbtxt: which tensor is the embedding and where its labels and sprite are;
  - embedding.ckpt-1.*: a checkpoint holding the embedding variable.
Meanwhile the one-layer softmax network trains 1001 steps (batch 100, gradient descent 0.5),
logging loss, accuracy, the input images and W/b summaries, and printing every 100 steps:

    Iter 0, Testing Accuracy= 0.4075        (teacher's saved output; Iter 1000: 0.907)

Run:
    python week05_tensorboard/5_4_tensorboard_projector.py
    tensorboard --logdir runs/week05_tensorboard/5_4_tensorboard_projector --host 127.0.0.1
    python week05_tensorboard/5_4_tensorboard_projector.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - `tf.contrib.tensorboard.plugins.projector` is gone; the same ProjectorConfig lives in the
    `tensorboard` package (`tensorboard.plugins.projector`). The checkpoint is a
    `tf.train.Checkpoint`, so the embedding's tensor name is `embedding/.ATTRIBUTES/VARIABLE_VALUE`.
  - The config is written as `projector.visualize_embeddings` writes it, but atomically, with paths
    relative to the run folder, so the folder can be moved. The embedding never changes, so it
    is saved before training: the projector works while the network trains.
  - The teacher traced every step (`RunOptions(trace_level=FULL_TRACE)` + `add_run_metadata`);
    that slowed each step many times over and is left out. Each step is one `tf.function`
    call that trains and writes that step's summaries; the ten input images (IMAGES panel) are
    written once, at step 0, not at every step.
  - As in the course, the projector shows the raw pixels, not anything the network learned.
  - The course fed softmax output into `softmax_cross_entropy_with_logits` (softmax twice); here
    the loss takes the logits x W + b, so the first steps learn much faster than the teacher's.
  - Old event files and checkpoints in projector/ are removed first (the teacher deleted the folder).
"""
import math
import os
import shlex

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins import projector

parser = tfcourse.make_parser(__doc__, batch_size=100, lr=0.5, mnist=True)
parser.add_argument("--steps", type=int, default=1001, help="training steps (lesson: 1001)")
parser.add_argument("--images", type=int, default=3000,
                    help="test images in the embedding (lesson: 3000)")


def variable_summaries(var, step):
    """Lesson 5-3's helper: mean, stddev, max, min and a histogram of `var` at `step`."""
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean, step=step)
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev, step=step)
        tf.summary.scalar("max", tf.reduce_max(var), step=step)
        tf.summary.scalar("min", tf.reduce_min(var), step=step)
        tf.summary.histogram("histogram", var, step=step)


def write_atomically(path, data):
    """Write bytes to a temporary name beside `path`, then rename: never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def make_sprite(images, path):
    """Lay 28x28 images out row by row in a square grid (the projector's sprite layout)."""
    side = math.ceil(math.sqrt(len(images)))  # 3000 images -> 55 x 55 cells
    sheet = np.ones((side * 28, side * 28), dtype=np.float32)  # white background
    for i, image in enumerate(images.reshape(-1, 28, 28)):
        row, col = divmod(i, side)
        sheet[row * 28:(row + 1) * 28, col * 28:(col + 1) * 28] = 1.0 - image  # dark digits
    tmp = path.with_name(path.name + ".tmp")
    Image.fromarray(np.round(sheet * 255).astype(np.uint8), mode="L").save(tmp, format="PNG")
    tmp.replace(path)
    return side


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    steps = 101 if args.quick else args.steps
    if steps < 1 or args.images < 1:
        raise tfcourse.CourseError("--steps and --images must be at least 1.\n"
                                   "Remedy: use the lesson's values, --steps 1001 --images 3000.")
    logdir = run.out / "projector"
    logdir.mkdir(parents=True, exist_ok=True)
    for old in [*logdir.glob("events.out.tfevents.*"), *logdir.glob("embedding.ckpt*")]:
        old.unlink()

    # ## Data: images as 784-vectors in [0, 1], labels one-hot
    mnist = tfcourse.load_mnist(args, one_hot=True)
    image_num = min(args.images, len(mnist.x_test))  # a --quick run has only 1000 test images
    train_data = iter(tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                      .shuffle(len(mnist.x_train), seed=args.seed)
                      .repeat()  # mnist.train.next_batch goes round the data for ever
                      .batch(args.batch_size, drop_remainder=True)
                      .prefetch(tf.data.AUTOTUNE))

    # ## The embedding: the first image_num test images, their labels and their thumbnails
    embedding = tf.Variable(mnist.x_test[:image_num], trainable=False, name="embedding")  # -> (3000, 784)
    labels = np.argmax(mnist.y_test[:image_num], axis=1)
    write_atomically(logdir / "metadata.tsv", "".join(f"{label}\n" for label in labels).encode())
    side = make_sprite(mnist.x_test[:image_num], logdir / "sprite.png")
    checkpoint_path = tf.train.Checkpoint(embedding=embedding).save(str(logdir / "embedding.ckpt"))

    config = projector.ProjectorConfig()
    embed = config.embeddings.add()
    embed.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"  # the variable's key in the checkpoint
    embed.metadata_path = "metadata.tsv"  # relative to the run folder projector/
    embed.sprite.image_path = "sprite.png"
    embed.sprite.single_image_dim.extend([28, 28])
    write_atomically(logdir / "projector_config.pbtxt", text_format.MessageToString(config).encode())

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
                wx_plus_b = tf.matmul(x, W) + b  # (batch, 784) @ (784, 10) -> (batch, 10)
            with tf.name_scope("softmax"):
                prediction = tf.nn.softmax(wx_plus_b)
        return wx_plus_b, prediction

    # ## Training step: one graph that also writes this step's summaries (teacher: merged)
    @tf.function
    def train_step(x, y, step):
        with tf.GradientTape() as tape:
            wx_plus_b, prediction = model(x, step)
            with tf.name_scope("loss"):
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=wx_plus_b))
                tf.summary.scalar("loss", loss, step=step)
        with tf.name_scope("train"):
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            tf.summary.scalar("accuracy", tf.reduce_mean(tf.cast(correct_prediction, tf.float32)), step=step)

    @tf.function
    def accuracy(x, y):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x)[1], 1))
        return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    # ## Training loop: the teacher's `for i in range(max_steps)`, summaries at every step
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        with tf.name_scope("input_reshape"):  # IMAGES: ten inputs, as the teacher's summary.image
            tf.summary.image("input", tf.reshape(mnist.x_train[:10], [-1, 28, 28, 1]), step=0, max_outputs=10)
        for i in range(steps):
            x, y = next(train_data)
            train_step(x, y, tf.constant(i, dtype=tf.int64))  # a tensor step: traced only once
            if i % 100 == 0:
                acc = float(accuracy(mnist.x_test, mnist.y_test))
                tf.summary.scalar("accuracy/test_accuracy", acc, step=i)
                print("Iter " + str(i) + ", Testing Accuracy= " + str(round(acc, 4)))
                writer.flush()
    writer.close()

    print(f"device: {run.device}" + ("; trained on SYNTHETIC digits" if mnist.synthetic else ""))
    print(f"projector files in {logdir}: metadata.tsv ({image_num} labels), sprite.png "
          f"({side}x{side} thumbnails), projector_config.pbtxt, {os.path.basename(checkpoint_path)}.*")
    print("open it (then PROJECTOR; 'Color by' label):")
    print(f"tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
