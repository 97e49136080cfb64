"""Lesson 10-4 验证码识别（测试） — Test the captcha reader.

本课载入 10-3 训练好的网络（model.keras），读 test.tfrecords，像视频一样对前几张验证码打印真实
数字（label）和网络读出的数字（predict），再给出整个测试文件上每个字符和整张验证码的准确率。
与视频的不同：不用重建网络再恢复检查点，而是载入 10-3 存下的整个模型（网络种类和输入尺寸都在
文件里）；--fresh N 另外生成 N 张新验证码来测试；--image 读你自己的一张图片。

Loads the network 10-3 trained, reads test.tfrecords, and for the first few captchas prints the
true digits and the network's reading as in the video:

    label: [5] [1] [3] [7]
    predict: [5] [0] [3] [7]

then the accuracy per character and for whole captchas (all four digits right) on the test file,
and, with --fresh N, on N captchas drawn just now (never seen in training). A PNG of the samples
with their readings goes to the run folder. `--image FILE` reads one picture of yours instead.

Run:
    python week10_captcha_tfrecord/10_4_test.py                   # 10-3's newest model
    python week10_captcha_tfrecord/10_4_test.py --fresh 1000      # + 1000 new captchas
    python week10_captcha_tfrecord/10_4_test.py --image 1234.jpg  # read one picture

--model-dir DIR names another run folder of 10-3, --data-dir DIR another folder of 10-2.

Differences from the course code:
  - tf.keras.models.load_model reads the whole trained model from 10-3's model.keras, instead of
    rebuilding the graph and restoring a Saver checkpoint: --arch need not be repeated, and a
    file that is not 10-3's model (another shape of output) is refused with one message.
  - The teacher looked at 10 captchas one by one (7 fully right); here the whole test file is
    scored, per character and per captcha, and --fresh adds captchas generated for the test.
  - A picture of any size is resized to the network's input (a note says so), not rejected.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import numpy as np
import sys

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week10_captcha_tfrecord"))  # also in a notebook
import _captcha  # this week's plumbing, beside the lessons: finding runs, pictures, checks

parser = tfcourse.parser(__doc__)
parser.add_argument("--model-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="10-3's run folder with model.keras (default: its newest finished run)")
parser.add_argument("--data-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="folder with test.tfrecords (default: the newest run of 10-2)")
parser.add_argument("--samples", type=tfcourse.number(int, 0, 100), default=10,
                    help="captchas printed as label/predict and drawn, 0 to 100 (lesson: 10)")
parser.add_argument("--fresh", type=tfcourse.number(int, 0, 10000), default=0, metavar="N",
                    help="also score N newly drawn captchas, 0 to 10000")
parser.add_argument("--fresh-seed", type=tfcourse.number(int, 0, 2**32 - 1), default=2026,
                    help="seed of the --fresh captchas (default 2026)")
parser.add_argument("--image", type=tfcourse.existing_file, default=None, metavar="FILE",
                    help="read one captcha picture of yours instead of the test file")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--fresh 100")
run = tfcourse.start(args, "week10_captcha_tfrecord/10_4_test.py")

# %% [markdown]
# ## Model: 10-3's trained network
# model.keras holds the layers, the weights and the input size. Its output must be 10-3's:
# logits (batch, 4, 10), one row of 10 per position.

# %%
model_dir = _captcha.input_folder(args.model_dir, "10-3", "model.keras", "--model-dir")
model_file = model_dir / "model.keras"
remedy = (f"Remedy: train one with python {_captcha.LESSON['10-3']} (10-4 takes the newest), "
          "or pass a run folder of 10-3 with --model-dir DIR.")
if not model_file.is_file():
    raise tfcourse.CourseError(f"No model of lesson 10-3 in {model_dir}: {model_file.name} is "
                               f"missing.\n{remedy}")
try:
    model = tf.keras.models.load_model(model_file)
except Exception as error:  # a cut zip, a foreign file...: Keras raises many kinds
    raise tfcourse.CourseError(f"{model_file} cannot be read as a Keras model: it is damaged or "
                               f"not 10-3's ({type(error).__name__}).\n{remedy}") from None
if len(model.input_shape) != 4 or tuple(model.output_shape) != (None, 4, 10):
    raise tfcourse.CourseError(f"{model_file} is not 10-3's captcha reader: it takes "
                               f"{model.input_shape} and gives {model.output_shape}, not "
                               f"(None, h, w, 1) -> (None, 4, 10).\n{remedy}")
input_size = tuple(model.input_shape[1:3])
print(f"loaded {model.name} from {model_file}: input {input_size[0]}x{input_size[1]}")

# %% [markdown]
# ## Reading a captcha
# The same scaling as 10-3: 224x224 grayscale pixels -> [-1, 1] -> the network's input size.
# The label decoding: each position's digit is the index of its largest logit.

# %%
def to_input(images):  # uint8 (batch, 224, 224) -> float32 (batch, h, w, 1) in [-1, 1]
    x = (tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0 - 0.5) * 2.0
    if input_size != (224, 224):
        x = tf.image.resize(x, input_size, antialias=True)
    return x


@tf.function
def read(images):
    logits = model(to_input(images), training=False)        # -> (batch, 4, 10)
    return tf.argmax(logits, axis=-1, output_type=tf.int32)  # -> (batch, 4) digits


def pixels_of(picture):  # a PIL picture -> (224, 224) uint8, as 10-2 stores it
    return np.asarray(picture.convert("L").resize((224, 224)), dtype=np.uint8)


def text_of(digits):  # [5, 1, 3, 7] -> the lesson's '[5] [1] [3] [7]'
    return " ".join(f"[{int(d)}]" for d in digits)


# %% [markdown]
# ## Data: test.tfrecords, parsed as in 10-3 (or one picture of yours)

# %%
FEATURES = {"image": tf.io.FixedLenFeature([], tf.string),  # 224*224 raw bytes
            "label0": tf.io.FixedLenFeature([], tf.int64),
            "label1": tf.io.FixedLenFeature([], tf.int64),
            "label2": tf.io.FixedLenFeature([], tf.int64),
            "label3": tf.io.FixedLenFeature([], tf.int64)}


def parse_batch(records):
    features = tf.io.parse_example(records, FEATURES)
    images = tf.io.decode_raw(features["image"], tf.uint8)  # -> (batch, 50176)
    images = tf.reshape(images, [-1, 224, 224])             # -> (batch, 224, 224)
    labels = tf.stack([features[f"label{i}"] for i in range(4)], axis=1)
    return images, tf.cast(labels, tf.int32)                # labels -> (batch, 4)


if args.image is None:
    folder = _captcha.input_folder(args.data_dir, "10-2", "test.tfrecords", "--data-dir")
    test_file = folder / "test.tfrecords"
    n_test = _captcha.check_records(test_file, FEATURES)  # damaged: one message, its file, 10-2
    test_data = tf.data.TFRecordDataset(str(test_file)).batch(100).map(parse_batch)
    print(f"{test_file}: {n_test} captchas")
else:
    picture = _captcha.read_picture(args.image)
    if picture.size != (160, 60):
        print(f"note: {args.image.name} is {picture.size[0]}x{picture.size[1]}, not 160x60; "
              "resized")
    test_data = [(pixels_of(picture)[np.newaxis], None)]  # one picture, no label to score

# %% [markdown]
# ## Testing: label and predict, as in the video, then the scores

# %%
images, labels, predicted = [], [], []
for batch, y in test_data:
    images.extend(np.asarray(batch)[:args.samples - len(images)])  # kept for the picture
    predicted.append(read(batch).numpy())
    if y is not None:
        labels.append(y.numpy())
predicted = np.concatenate(predicted)
labels = np.concatenate(labels) if labels else None
for n in range(len(images)):
    if labels is not None:
        print("label:", text_of(labels[n]))
    print("predict:", text_of(predicted[n]))
final = {}
if labels is None:
    final["read"] = "".join(map(str, predicted[0]))
    print(f"{args.image} -> {final['read']}")
else:
    hits = labels == predicted                      # (n, 4) True where a digit is right
    per_char, whole = hits.mean(axis=0), hits.all(axis=1).mean()
    print(f"test.tfrecords ({n_test} captchas): accuracy per character "
          + ",".join(f"{a:.3f}" for a in per_char) + f"; whole captcha {whole:.3f}")
    final.update(test_char_accuracy=float(per_char.mean()), test_whole_captcha=float(whole))

# %% [markdown]
# ## Fresh captchas (--fresh N)
# Drawn just now as 10-1 draws them, so the network has never seen these pictures.

# %%
if args.fresh:
    pairs = _captcha.fresh_captchas(args.fresh, args.fresh_seed)
    fresh_true = np.array([[int(c) for c in text] for _, text in pairs])
    fresh_pred = np.concatenate([read(np.stack([pixels_of(p) for p, _ in pairs[i:i + 100]]))
                                 for i in range(0, len(pairs), 100)])
    hits = fresh_true == fresh_pred
    per_char, whole = hits.mean(axis=0), hits.all(axis=1).mean()
    print(f"{args.fresh} fresh captchas (seed {args.fresh_seed}): accuracy per character "
          + ",".join(f"{a:.3f}" for a in per_char) + f"; whole captcha {whole:.3f}")
    final["fresh_whole_captcha"] = float(whole)

# %% [markdown]
# ## Picture: the samples with the network's reading (green: all four right)

# %%
import matplotlib.pyplot as plt

if images:
    cols = min(5, len(images))
    rows = (len(images) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for n, ax in enumerate(axes.flat[:len(images)]):
        ax.imshow(images[n], cmap="gray")
        reading = "predict " + "".join(map(str, predicted[n]))
        if labels is None:
            ax.set_title(reading, fontsize=10)
        else:
            right = bool((labels[n] == predicted[n]).all())
            ax.set_title("label " + "".join(map(str, labels[n])) + "\n" + reading,
                         color="green" if right else "red", fontsize=10)
    fig.tight_layout()
    fig.suptitle("10-4: the network's reading of 224x224 grayscale captchas", y=1.04)
    tfcourse.save_figure(fig, run.path("predictions.png"), show=args.show)
run.finish(**final)
