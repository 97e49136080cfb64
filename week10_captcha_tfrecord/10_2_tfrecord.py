"""Lesson 10-2 生成tfrecord文件 — Write the captchas to TFRecord files.

本课把 10-1 生成的验证码图片打包成 TFRecord：图片缩放成 224x224 灰度，原始字节存在 image
特征里，四个数字存成 label0..label3；按种子 0 打乱后取 500 张做测试集，写出 train.tfrecords 和
test.tfrecords。与视频的不同：TF2 的 tf.io.TFRecordWriter（tf.python_io 已不存在）；两个文件
都先写成临时文件、全部完成才改名，中断（Ctrl-C、kill）不会留下半个文件；文件名不是四位数字的
文件会被跳过并计数。

Reads the pictures 10-1 made, shuffles them with --seed (the lesson's 0), keeps 500 for testing,
and writes `train.tfrecords` and `test.tfrecords`. Each record is a tf.train.Example with

    image           the picture resized to 224x224, grayscale, as 50176 raw bytes (AlexNet's input)
    label0..label3  the four digits (int64)

and the progress line is the video's `>> Converting image 9500/9500`.

Run:
    python week10_captcha_tfrecord/10_2_tfrecord.py            # 10-1's newest run, 10-80 s
    python week10_captcha_tfrecord/10_2_tfrecord.py --data-dir my_captchas/ --test-count 1000
    python week10_captcha_tfrecord/10_2_tfrecord.py --quick    # keeps 60 for testing

The files go to the run folder (or --out DIR); 10_3_train.py reads the newest finished run's.

Differences from the course code:
  - tf.io.TFRecordWriter and tf.train.Example are the same API as in TF 1 (tf.python_io is gone).
  - Both files are written under temporary names and renamed when both are complete
    (tfcourse.atomic_path): an error, Ctrl-C or `kill` never leaves a half-written file for 10-3.
  - Files whose names are not four digits (`1234.jpg`) are skipped and counted instead of
    crashing on `int(label)`.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import random
import re
import shlex
import sys

import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week10_captcha_tfrecord"))  # also in a notebook
import _captcha  # this week's plumbing, beside the lessons: finding 10-1's run, reading pictures

parser = tfcourse.parser(__doc__, quick=dict(test_count=60))
parser.add_argument("--data-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="folder of <4 digits>.jpg pictures (default: the newest run of 10-1)")
parser.add_argument("--test-count", type=tfcourse.positive_int, default=500,
                    help="pictures kept for testing (lesson: 500); the rest are for training")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick")
run = tfcourse.start(args, "week10_captcha_tfrecord/10_2_tfrecord.py")

# %% [markdown]
# ## Data: the pictures and their labels
# The file name is the text: `5137.jpg` holds the digits 5, 1, 3, 7. Other files are skipped.

# %%
folder = _captcha.input_folder(args.data_dir, "10-1", "images", "--data-dir")
if (folder / "images").is_dir():  # 10-1's run folder rather than its images/
    folder = folder / "images"
if not folder.is_dir():
    raise tfcourse.CourseError(f"The captcha folder {folder} does not exist.\nRemedy: run python "
                               f"{_captcha.LESSON['10-1']} first, or pass --data-dir DIR.")
captchas, skipped = [], []
for path in sorted(folder.iterdir()):
    name = re.fullmatch(r"(\d{4})\.(jpg|jpeg|png)", path.name, re.IGNORECASE)
    if name and path.is_file():
        captchas.append((path, name.group(1)))  # (picture, its four digits)
    else:
        skipped.append(path.name)
if skipped:
    print(f"skipped {len(skipped)} file(s) whose names are not four digits + .jpg/.png "
          f"(e.g. {', '.join(skipped[:3])})")
if len(captchas) <= args.test_count:
    raise tfcourse.CourseError(
        f"{folder} holds {len(captchas)} captcha pictures, not more than the {args.test_count} "
        f"kept for testing.\nRemedy: generate more with python {_captcha.LESSON['10-1']} "
        f"--count N, or pass a --test-count below {len(captchas)}.")
print(f"{len(captchas)} captchas in {folder}")

# %% [markdown]
# ## Split as the lesson
# Shuffle with the seed (0), the first 500 are the test set.

# %%
random.Random(args.seed).shuffle(captchas)
testing, training = captchas[:args.test_count], captchas[args.test_count:]
print(f"{len(training)} for training, {len(testing)} for testing")

# %% [markdown]
# ## One record
# A tf.train.Example holds named features: the 224x224 grayscale picture as raw bytes (AlexNet's
# input size) and the four digits as int64.

# %%
def make_example(picture, text):
    image = picture.convert("L").resize((224, 224))           # the lesson's resize + grayscale
    pixels = np.asarray(image, dtype=np.uint8)                 # -> (224, 224)
    feature = {"image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels.tobytes()]))}
    for i, digit in enumerate(text):                           # label0 .. label3
        feature[f"label{i}"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(digit)]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


example = make_example(_captcha.read_picture(training[0][0]), training[0][1])
print(f"{training[0][0].name}: labels",
      [example.features.feature[f"label{i}"].int64_list.value[0] for i in range(4)],
      f"image {len(example.features.feature['image'].bytes_list.value[0])} bytes")

# %% [markdown]
# ## Writing both files
# Each under a temporary name; both are renamed only when both are complete, so Ctrl-C, `kill`
# or an error leaves neither half a file nor a temporary one.

# %%
def write_records(path, items):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i, (picture, text) in enumerate(items):
            sys.stdout.write("\r>> Converting image %d/%d" % (i + 1, len(items)))
            sys.stdout.flush()
            writer.write(make_example(_captcha.read_picture(picture), text).SerializeToString())
    sys.stdout.write("\n")


with tfcourse.atomic_path(run.out / "train.tfrecords") as train_tmp, \
        tfcourse.atomic_path(run.out / "test.tfrecords") as test_tmp:
    write_records(train_tmp, training)  # >> Converting image 9500/9500
    run.log(train_records=len(training))
    write_records(test_tmp, testing)    # >> Converting image 500/500
    run.log(test_records=len(testing))
for name in ("train.tfrecords", "test.tfrecords"):
    print(f"{run.out / name}: {(run.out / name).stat().st_size / 2**20:.1f} MB")
given = f" --data-dir {shlex.quote(str(run.out))}" if args.out else ""  # 10-3 looks in runs/ only
print(f"next: python week10_captcha_tfrecord/10_3_train.py{given}")
run.finish(train_records=len(training), test_records=len(testing))
