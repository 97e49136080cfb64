"""Lesson 10-3 验证码识别（训练） — Train a four-headed network to read captchas.

本课是多任务学习：一个网络读整张验证码，四个输出头各判断一个位置上的数字（0-9），它们共享
下面所有的层。损失是四个 softmax 交叉熵的平均；Adam 学习率 0.003，每 2000 步除以 3，共 6001 步。
与视频的不同：用 tf.data 代替队列（shuffle_batch），Keras 层代替 slim；默认网络是在 CPU 上几分钟
就能训练好的小 CNN（--arch alexnet_v2 是视频里的 AlexNet-v2，需要 GPU）；视频在第 0 步就已把
学习率除以 3（实际从 0.001 开始），这里前 2000 步用 0.003。训练完把整个模型存成 model.keras，
10-4 直接载入。

Every 20 steps it prints, as the video (accuracies of the current batch, one per character):
    Iter:6000  Loss:0.020  Accuracy:1.00,1.00,0.96,1.00  Learning_rate:0.0001   (teacher's run)

Run:
    python week10_captcha_tfrecord/10_3_train.py                     # small CNN, 6001 steps
    python week10_captcha_tfrecord/10_3_train.py --arch alexnet_v2   # the lesson's network (GPU)
    python week10_captcha_tfrecord/10_3_train.py --head single40     # week-11 homework: 40 outputs
    python week10_captcha_tfrecord/10_3_train.py --quick             # 101 steps, 24x48 pictures

It keeps checkpoints in its run folder and goes on from the last one when run again with
--out <that folder>; at the end it saves model.keras, which 10_4_test.py loads.

--arch cnn (default): four 3x3 conv + batch-norm + max-pool blocks and a batch-normed dense layer
of 256 under the four heads, on 48x96 pictures. --arch alexnet_v2: slim's alexnet_v2 as in the
lesson (224x224, fc6/fc7 of 4096, its fc8 replaced by the four heads).

Differences from the course code:
  - tf.data instead of the TF1 queue runners; Keras layers instead of slim's nets_factory; a
    tf.function training step instead of Session.run; tf.train.Checkpoint instead of Saver, and
    the trained model saved whole as model.keras for 10-4.
  - The loss works on the logits; the batch accuracy comes from the training step's own logits
    (dropout on) instead of a second forward pass with keep_prob 1.0.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import argparse
import json
import re
import shlex
import shutil
import sys

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week10_captcha_tfrecord"))  # also in a notebook
import _captcha  # this week's plumbing, beside the lessons: finding 10-2's run, checking files


def picture_size(text):
    """--input-size HxW: each side 16 (the cnn halves it four times) to 224 (the records')."""
    found = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not found or not all(16 <= int(side) <= 224 for side in found.groups()):
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH, each 16 to 224, got {text!r}")
    return int(found.group(1)), int(found.group(2))


parser = tfcourse.parser(__doc__, steps=6001, lr=0.003, quick=dict(steps=101))
parser.add_argument("--batch-size", type=tfcourse.number(int, 1, 1000), default=25,
                    help="captchas per step, 1 to 1000 (lesson: 25)")
parser.add_argument("--arch", choices=["cnn", "alexnet_v2"], default="cnn",
                    help="cnn: a small CNN, fast on a CPU (default); "
                         "alexnet_v2: the lesson's network")
parser.add_argument("--head", choices=["four", "single40"], default="four",
                    help="four softmax heads (lesson) or one layer of 40 sigmoid outputs "
                         "(week-11 homework)")
parser.add_argument("--input-size", type=picture_size, default=None, metavar="HxW",
                    help="network input, each side 16-224 (default: 48x96 for cnn, 24x48 with "
                         "--quick; alexnet_v2 takes 224x224 only)")
parser.add_argument("--data-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="folder with train.tfrecords and test.tfrecords "
                         "(default: the newest run of 10-2)")
parser.add_argument("--decay-every", type=tfcourse.positive_int, default=2000,
                    help="divide the rate by 3 this often (lesson: 2000)")
parser.add_argument("--save-every", type=tfcourse.positive_int, default=500,
                    help="checkpoint every N steps (default 500)")
parser.add_argument("--restart", action="store_true",
                    help="delete the run folder's checkpoints and start over")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick")

if args.arch == "alexnet_v2":
    input_size = args.input_size or (224, 224)
    if input_size != (224, 224):
        raise tfcourse.CourseError(f"--arch alexnet_v2 takes 224x224 pictures, not "
                                   f"{input_size[0]}x{input_size[1]} (its layers are sized for "
                                   "them).\nRemedy: leave out --input-size, or use --arch cnn.")
else:
    input_size = args.input_size or ((24, 48) if args.quick else (48, 96))
run = tfcourse.start(args, "week10_captcha_tfrecord/10_3_train.py")

# %% [markdown]
# ## Data: 10-2's TFRecords
# Both files are read through once first: a damaged, cut or foreign file stops here with its
# name, not after hours of training.

# %%
folder = _captcha.input_folder(args.data_dir, "10-2", "train.tfrecords", "--data-dir")
train_file, test_file = folder / "train.tfrecords", folder / "test.tfrecords"
FEATURES = {"image": tf.io.FixedLenFeature([], tf.string),  # 224*224 raw bytes
            "label0": tf.io.FixedLenFeature([], tf.int64),
            "label1": tf.io.FixedLenFeature([], tf.int64),
            "label2": tf.io.FixedLenFeature([], tf.int64),
            "label3": tf.io.FixedLenFeature([], tf.int64)}
n_train = _captcha.check_records(train_file, FEATURES)
n_test = _captcha.check_records(test_file, FEATURES)
print(f"{folder}: {n_train} captchas for training, {n_test} for testing; "
      f"input {input_size[0]}x{input_size[1]}")

# %% [markdown]
# ## The parsing pipeline
# Records -> shuffle -> batches of 25 -> parse a whole batch at once (tf.io.parse_example is
# vectorised: several times faster than record by record), in parallel, prefetched. Pixels are
# scaled to [-1, 1] as in the lesson, then resized to the network's input.

# %%
def parse_batch(records):
    features = tf.io.parse_example(records, FEATURES)
    image = tf.io.decode_raw(features["image"], tf.uint8)          # -> (batch, 50176)
    image = tf.reshape(image, [-1, 224, 224, 1])                   # -> (batch, 224, 224, 1)
    x = (tf.cast(image, tf.float32) / 255.0 - 0.5) * 2.0           # [0, 255] -> [-1, 1]
    if input_size != (224, 224):
        x = tf.image.resize(x, input_size, antialias=True)         # -> (batch, 48, 96, 1)
    labels = tf.stack([features[f"label{i}"] for i in range(4)], axis=1)
    return x, tf.cast(labels, tf.int32)                            # labels -> (batch, 4)


train_data = (tf.data.TFRecordDataset(str(train_file), buffer_size=8 << 20)
              .repeat()
              .shuffle(min(n_train, 2000), seed=args.seed)
              .batch(args.batch_size)
              .map(parse_batch, num_parallel_calls=tf.data.AUTOTUNE)
              .prefetch(tf.data.AUTOTUNE))
x, y = next(iter(train_data))
print("one batch:", x.shape, "pixels in", [round(float(tf.reduce_min(x)), 2),
                                           round(float(tf.reduce_max(x)), 2)], "labels", y.shape)

# %% [markdown]
# ## Model: a shared trunk, four heads
# Every layer below the heads is shared; each head reads one position's digit. The logits of
# the four heads are stacked to (batch, 4, 10). `--head single40` is one layer of 40 instead.

# %%
def cnn_trunk(x):
    """A small CNN with batch normalisation; reads captchas well after minutes on a CPU."""
    for filters in (32, 48, 64, 96):                                # (48, 96, 1) ->
        x = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)  # 0.9: test-ready in ~50 steps
        x = tf.keras.layers.ReLU()(x)
        x = tf.keras.layers.MaxPooling2D(2)(x)                      # -> (24, 48) ... (3, 6)
    x = tf.keras.layers.Flatten()(x)                                # -> (1728,)
    x = tf.keras.layers.Dropout(0.2)(x)
    # Batch norm here too: without it this layer sat at chance (loss 2.30) for 400+ steps at
    # Adam 0.003; with it the loss falls from the first hundred steps.
    x = tf.keras.layers.Dense(256, use_bias=False)(x)               # -> (256,)
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
    x = tf.keras.layers.ReLU()(x)
    return tf.keras.layers.Dropout(0.2)(x)


