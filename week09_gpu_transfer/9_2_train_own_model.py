"""Lesson 9-2-train 训练自己的模型 — Train your own model from the TFRecord shards.

本课是 9-2 的后半：用上一课写出的 TFRecord 分片从头训练自己的分类模型。视频用 TF-slim 的
train_image_classifier.py 训练 Inception-v3（batch 10，10000 步）；这里用 tf.data 读分片（交错读、
并行解码、打乱、分批、预取）和一个 tf.function 训练步，损失在 logits 上计算。默认是在 CPU 上几分钟
就能训练好的小 CNN，--arch inception_v3 是视频里的网络（需要 GPU）。训练前每个分片都被完整读一遍：
损坏、被截断或别的程序写的分片会被指出来。

Prints slim's log line every 10 steps, and the test accuracy at the end:
    global step 100: loss = 1.5432 (0.612 sec/step)   (the format; numbers vary)
    Test accuracy = 1.0000 (N=500)                    (our run on the drawn shapes, README)
Checkpoints go to <run folder>/train_dir; with --out <that folder> a new run goes on from them.
Run:
    python week09_gpu_transfer/9_2_train_own_model.py [--quick]      # 9-2's newest shards
    python week09_gpu_transfer/9_2_train_own_model.py --arch inception_v3 --image-size 299 \\
        --batch-size 10 --lr 0.01 --steps 10000                     # the lesson (use a GPU)

Differences from the course code (TF 1.x + TF-slim): tf.data, a tf.function step and a
CheckpointManager replace slim's queue runners and train loop (its flags, --dataset_dir,
--model_name, --max_number_of_steps, ..., work). Keras's InceptionV3 has no auxiliary head or
weight decay; pictures are resized, not cropped. The small CNN (Adam, 96x96) is new.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import re
import time
from pathlib import Path

CONVERTER = "week09_gpu_transfer/9_2_images_to_tfrecord.py"
parser = tfcourse.parser(__doc__, quick=dict(steps=60, image_size=64))
add = parser.add_argument
add("--data-dir", "--dataset-dir", "--dataset_dir", dest="data_dir", type=tfcourse.folder,
    default=None, metavar="DIR",
    help="folder with the image_{train,test}_*.tfrecord shards and labels.txt "
         "(default: 9-2's newest finished run)")
add("--arch", "--model_name", dest="arch", choices=["small_cnn", "inception_v3"],
    default="small_cnn",
    help="small_cnn (default, minutes on a CPU) or inception_v3 (the lesson, from scratch)")
add("--steps", "--max_number_of_steps", dest="steps", type=tfcourse.positive_int, default=1000,
    help="training steps (lesson: 10000)")
add("--batch-size", "--batch_size", dest="batch_size", type=tfcourse.positive_int, default=32,
    help="pictures per step (lesson: 10)")
add("--lr", "--learning_rate", dest="lr", type=tfcourse.positive_float, default=0.001,
    help="Adam for small_cnn (default 0.001), RMSProp for inception_v3 (the lesson: 0.01)")
add("--image-size", type=tfcourse.number(int, 16, 1024), default=96,
    help="pictures are resized to N x N, 16-1024 (the lesson: 299; inception_v3: 75 or more)")
add("--log-every-n-steps", "--log_every_n_steps", dest="log_every", type=tfcourse.positive_int,
    default=10, help="slim's log line every N steps (default 10)")
add("--save-every", type=tfcourse.positive_int, default=500,
    help="a checkpoint every N steps (and at the end)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick")
if args.arch == "inception_v3" and args.image_size < 75:
    raise tfcourse.CourseError(
        f"--arch inception_v3 needs --image-size 75 or more, not {args.image_size} "
        "(--quick makes it 64).\nRemedy: add --image-size 299 (the lesson's size), or leave out "
        "--arch inception_v3.")
run = tfcourse.start(args, "week09_gpu_transfer/9_2_train_own_model.py")

# %% [markdown]
# ## Data: labels.txt and the shards written by 9-2 (9_2_images_to_tfrecord.py)
# Another program's folder, a damaged labels.txt or shard, each gets one message that names the
# file and the lesson that writes it again.

# %%
data_dir = args.data_dir or tfcourse.latest_run(CONVERTER, need="labels.txt")
remedy = (f"Remedy: run lesson 9-2, python {CONVERTER}, and pass its run folder with "
          "--data-dir DIR (or leave --data-dir out: its newest finished run is used).")
if data_dir is None:
    raise tfcourse.CourseError("No finished run of 9-2 under runs/week09_gpu_transfer/"
                               f"9_2_images_to_tfrecord/: no shards to train on.\n{remedy}")
labels_file = Path(data_dir) / "labels.txt"
try:
    lines = [line for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]
except OSError as error:
    raise tfcourse.CourseError(f"No labels.txt of 9-2 in {data_dir} ({error.strerror}).\n"
                               f"{remedy}") from None
except UnicodeDecodeError:
    raise tfcourse.CourseError(f"{labels_file} is not UTF-8 text: not 9-2's labels.\n"
                               f"{remedy}") from None
labels = {}  # slim's labels file: one "id:name" per line
for line in lines:
    class_id, colon, name = line.partition(":")
    if not colon or not class_id.strip().isdigit():
        raise tfcourse.CourseError(f"{labels_file} holds {line[:60]!r}, not 9-2's 'id:name' "
                                   f"lines.\n{remedy}")
    labels[int(class_id)] = name
if len(labels) < 2 or sorted(labels) != list(range(len(labels))):
    raise tfcourse.CourseError(f"{labels_file} must number two or more classes 0, 1, 2, ...; it "
                               f"holds ids {sorted(labels)[:10]}.\n{remedy}")

train_files = sorted(Path(data_dir).glob("image_train_*-of-*.tfrecord"))
test_files = sorted(Path(data_dir).glob("image_test_*-of-*.tfrecord"))
if not train_files:
    raise tfcourse.CourseError(f"No image_train_*.tfrecord shards in {data_dir}.\n{remedy}")
if (Path(data_dir) / "shapes").is_dir():  # 9-2 --data shapes drew them: the end line says so
    run.synthetic = True
print(f"{len(labels)} classes ({', '.join(labels.values())}); "
      f"{len(train_files)} + {len(test_files)} shards in {data_dir}")

# %% [markdown]
# ## Each shard read whole once before training
# TFRecordDataset checks each record's CRCs, but quietly drops a last record that is cut short:
# so the framed bytes (each record's data + 16 bytes of length and CRCs) must add up to the
# file's size. Every record must also be 9-2's kind, with a label of labels.txt.

# %%
FEATURES = {"image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/class/label": tf.io.FixedLenFeature([], tf.int64)}
counts = {}
for shard in train_files + test_files:
    count = framed = 0
    try:
        for batch in tf.data.TFRecordDataset(str(shard)).batch(256):
            count += int(batch.shape[0])
            framed += int(tf.reduce_sum(tf.strings.length(batch))) + 16 * int(batch.shape[0])
            found = tf.io.parse_example(batch, FEATURES)["image/class/label"].numpy()
            unknown = [label for label in found if label not in labels]
            if unknown:
                raise tfcourse.CourseError(
                    f"{shard} holds label {unknown[0]}, but {labels_file} has {len(labels)} "
                    f"classes: they are not one set.\n{remedy}")
    except tf.errors.DataLossError as error:  # 'corrupted record at N' or 'truncated record at N'
        found = re.search(r"(corrupted|truncated) record at (\d+)", str(error.message))
        where = f"near byte {int(found.group(2)):,}" if found else "somewhere"
        what = "is truncated" if found and found.group(1) == "truncated" else "is damaged"
        raise tfcourse.CourseError(f"The shard {shard} {what} {where} (a record's length or "
                                   f"checksum does not match its bytes).\n{remedy}") from None
    except tf.errors.InvalidArgumentError:  # records without the features: another program's
        raise tfcourse.CourseError(
            f"The records in {shard} are of another kind, not 9-2's tf.train.Examples with "
            f"{' and '.join(FEATURES)}.\n{remedy}") from None
    if framed != shard.stat().st_size:
        raise tfcourse.CourseError(
            f"The shard {shard} is truncated: its {count} whole records end at byte {framed:,} of "
            f"{shard.stat().st_size:,} (an interrupted copy cuts a file short).\n{remedy}")
    counts[shard] = count
if sum(counts[shard] for shard in train_files) == 0:
    raise tfcourse.CourseError(f"The training shards in {data_dir} hold no records.\n{remedy}")

# %% [markdown]
# ## The input pipeline: shards -> (pictures in [-1, 1], labels) batches
# All shards are read at once (interleave), pictures decoded in parallel, shuffled, batched,
# and the next batch prepared while the model trains on this one (prefetch). The parallel steps
# keep their order (tf.data's default), so the same --seed gives the same run.

# %%
def make_dataset(files, batch_size, training):
    def decode(record):
        example = tf.io.parse_single_example(record, FEATURES)
        image = tf.io.decode_image(example["image/encoded"], channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), [args.image_size, args.image_size])
        return image / 127.5 - 1.0, example["image/class/label"]  # -> (size, size, 3), ()

    dataset = tf.data.Dataset.from_tensor_slices([str(f) for f in files]).interleave(
        tf.data.TFRecordDataset, cycle_length=len(files), num_parallel_calls=tf.data.AUTOTUNE)
    if training:
        dataset = dataset.shuffle(1000, seed=args.seed).repeat()
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


train_data = make_dataset(train_files, args.batch_size, training=True)

# %% [markdown]
# ## Model: it returns logits (the softmax is only for probabilities, not inside the loss)

# %%
size = args.image_size
if args.arch == "inception_v3":  # the lesson's network, from scratch
    model = tf.keras.applications.InceptionV3(weights=None, classes=len(labels),
                                              classifier_activation=None,
                                              input_shape=(size, size, 3))
else:
    model = tf.keras.Sequential([
        tf.keras.Input((size, size, 3)),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),   # -> (96, 96, 32)
        tf.keras.layers.MaxPooling2D(2),                                    # -> (48, 48, 32)
        tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu"),   # -> (48, 48, 64)
        tf.keras.layers.MaxPooling2D(2),                                    # -> (24, 24, 64)
        tf.keras.layers.Conv2D(128, 3, padding="same", activation="relu"),  # -> (24, 24, 128)
        tf.keras.layers.GlobalAveragePooling2D(),                           # -> (128,)
        tf.keras.layers.Dropout(0.3),
        tf.keras.layers.Dense(len(labels)),                                 # -> logits
    ], name="small_cnn")

# %% [markdown]
# ## Loss and optimizer
# Cross-entropy on the logits; slim's RMSProp settings for Inception-v3, Adam for the small CNN.

# %%
if args.arch == "inception_v3":
    optimizer = tf.keras.optimizers.RMSprop(args.lr, rho=0.9, momentum=0.9, epsilon=1.0)
else:
    optimizer = tf.keras.optimizers.Adam(args.lr)


@tf.function
def train_step(images, labels_batch):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels_batch, logits=logits))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss

# %% [markdown]
# ## Checkpoints: go on where the last run in this folder (--out) stopped, if it is this model's

# %%
global_step = optimizer.iterations  # slim's global step: Keras counts the optimizer's steps
checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
manager = tf.train.CheckpointManager(checkpoint, run.path("train_dir"), max_to_keep=3)
if manager.latest_checkpoint:  # every variable of this model must be in the file, its shape too
    try:
        status = checkpoint.restore(manager.latest_checkpoint)
        status.expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError):
        raise tfcourse.CourseError(
            f"{manager.latest_checkpoint} is not a checkpoint of this {args.arch} for "
            f"{len(labels)} classes.\nRemedy: leave out --out (a new run folder).") from None
    print(f"Restored {manager.latest_checkpoint} (global step {int(global_step)})")

# %% [markdown]
# ## Training: slim's log line every --log-every-n-steps steps
# sec/step is measured over the steps since the last line (the last interval may be shorter).

# %%
last_step, last_time = int(global_step), time.perf_counter()
for images, labels_batch in train_data.take(max(0, args.steps - int(global_step))):
    loss = train_step(images, labels_batch)
    step = int(global_step)
    if step % args.log_every == 0 or step == args.steps:
        now = time.perf_counter()
        print("global step %d: loss = %.4f (%.3f sec/step)"
              % (step, loss, (now - last_time) / (step - last_step)), flush=True)
        last_step, last_time = step, now
        run.check_finite(loss, f"global step {step}")
        run.log(step=step, loss=loss)
    if step % args.save_every == 0:
        manager.save(checkpoint_number=step)
print(f"Saved {manager.save(checkpoint_number=int(global_step))}")

# %% [markdown]
# ## Evaluation on the test shards, which training never saw

# %%
test_data = make_dataset(test_files, 100, training=False) if test_files else []
correct = total = 0
for images, labels_batch in test_data:
    correct_prediction = tf.argmax(model(images, training=False), axis=1) == labels_batch
    correct += int(tf.reduce_sum(tf.cast(correct_prediction, tf.int32)))
    total += int(tf.size(correct_prediction))
test_accuracy = correct / max(total, 1)  # N=0: 9-2 wrote no test set (--num-test 0)
print("Test accuracy = %.4f (N=%d)" % (test_accuracy, total))
run.finish(test_accuracy=test_accuracy)
