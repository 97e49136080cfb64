"""A TFRecord file checked whole before a lesson trains on it: damaged or cut short -> one message.

    from tfcourse.tfrecords import check_tfrecord
    n = check_tfrecord(path, remedy="write it again: python week10_captcha_tfrecord/10_2_tfrecord.py",
                       features={"image": tf.io.FixedLenFeature([], tf.string), ...})

Each record is framed as 8 bytes of length, 4 of its CRC, the data, 4 of the data's CRC.
TFRecordDataset checks the CRCs (a flipped byte raises DataLossError), but it quietly drops a last
record that is cut short; so the framed bytes are also added up and compared with the file's size.
Week 9 (9-2's shards) and week 10 (10-2's files) share this one check.
"""
import re
from pathlib import Path

from tfcourse.errors import CourseError

FRAME = 16  # bytes around each record's data: length (8) + CRC (4) + data CRC (4)


def check_tfrecord(path, remedy, features=None, allow_empty=False):
    """Read every record of `path` once (no parsing) and return how many there are.

    A missing, damaged, truncated or empty file raises a CourseError naming the file, the byte
    and how many good records come before it; `remedy` (the command that writes the file) ends it.
    With `features` (a tf.io.parse_example spec) the first record must parse with it, so that a
    file of another kind is refused before training rather than in the middle of it. An empty
    file is refused too, unless `allow_empty` (a shard of a small set may hold nothing).
    """
    import tensorflow as tf
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"The TFRecord file {path} does not exist.\nRemedy: {remedy}")
    count = framed = 0
    try:
        for batch in tf.data.TFRecordDataset(str(path), buffer_size=8 << 20).batch(256):
            count += int(batch.shape[0])
            framed += int(tf.reduce_sum(tf.strings.length(batch))) + FRAME * int(batch.shape[0])
    except tf.errors.DataLossError as error:
        raise damaged_error(path, error, remedy) from None
    size = path.stat().st_size
    if framed != size:
        raise CourseError(f"The TFRecord file {path} is truncated near byte {framed:,} of {size:,}: "
                          f"record {count + 1:,} is cut short, after {count:,} good records.\n"
                          f"Remedy: {remedy} (an interrupted copy or download cuts a file short).")
    if count == 0 and not allow_empty:
        raise CourseError(f"The TFRecord file {path} holds no records.\nRemedy: {remedy}")
    if features and count:
        try:
            tf.io.parse_single_example(next(iter(tf.data.TFRecordDataset(str(path)))), features)
        except tf.errors.InvalidArgumentError as error:
            raise CourseError(f"The records in {path} are of another kind, not tf.train.Examples with "
                              f"the features {', '.join(features)} ({_reason(error)}).\n"
                              f"Remedy: {remedy}") from None
    return count


def damaged_error(path, error, remedy):
    """A CourseError for a DataLossError ('corrupted record at N') met while reading `path`."""
    found = re.search(r"(\w+) record at (\d+)", str(getattr(error, "message", error)))
    what, where = (found.group(1), f"byte {int(found.group(2)):,}") if found else ("damaged", "an unknown byte")
    why = "an interrupted copy or download cuts a file short" if what == "truncated" else "a bad copy or disk"
    return CourseError(f"The TFRecord file {path} is damaged near {where} ({what} record, after "
                       f"{_good_records(path):,} good records).\nRemedy: {remedy} ({why}).")


def _reason(error):
    """TensorFlow's message without its '{{function_node ...}}' prefix, first line, shortened."""
    text = re.sub(r"\{\{[^}]*\}\}\s*|\s*\[Op:\w+\]", "", str(getattr(error, "message", error)))
    return (text.strip().splitlines() or [type(error).__name__])[0][:150].rstrip(".")


def _good_records(path):
    import tensorflow as tf
    count = 0
    try:
        for _ in tf.data.TFRecordDataset(str(path)):
            count += 1
    except tf.errors.DataLossError:
        pass
    return count