def alexnet_v2_trunk(x):
    """slim's alexnet_v2 up to fc7 (the lesson's nets/alexnet.py); fc layers as convolutions."""
    init = tf.keras.initializers.TruncatedNormal(stddev=0.005)

    def conv(filters, kernel, strides=1, padding="same"):
        return tf.keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding,
                                      activation="relu", kernel_initializer=init,
                                      bias_initializer=tf.keras.initializers.Constant(0.1))

    x = conv(64, 11, strides=4, padding="valid")(x)                 # -> (54, 54, 64)
    x = tf.keras.layers.MaxPooling2D(3, 2)(x)                       # -> (26, 26, 64)
    x = conv(192, 5)(x)
    x = tf.keras.layers.MaxPooling2D(3, 2)(x)                       # -> (12, 12, 192)
    x = conv(384, 3)(x)
    x = conv(384, 3)(x)
    x = conv(256, 3)(x)
    x = tf.keras.layers.MaxPooling2D(3, 2)(x)                       # -> (5, 5, 256)
    x = conv(4096, 5, padding="valid")(x)                           # fc6 -> (1, 1, 4096)
    x = tf.keras.layers.Dropout(0.5)(x)
    x = conv(4096, 1)(x)                                            # fc7 -> (1, 1, 4096)
    x = tf.keras.layers.Dropout(0.5)(x)
    return tf.keras.layers.Flatten()(x)                             # -> (4096,)


