"""Week 10's plumbing (not a lesson): finding the run before, reading a picture, drawing fresh
captchas, and checking a whole TFRecord file. What the lessons teach (the record format, the
parsing, the network) is in the lessons themselves.
"""
import io
import random
import re
from pathlib import Path

import tensorflow as tf

import tfcourse

DIGITS = "0123456789"  # the captchas' character set
LESSON = {"10-1": "week10_captcha_tfrecord/10_1_generate_captcha.py",
          "10-2": "week10_captcha_tfrecord/10_2_tfrecord.py",
          "10-3": "week10_captcha_tfrecord/10_3_train.py"}


def input_folder(given, lesson, need, flag):
    """`given` (the folder passed with `flag`), else the newest finished run of `lesson` that
    holds the file `need`."""
    folder = given or tfcourse.latest_run(LESSON[lesson], need=need)
    if folder is None:
        raise tfcourse.CourseError(f"No {need} found: no finished run of lesson {lesson} holds "
                                   f"one.\nRemedy: run python {LESSON[lesson]} first, or pass "
                                   f"the folder with {flag} DIR.")
    return Path(folder)


def read_picture(path):
    """A picture file as a PIL image; anything else is one message."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            image.load()
            return ImageOps.exif_transpose(image)  # a copy, upright if a phone stored it turned
    except (OSError, UnidentifiedImageError) as error:
        raise tfcourse.CourseError(f"Cannot read the picture {path}: {error}.\n"
                                   "Remedy: pass a JPEG or PNG file.") from None


def fresh_captchas(count, seed):
    """`count` new (PIL image, text) pairs, drawn as 10-1 draws them and saved through JPEG."""
    from captcha.image import ImageCaptcha
    state = random.getstate()  # its own seeded stream: the caller's `random` is left as it was
    random.seed(seed)
    generator = ImageCaptcha(width=160, height=60)
    try:
        pairs = []
        for _ in range(count):
            text = "".join(random.choice(DIGITS) for _ in range(4))
            jpeg = io.BytesIO()
            generator.generate_image(text).save(jpeg, format="JPEG")
            pairs.append((read_picture(jpeg), text))
        return pairs
    finally:
        random.setstate(state)


def check_records(path, features):
    """How many records the TFRecord file `path` holds, every one read once. A missing, empty,
    damaged, cut or foreign file (its first record does not parse with `features`, or its
    `image` is not 224x224 bytes) is one CourseError naming the file and the lesson that writes
    it again.

    TFRecordDataset checks each record's CRCs but quietly drops a last record that is cut short,
    so the framed sizes (8 length + 4 CRC + data + 4 CRC bytes each) must add up to the file's.
    """
    remedy = f"Remedy: write it again with python {LESSON['10-2']}"
    if not Path(path).is_file():
        raise tfcourse.CourseError(f"The TFRecord file {path} does not exist.\n{remedy}.")
    count = framed = 0
    try:
        for batch in tf.data.TFRecordDataset(str(path)).batch(256):
            count += int(batch.shape[0])
            framed += int(tf.reduce_sum(tf.strings.length(batch))) + 16 * int(batch.shape[0])
    except tf.errors.DataLossError as error:  # 'corrupted record at N', 'truncated record at N'
        found = re.search(r"(\w+) record at (\d+)", str(error.message))
        what = f" near byte {int(found.group(2)):,} ({found.group(1)} record)" if found else ""
        why = ("an interrupted copy or download cuts a file short" if "truncated" in what
               else "a bad copy or disk")
        raise tfcourse.CourseError(f"The TFRecord file {path} is damaged{what}.\n"
                                   f"{remedy} ({why}).") from None
    size = Path(path).stat().st_size
    if framed != size:
        raise tfcourse.CourseError(f"The TFRecord file {path} is truncated near byte {framed:,} "
                                   f"of {size:,}: record {count + 1:,} is cut short.\n{remedy} "
                                   "(an interrupted copy or download cuts a file short).")
    if count == 0:
        raise tfcourse.CourseError(f"The TFRecord file {path} holds no records.\n{remedy}.")
    try:
        first = tf.io.parse_single_example(next(iter(tf.data.TFRecordDataset(str(path)))),
                                           features)
    except tf.errors.InvalidArgumentError as error:
        reason = re.sub(r"\{\{[^}]*\}\}\s*|\s*\[Op:\w+\]", "", str(error.message)).strip()
        raise tfcourse.CourseError(
            f"The records in {path} are of another kind, not tf.train.Examples with the features "
            f"{', '.join(features)} ({reason.splitlines()[0][:150].rstrip('.')}).\n{remedy}."
        ) from None
    size = int(tf.strings.length(first["image"]))
    if size != 224 * 224:
        raise tfcourse.CourseError(f"The records in {path} hold pictures of {size:,} bytes, not "
                                   f"224x224 = 50,176 grayscale pixels as 10-2 writes them.\n"
                                   f"{remedy}.")
    return count
