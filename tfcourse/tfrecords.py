"""A TFRecord file checked whole before a lesson trains on it (9-2's shards, 10-2's files).

TFRecordDataset checks each record's CRCs, but quietly drops a last record that is cut short: so
the framed bytes are also added up and compared with the file's size.
"""
import re
from pathlib import Path

from tfcourse.errors import CourseError

FRAME = 16  # bytes around each record's data: length (8) + CRC (4) + data CRC (4)


def check_tfrecord(path, remedy, features=None, allow_empty=False):
    """Read every record of `path` once; return how many there are. A missing, damaged, truncated or
    empty file raises a CourseError naming the byte, ending with `remedy` (the command that writes
    it). With `features` (a tf.io.parse_example spec) the first record must parse."""
    import tensorflow as tf
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"The TFRecord file {path} does not exist.\nRemedy: {remedy}")
    count = framed = 0
    try:
        for batch in tf.data.TFRecordDataset(str(path), buffer_size=8 << 20).batch(256):
            count += int(batch.shape[0])
            framed += int(tf.reduce_sum(tf.strings.length(batch))) + FRAME * int(batch.shape[0])
    except tf.errors.DataLossError as error:  # 'corrupted record at N' or 'truncated record at N'
        found = re.search(r"(\w+) record at (\d+)", str(error.message))
        what, where = (found.group(1), f"byte {int(found.group(2)):,}") if found else ("damaged", "an unknown byte")
        good = 0  # counted one by one: the batch that failed holds some good ones
        try:
            for _ in tf.data.TFRecordDataset(str(path)):
                good += 1
        except tf.errors.DataLossError:
            pass
        why = "an interrupted copy or download cuts a file short" if what == "truncated" else "a bad copy or disk"
        raise CourseError(f"The TFRecord file {path} is damaged near {where} ({what} record, after "
                          f"{good:,} good records).\nRemedy: {remedy} ({why}).") from None
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
        except tf.errors.InvalidArgumentError as error:  # TensorFlow's first line, without '{{...}}' or '[Op:...]'
            reason = re.sub(r"\{\{[^}]*\}\}\s*|\s*\[Op:\w+\]", "", str(error.message)).strip().splitlines()
            raise CourseError(f"The records in {path} are of another kind, not tf.train.Examples with the "
                              f"features {', '.join(features)} ({(reason or ['?'])[0][:150].rstrip('.')}).\n"
                              f"Remedy: {remedy}") from None
    return count