inputs = tf.keras.Input(shape=input_size + (1,), name="x")
trunk = cnn_trunk(inputs) if args.arch == "cnn" else alexnet_v2_trunk(inputs)
if args.head == "four":
    heads = [tf.keras.layers.Dense(10, name=f"logits{i}")(trunk) for i in range(4)]  # 4 x (10,)
    logits = tf.keras.layers.Concatenate(name="four_heads")(heads)                  # -> (40,)
else:
    logits = tf.keras.layers.Dense(40, name="logits40")(trunk)                      # -> (40,)
logits = tf.keras.layers.Reshape((4, 10), name="logits")(logits)  # -> (4, 10): head i is row i
model = tf.keras.Model(inputs, logits, name=f"{args.arch}_{args.head}")
print(f"model {model.name}: {model.count_params():,} weights; device: {run.device}")

# %% [markdown]
# ## Loss and optimizer
# Four heads: the mean of four softmax cross-entropies, one per position. One layer of 40: a
# sigmoid cross-entropy on each of the 40 outputs (the week-11 homework). Both on the logits.

# %%
def loss_fn(y, logits):
    if args.head == "four":
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    return tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.one_hot(y, 10), logits=logits))


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

# %% [markdown]
# ## Checkpoints
# Run again with `--out <this run folder>` and training goes on from the last checkpoint, if it
# is this network's (model.json beside it says which network it is).

# %%
config = {"arch": args.arch, "head": args.head, "input_size": list(input_size)}
ckpt_dir = run.out / "checkpoints"
if args.restart:
    shutil.rmtree(ckpt_dir, ignore_errors=True)
