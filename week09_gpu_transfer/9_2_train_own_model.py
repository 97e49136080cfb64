"""Lesson 9-2-train 训练自己的模型 — Train your own model from the TFRecord shards.

本课是 9-2 的后半：用上一课写出的 TFRecord 分片从头训练自己的分类模型。视频用 TF-slim 的
train_image_classifier.py 训练 Inception-v3（batch 10，10000 步）；这里用 tf.data 读分片（交错读、
并行解码、打乱、分批、预取）和一个 tf.function 训练步，损失在 logits 上计算。默认是在 CPU 上几分钟
就能训练好的小 CNN，--arch inception_v3 是视频里的网络（需要 GPU）。

Prints slim's log line every 10 steps, and the test accuracy at the end:
    global step 100: loss = 1.5432 (0.612 sec/step)   (the format; numbers vary)
    Test accuracy = 1.0000 (N=500)                    (our run on the drawn shapes, README)
Every shard is checked whole first (a damaged or cut one is named). Checkpoints go to
<run folder>/train_dir; with --out <that folder> a new run goes on from them. Run:
    python week09_gpu_transfer/9_2_train_own_model.py [--quick]      # 9-2's newest shards
    python week09_gpu_transfer/9_2_train_own_model.py --arch inception_v3 --image-size 299 \\
        --batch-size 10 --lr 0.01 --steps 10000                     # the lesson (use a GPU)

Differences from the course code (TF 1.x + TF-slim): tf.data, a tf.function step and a
CheckpointManager replace slim's queue runners and train loop (its flags, --dataset_dir,
--model_name, --max_number_of_steps, ..., work). Keras's InceptionV3 has no auxiliary head or
weight decay; pictures are resized, not cropped. The small CNN (Adam, 96x96) is new.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import time
from pathlib import Path

from _images import read_shards  # this week's shared helper, beside the lessons

CONVERTER = "week09_gpu_transfer/9_2_images_to_tfrecord.py"
FEATURES = {"image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/class/label": tf.io.FixedLenFeature([], tf.int64)}
parser = tfcourse.make_parser(__doc__, quick=dict(steps=60, image_size=64))
add = parser.add_argument
add("--data-dir", "--dataset-dir", "--dataset_dir", dest="data_dir", type=Path, default=None, metavar="DIR",
    help="folder with the image_{train,test}_*.tfrecord shards and labels.txt (default: 9-2's newest run)")
add("--arch", "--model_name", dest="arch", choices=["small_cnn", "inception_v3"], default="small_cnn",
    help="small_cnn (default, minutes on a CPU) or inception_v3 (the lesson, from scratch)")
add("--steps", "--max_number_of_steps", dest="steps", type=tfcourse.positive_int, default=1000, help="lesson: 10000")
add("--batch-size", "--batch_size", dest="batch_size", type=tfcourse.positive_int, default=32, help="lesson: 10")
add("--lr", "--learning_rate", dest="lr", type=tfcourse.positive_float, default=0.001,
    help="Adam for small_cnn (default 0.001), RMSProp for inception_v3 (slim, the lesson: 0.01)")
add("--image-size", type=tfcourse.positive_int, default=96, help="the lesson: 299 (inception_v3: 75+)")
add("--log-every-n-steps", "--log_every_n_steps", dest="log_every", type=tfcourse.positive_int, default=10)
add("--save-every", type=tfcourse.positive_int, default=500, help="checkpoint every N steps (and at the end)")


def make_dataset(files, image_size, batch_size, training, seed):
    """Shards -> (images in [-1, 1], labels) batches, reading and decoding in parallel."""
    def decode(record):
        example = tf.io.parse_single_example(record, FEATURES)
        image = tf.io.decode_image(example["image/encoded"], channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), [image_size, image_size])  # -> (size, size, 3)
        return image / 127.5 - 1.0, example["image/class/label"]

    dataset = tf.data.Dataset.from_tensor_slices([str(f) for f in files]).interleave(  # all shards at once
        tf.data.TFRecordDataset, len(files), num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)
    if training:
        dataset = dataset.shuffle(1000, seed=seed).repeat()
    return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build_model(arch, num_classes, image_size):
    """The network; it returns logits (softmax only for probabilities, not inside the loss)."""
    if arch == "inception_v3":
        return tf.keras.applications.InceptionV3(weights=None, classes=num_classes, classifier_activation=None,
                                                 input_shape=(image_size, image_size, 3))
    return tf.keras.Sequential([
        tf.keras.Input((image_size, image_size, 3)),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),    # -> (96, 96, 32)
        tf.keras.layers.MaxPooling2D(2),                                     # -> (48, 48, 32)
        tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu"),    # -> (48, 48, 64)
        tf.keras.layers.MaxPooling2D(2),                                     # -> (24, 24, 64)
        tf.keras.layers.Conv2D(128, 3, padding="same", activation="relu"),   # -> (24, 24, 128)
        tf.keras.layers.GlobalAveragePooling2D(),                            # -> (128,)
        tf.keras.layers.Dropout(0.3),
        tf.keras.layers.Dense(num_classes),                                  # -> logits
    ], name="small_cnn")


def main(argv=None):
    args = parser.parse_args(argv)
    if args.arch == "inception_v3" and args.image_size < 75:
        parser.error(f"--arch inception_v3 needs --image-size 75 or more, not {args.image_size} (--quick makes it 64)")
    run = tfcourse.setup(args, __file__)

    # ## Data: the shards and labels.txt written by 9_2_images_to_tfrecord.py, checked whole
    data_dir = args.data_dir or tfcourse.latest_run(CONVERTER, need="labels.txt")
    labels, train_files, test_files = read_shards(data_dir, FEATURES, CONVERTER)  # {id: name}, [Path], [Path]
    if (Path(data_dir) / "shapes").is_dir():  # 9-2 --data shapes drew them: the end line says SYNTHETIC
        run.synthetic = True
    train_data = make_dataset(train_files, args.image_size, args.batch_size, training=True, seed=args.seed)

    # ## Model, loss, optimizer (slim's RMSProp settings for Inception-v3, Adam for the small CNN)
    model = build_model(args.arch, len(labels), args.image_size)
    optimizer = (tf.keras.optimizers.RMSprop(args.lr, rho=0.9, momentum=0.9, epsilon=1.0)
                 if args.arch == "inception_v3" else tf.keras.optimizers.Adam(args.lr))

    # ## Checkpoints: go on where the last run in this folder (--out) stopped, if it is this model's
    global_step = optimizer.iterations  # slim's global step: Keras counts the optimizer's steps
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    manager = tf.train.CheckpointManager(checkpoint, run.path("train_dir"), max_to_keep=3)
    if manager.latest_checkpoint:  # every variable of this model must be in the file, with its shape
        try:
            checkpoint.restore(manager.latest_checkpoint).expect_partial().assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError):
            raise tfcourse.CourseError(f"{manager.latest_checkpoint} is not a checkpoint of this {args.arch} for "
                                       f"{len(labels)} classes.\nRemedy: leave out --out (a new run folder).") from None
        print(f"Restored {manager.latest_checkpoint} (global step {int(global_step)})")

    @tf.function
    def train_step(images, labels_batch):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels_batch, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    # ## Training: slim's log line every --log-every-n-steps steps
    started = time.perf_counter()
    for images, labels_batch in train_data.take(max(0, args.steps - int(global_step))):
        loss = train_step(images, labels_batch)
        step = int(global_step)
        if step % args.log_every == 0 or step == args.steps:
            seconds, started = time.perf_counter() - started, time.perf_counter()
            print("global step %d: loss = %.4f (%.3f sec/step)" % (step, loss, seconds / args.log_every), flush=True)
            run.check_finite(loss, f"global step {step}")
            run.record(step=step, loss=loss)
        if step % args.save_every == 0:
            manager.save(checkpoint_number=step)
    print(f"Saved {manager.save(checkpoint_number=int(global_step))}")

    # ## Evaluation on the test shards
    test_data = make_dataset(test_files, args.image_size, 100, training=False, seed=args.seed)
    correct = total = 0
    for images, labels_batch in test_data:
        correct_prediction = tf.argmax(model(images, training=False), axis=1) == labels_batch
        correct += int(tf.reduce_sum(tf.cast(correct_prediction, tf.int32)))
        total += int(tf.size(correct_prediction))
    test_accuracy = correct / max(total, 1)  # N=0: 9-2 wrote no test set (--num-test 0)
    print("Test accuracy = %.4f (N=%d)" % (test_accuracy, total))
    run.finish(test_accuracy=test_accuracy)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
