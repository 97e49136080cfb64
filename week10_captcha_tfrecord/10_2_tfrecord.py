"""Lesson 10-2 生成tfrecord文件 — Write the captchas to TFRecord files.

本课把 10-1 生成的验证码图片打包成 TFRecord：图片缩放成 224x224 灰度，原始字节存在 image
特征里，四个数字存成 label0..label3；按种子 0 打乱后取 500 张做测试集，写出 train.tfrecords 和
test.tfrecords。与视频的不同：TF2 的 tf.io.TFRecordWriter（tf.python_io 已不存在）；两个文件
都先写成临时文件、全部完成才改名，中断不会留下半个文件；文件名不是四位数字的文件会被跳过并计数。

Reads the pictures 10-1 made, shuffles them with --seed (the lesson's 0), keeps 500 for testing,
and writes `train.tfrecords` and `test.tfrecords`. Each record is a tf.train.Example with

    image           the picture resized to 224x224, grayscale, as 50176 raw bytes (AlexNet's input)
    label0..label3  the four digits (int64)

and the progress line is the video's `>> Converting image 9500/9500`.

Run:
    python week10_captcha_tfrecord/10_2_tfrecord.py                 # 10-1's newest run, 10-80 s for 10000
    python week10_captcha_tfrecord/10_2_tfrecord.py --data-dir my_captchas/ --test-count 1000
    python week10_captcha_tfrecord/10_2_tfrecord.py --quick         # keeps 60 for testing

The files go to the run folder (or --out DIR); 10_3_train.py reads the newest finished run's.

Differences from the course code:
  - tf.io.TFRecordWriter and tf.train.Example are the same API as in TF 1 (tf.python_io is gone).
  - Both files are written under temporary names and renamed when both are complete
    (tfcourse.atomic_path): an error or Ctrl-C never leaves a half-written file for 10-3.
  - Files whose names are not four digits (`1234.jpg`) are skipped and counted instead of
    crashing on `int(label)`.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import random
import sys
from pathlib import Path

import _captcha  # this week's shared helpers, beside the lessons

parser = tfcourse.make_parser(__doc__, quick=dict(test_count=60))
parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                    help="folder of <4 digits>.jpg pictures (default: the newest run of 10-1)")
parser.add_argument("--test-count", type=tfcourse.positive_int, default=500,
                    help="pictures kept for testing (lesson: 500)")


def write_records(path, items):
    """Write (picture path, text) items as Examples to `path`; print the lesson's progress."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i, (picture, text) in enumerate(items):
            sys.stdout.write("\r>> Converting image %d/%d" % (i + 1, len(items)))
            sys.stdout.flush()
            pixels = _captcha.image_to_pixels(_captcha.read_picture(picture))  # -> (224, 224) uint8
            writer.write(_captcha.make_example(pixels, text).SerializeToString())
    sys.stdout.write("\n")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)

    # ## The pictures and their labels (the file name is the text)
    folder = _captcha.input_folder(args.data_dir, "10-1", "images", "captcha pictures")
    if (folder / "images").is_dir():  # 10-1's run folder rather than its images/
        folder = folder / "images"
    captchas, skipped = _captcha.list_captchas(folder)
    if skipped:
        print(f"skipped {len(skipped)} file(s) whose names are not four digits + .jpg/.png "
              f"(e.g. {', '.join(skipped[:3])})")
    if len(captchas) <= args.test_count:
        raise tfcourse.CourseError(f"{folder} holds {len(captchas)} captcha pictures, not more than "
                                   f"the {args.test_count} kept for testing.\n"
                                   f"Remedy: generate more with python {_captcha.LESSON['10-1']} --count N, "
                                   "or lower --test-count.")
    print(f"{len(captchas)} captchas in {folder}")

    # ## Split as the lesson: shuffle with the seed (0), the first 500 are the test set
    random.Random(args.seed).shuffle(captchas)
    testing, training = captchas[:args.test_count], captchas[args.test_count:]

    # ## Write both files under temporary names; both are renamed only when both are complete
    with tfcourse.atomic_path(run.out / "train.tfrecords") as train_tmp, \
            tfcourse.atomic_path(run.out / "test.tfrecords") as test_tmp:
        write_records(train_tmp, training)  # >> Converting image 9500/9500
        run.record(train_records=len(training))
        write_records(test_tmp, testing)    # >> Converting image 500/500
        run.record(test_records=len(testing))
    for name in ("train.tfrecords", "test.tfrecords"):
        print(f"{run.out / name}: {(run.out / name).stat().st_size / 2**20:.1f} MB")
    run.finish(train_records=len(training), test_records=len(testing))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