step = tf.Variable(0, dtype=tf.int64, name="step")
checkpoint = tf.train.Checkpoint(step=step, model=model, optimizer=optimizer)
manager = tf.train.CheckpointManager(checkpoint, ckpt_dir, max_to_keep=3)
if manager.latest_checkpoint:
    remedy = f"Remedy: add --restart to start over in {run.out}, or leave out --out."
    try:
        saved = json.loads((run.out / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise tfcourse.CourseError(f"The checkpoints in {ckpt_dir} have no readable model.json "
                                   f"beside them ({error}).\n{remedy}") from None
    if saved != config:
        raise tfcourse.CourseError(f"The checkpoints in {ckpt_dir} belong to another network "
                                   f"({saved}), not {config}.\n{remedy}")
    try:  # every variable of the model must come from the file, not only some
        checkpoint.restore(manager.latest_checkpoint).expect_partial() \
            .assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError):
        try:  # say what the file holds instead
            held = [f"{name.replace('/.ATTRIBUTES/VARIABLE_VALUE', '')} {tuple(shape)}"
                    for name, shape in tf.train.list_variables(manager.latest_checkpoint)
                    if name.endswith("VARIABLE_VALUE") and not name.startswith("save_counter")]
            held = f"{len(held)} variables: " + ", ".join(held[:4]) + " ..." * (len(held) > 4)
        except (ValueError, tf.errors.OpError):
            held = "something that cannot be read as a checkpoint (damaged?)"
        raise tfcourse.CourseError(
            f"The checkpoint {manager.latest_checkpoint} is not one of the network {model.name} "
            f"({len(model.variables)} variables): it holds {held}.\n{remedy}") from None
    print(f"resumed from {manager.latest_checkpoint} at step {int(step)}")
tfcourse.atomic_write(run.out / "model.json", json.dumps(config))
print(f"training {model.name} from step {int(step)} to {args.steps}")

# %% [markdown]
# ## Training
# The rate is 0.003 / 3^(step // 2000). Every 20 steps the teacher's line with the batch's
# accuracy per position. Ctrl-C or `kill` saves a checkpoint first.

# %%
@tf.function
def train_step(x, y):  # x (batch, h, w, 1), y (batch, 4) digits
    with tf.GradientTape() as tape:
        logits = model(x, training=True)  # -> (batch, 4, 10)
        loss = loss_fn(y, logits)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    correct = tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y)
    return loss, tf.reduce_mean(tf.cast(correct, tf.float32), axis=0)  # accuracy per position


batches = iter(train_data)
try:
    for i in range(int(step), args.steps):
        learning_rate = args.lr / 3 ** (i // args.decay_every)
        optimizer.learning_rate.assign(learning_rate)
        x, y = next(batches)
        loss, acc = train_step(x, y)
        step.assign(i + 1)
        if i % 20 == 0:
            a = acc.numpy()
            print("Iter:%d  Loss:%.3f  Accuracy:%.2f,%.2f,%.2f,%.2f  Learning_rate:%.4f"
                  % (i, float(loss), a[0], a[1], a[2], a[3], learning_rate), flush=True)
            run.check_finite(loss, f"step {i}")
            run.log(step=i, loss=loss, batch_accuracy=float(a.mean()),
                    learning_rate=learning_rate)
        if (i + 1) % args.save_every == 0:
            manager.save(checkpoint_number=i + 1)
except KeyboardInterrupt:
    print(f"saved {manager.save(checkpoint_number=int(step))}; go on with "
          f"--out {shlex.quote(str(run.out))}")
    raise
print(f"checkpoint: {manager.save(checkpoint_number=int(step))}")
with tfcourse.atomic_path(run.out / "model.keras") as tmp:  # the whole model, for 10-4
    model.save(tmp)

# %% [markdown]
# ## Evaluation on test.tfrecords
# Per position, and whole captchas (all four digits right).

# %%
test_data = tf.data.TFRecordDataset(str(test_file)).batch(100).map(parse_batch)
hits = []
for x, y in test_data:
    digits = tf.argmax(model(x, training=False), -1, output_type=tf.int32)  # -> (batch, 4)
    hits.append(tf.equal(digits, y))
hits = tf.concat(hits, axis=0)
per_char = tf.reduce_mean(tf.cast(hits, tf.float32), axis=0).numpy()
whole = float(tf.reduce_mean(tf.cast(tf.reduce_all(hits, axis=1), tf.float32)))
print(f"test ({hits.shape[0]} captchas): per character "
      + ",".join(f"{a:.3f}" for a in per_char) + f"; whole captcha {whole:.3f}")
given = f" --model-dir {shlex.quote(str(run.out))}" if args.out else ""  # 10-4: runs/ only
given += f" --data-dir {shlex.quote(str(folder))}" if args.data_dir else ""
print(f"next: python week10_captcha_tfrecord/10_4_test.py{given}")
run.finish(steps=int(step), test_char_accuracy=float(per_char.mean()), test_whole_captcha=whole)
