"""Lesson 10-2 生成tfrecord文件 — Write the captchas to TFRecord files.

Reads the pictures 10-1 made, shuffles them with seed 0, keeps 500 for testing, and writes
`train.tfrecords` and `test.tfrecords`. Each record is a tf.train.Example with

    image           the picture resized to 224x224, grayscale, as 50176 raw bytes (AlexNet's input)
    label0..label3  the four digits (int64)

and the progress line is the video's `>> Converting image 9500/9500`.

Run:
    python week10_captcha_tfrecord/10_2_tfrecord.py                       # ~30 s for 10000 pictures
    python week10_captcha_tfrecord/10_2_tfrecord.py --images my_captchas/ --test-count 1000
    python week10_captcha_tfrecord/10_2_tfrecord.py --quick --images runs/.../images

Files go to runs/week10_captcha_tfrecord/10_2_tfrecord/ (or --out DIR), where 10-3 looks for them.

Differences from the course code:
  - tf.io.TFRecordWriter and tf.train.Example are the same API as in TF 1 (tf.python_io is gone).
  - Each file is written under a temporary name and renamed when complete: an error or Ctrl-C
    never leaves a half-written .tfrecords file that 10-3 would trip over.
  - Files in the folder whose names are not four digits (`1234.jpg`) are skipped and counted
    instead of crashing on `int(label)`.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import os
import random
import sys
from pathlib import Path

from _captcha import DEFAULT_IMAGES, image_to_pixels, list_captchas, make_example, read_picture  # noqa: E402

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES, metavar="DIR",
                    help="folder of <4 digits>.jpg pictures (default: 10-1's output)")
parser.add_argument("--test-count", type=int, default=500, help="pictures kept for testing (lesson: 500)")


def write_records(path, items):
    """Write (picture path, text) items to `path` via a temporary file; print the lesson's progress."""
    partial = path.with_name(path.name + ".partial")
    try:
        with tf.io.TFRecordWriter(str(partial)) as writer:
            for i, (picture, text) in enumerate(items):
                sys.stdout.write("\r>> Converting image %d/%d" % (i + 1, len(items)))
                sys.stdout.flush()
                pixels = image_to_pixels(read_picture(picture))  # -> (224, 224) uint8
                writer.write(make_example(pixels, text).SerializeToString())
        os.replace(partial, path)
    finally:
        sys.stdout.write("\n")
        if partial.exists():
            partial.unlink()


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    test_count = min(args.test_count, 60) if args.quick else args.test_count

    # ## The pictures and their labels (the file name is the text)
    captchas, skipped = list_captchas(args.images)
    if skipped:
        print(f"skipped {len(skipped)} file(s) whose names are not four digits + .jpg/.png "
              f"(e.g. {', '.join(skipped[:3])})")
    if len(captchas) <= test_count:
        raise tfcourse.CourseError(f"{args.images} holds {len(captchas)} captcha pictures, not more than "
                                   f"the {test_count} kept for testing.\n"
                                   "Remedy: generate more with 10_1_generate_captcha.py --count N, "
                                   "or lower --test-count.")

    # ## Split as the lesson: shuffle with seed 0, the first 500 are the test set
    random.Random(0).shuffle(captchas)
    testing, training = captchas[:test_count], captchas[test_count:]

    write_records(run.path("train.tfrecords"), training)  # >> Converting image 9500/9500
    write_records(run.path("test.tfrecords"), testing)    # >> Converting image 500/500
    for name, n in (("train.tfrecords", len(training)), ("test.tfrecords", len(testing))):
        path = run.out / name
        print(f"{path}: {n} records, {path.stat().st_size / 2**20:.1f} MB")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
