"""Lesson 9-2-train 训练自己的模型 — Train your own model from the TFRecord shards.

The second half of lesson 9-2: the lesson trains Inception-v3 from scratch on the shards written
by `9_2_images_to_tfrecord.py`, with TF-slim's train_image_classifier.py (batch 10, 10000 steps),
which logs

    global step 100: loss = 1.5432 (0.612 sec/step)

Here the shards are read with `tf.data`: the shard files are interleaved, records are decoded in
parallel, shuffled, batched and prefetched, so the CPU prepares the next batch while the model
trains. Two models:
  - `--model small_cnn` (default): three conv layers on 96x96 pictures, trains on a CPU in minutes;
  - `--model inception_v3`: Keras's InceptionV3 with random weights on 299x299 (the lesson; slim's
    RMSProp, lr 0.01, batch 10, 10000 steps: hours on a CPU, use a GPU).
Checkpoints go to `<run folder>/train_dir` every --save-every steps and at the end; a new run
continues from the last one. At the end the test shards are evaluated: `Test accuracy = 0.9312 (N=500)`.

Run:
    python week09_gpu_transfer/9_2_train_own_model.py                        # small CNN
    python week09_gpu_transfer/9_2_train_own_model.py --model inception_v3   # the lesson (GPU!)
    python week09_gpu_transfer/9_2_train_own_model.py --dataset-dir DIR --quick

Differences from the course code (TensorFlow 1.x + TF-slim):
  - slim's queue runners and `slim.learning.train` are gone: `tf.data` + a `tf.function` train
    step + `tf.train.CheckpointManager` do the same job; the loss is computed on the logits.
  - slim's Inception-v3 had an auxiliary head and weight decay 4e-5; Keras's InceptionV3 has
    neither (its batch normalisation is the same). Pictures are resized, not cropped or flipped.
  - The small CNN is new: it lets a learner without a GPU see the whole pipeline work.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import time
from pathlib import Path

from tfcourse.cli import default_run_folder

CONVERTER_OUT = default_run_folder(Path(__file__).with_name("9_2_images_to_tfrecord.py"))
MODELS = {  # image size, batch size, steps, what to build
    "small_cnn": dict(image_size=96, batch_size=32, steps=1000),
    "inception_v3": dict(image_size=299, batch_size=10, steps=10000),
}

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--dataset-dir", type=Path, default=CONVERTER_OUT,
                    help="folder with the image_{train,test}_*.tfrecord shards and labels.txt "
                         "(default: 9_2_images_to_tfrecord.py's run folder)")
parser.add_argument("--model", choices=sorted(MODELS), default="small_cnn",
                    help="small_cnn (default, minutes on a CPU) or inception_v3 (the lesson, from scratch)")
parser.add_argument("--batch-size", type=int, default=None, help="small_cnn: 32; inception_v3: 10 (lesson)")
parser.add_argument("--steps", type=int, default=None, help="training steps; small_cnn: 1000; inception_v3: 10000 (lesson)")
parser.add_argument("--learning-rate", type=float, default=None, help="small_cnn: Adam 0.001; inception_v3: RMSProp 0.01 (slim)")
parser.add_argument("--log-every-n-steps", type=int, default=10, help="slim's default: 10")
parser.add_argument("--save-every", type=int, default=500, help="checkpoint every N steps (and at the end)")


def read_labels(dataset_dir):
    path = dataset_dir / "labels.txt"
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return {int(i): name for i, _, name in (line.partition(":") for line in lines)}
    except OSError:
        raise tfcourse.CourseError(f"No labels.txt in {dataset_dir}.\nRemedy: run "
                                   "week09_gpu_transfer/9_2_images_to_tfrecord.py first, or pass --dataset-dir.") from None
    except ValueError:
        raise tfcourse.CourseError(f"{path} is not a list of 'id:name' lines.") from None


def make_dataset(files, image_size, batch_size, training, seed):
    """Shards -> (images in [-1, 1], labels) batches, reading and decoding in parallel."""
    features = {"image/encoded": tf.io.FixedLenFeature([], tf.string),
                "image/format": tf.io.FixedLenFeature([], tf.string, default_value="jpg"),
                "image/class/label": tf.io.FixedLenFeature([], tf.int64)}

    def decode(record):
        example = tf.io.parse_single_example(record, features)
        image = tf.io.decode_image(example["image/encoded"], channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), [image_size, image_size])  # -> (size, size, 3)
        return image / 127.5 - 1.0, example["image/class/label"]

    dataset = tf.data.Dataset.from_tensor_slices([str(f) for f in files])
    if training:
        dataset = dataset.shuffle(len(files), seed=seed)
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=len(files),
                                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)
    if training:
        dataset = dataset.shuffle(1000, seed=seed).repeat()
    return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build_model(name, num_classes, image_size):
    """The network; it returns logits (softmax only for probabilities, not inside the loss)."""
    if name == "inception_v3":
        return tf.keras.applications.InceptionV3(weights=None, classes=num_classes, classifier_activation=None,
                                                 input_shape=(image_size, image_size, 3))
    layers = tf.keras.layers
    return tf.keras.Sequential([
        tf.keras.Input((image_size, image_size, 3)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),    # -> (96, 96, 32)
        layers.MaxPooling2D(2),                                     # -> (48, 48, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu"),    # -> (48, 48, 64)
        layers.MaxPooling2D(2),                                     # -> (24, 24, 64)
        layers.Conv2D(128, 3, padding="same", activation="relu"),   # -> (24, 24, 128)
        layers.GlobalAveragePooling2D(),                            # -> (128,)
        layers.Dropout(0.3),
        layers.Dense(num_classes),                                  # -> logits
    ], name="small_cnn")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    config = MODELS[args.model]
    batch_size = args.batch_size or config["batch_size"]
    steps = args.steps or (60 if args.quick else config["steps"])
    image_size = 64 if args.quick and args.model == "small_cnn" else config["image_size"]

    # ## Data: the shards and labels.txt written by 9_2_images_to_tfrecord.py
    labels = read_labels(args.dataset_dir)
    train_files = sorted(args.dataset_dir.glob("image_train_*-of-*.tfrecord"))
    test_files = sorted(args.dataset_dir.glob("image_test_*-of-*.tfrecord"))
    if not train_files:
        raise tfcourse.CourseError(f"No image_train_*.tfrecord shards in {args.dataset_dir}.\n"
                                   "Remedy: run week09_gpu_transfer/9_2_images_to_tfrecord.py first.")
    print(f"{len(labels)} classes ({', '.join(labels.values())}); {len(train_files)} training and "
          f"{len(test_files)} test shards in {args.dataset_dir}")
    train_data = make_dataset(train_files, image_size, batch_size, training=True, seed=args.seed)

    # ## Model, loss, optimizer (slim's RMSProp settings for Inception-v3, Adam for the small CNN)
    model = build_model(args.model, len(labels), image_size)
    if args.model == "inception_v3":
        optimizer = tf.keras.optimizers.RMSprop(args.learning_rate or 0.01, rho=0.9, momentum=0.9, epsilon=1.0)
    else:
        optimizer = tf.keras.optimizers.Adam(args.learning_rate or 0.001)
    global_step = tf.Variable(0, dtype=tf.int64, name="global_step")

    # ## Checkpoints: continue where the last run stopped
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, global_step=global_step)
    manager = tf.train.CheckpointManager(checkpoint, run.path("train_dir"), max_to_keep=3)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        print(f"Restored {manager.latest_checkpoint} (global step {int(global_step)})")

    @tf.function
    def train_step(images, labels_batch):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels_batch, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        global_step.assign_add(1)
        return loss

    # ## Training: slim's log line every --log-every-n-steps steps
    batches = iter(train_data)
    start = time.perf_counter()
    last = (int(global_step), start)
    while int(global_step) < steps:
        images, labels_batch = next(batches)
        loss = train_step(images, labels_batch)
        step = int(global_step)
        if step % args.log_every_n_steps == 0 or step == steps:
            now = time.perf_counter()
            print("global step %d: loss = %.4f (%.3f sec/step)" % (step, float(loss), (now - last[1]) / max(step - last[0], 1)),
                  flush=True)
            last = (step, now)
        if step % args.save_every == 0:
            manager.save(checkpoint_number=step)
    path = manager.save(checkpoint_number=int(global_step))
    print(f"Saved {path}")

    # ## Evaluation on the test shards
    correct = total = 0
    for images, labels_batch in make_dataset(test_files, image_size, 100, training=False, seed=args.seed):
        predictions = tf.argmax(model(images, training=False), axis=1)
        correct += int(tf.reduce_sum(tf.cast(predictions == labels_batch, tf.int32)))
        total += int(tf.size(labels_batch))
    if total:
        print("Test accuracy = %.4f (N=%d)" % (correct / total, total))
    else:
        print("Test accuracy: no test pictures (the shards were written with --num-test 0)")
    print(f"{args.model} on {image_size}x{image_size}, batch {batch_size}, {steps} steps in "
          f"{time.perf_counter() - start:.1f} s; device: {run.device}")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
