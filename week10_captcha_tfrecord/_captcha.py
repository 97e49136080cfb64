"""Shared by the week-10 lessons: captcha pictures, the TFRecord format, the networks.

10-1 draws captchas, 10-2 writes them to TFRecords, 10-3 trains on them and 10-4 tests; all four
need the same file layout, the same record format and the same network, so they live here once.
"""
import io
import json
import os
import random
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

import tfcourse

RUNS = Path(__file__).resolve().parent.parent / "runs" / "week10_captcha_tfrecord"
DEFAULT_IMAGES = RUNS / "10_1_generate_captcha" / "images"   # 10-1 writes, 10-2 reads
DEFAULT_RECORDS = RUNS / "10_2_tfrecord"                     # 10-2 writes, 10-3 and 10-4 read
DEFAULT_TRAIN = RUNS / "10_3_train"                          # 10-3 writes checkpoints, 10-4 reads
RECORD_SIZE = 224                 # the lesson stores 224x224 grayscale pixels (AlexNet's input)
CAPTCHA_NAME = re.compile(r"^(\d{4})\.(jpg|jpeg|png)$", re.IGNORECASE)


# ---------------------------------------------------------------- captcha pictures (10-1, 10-4)

def captcha_image(text, generator=None):
    """A 160x60 RGB PIL picture of `text`, drawn with the module `random` (seed it for repeats)."""
    from captcha.image import ImageCaptcha
    return (generator or ImageCaptcha()).generate_image(text)


def fresh_captchas(count, seed):
    """`count` new (PIL image, text) pairs drawn from their own seeded generator."""
    from captcha.image import ImageCaptcha
    state = random.getstate()
    random.seed(seed)
    generator = ImageCaptcha()
    try:
        pairs = []
        for _ in range(count):
            text = "".join(random.choice("0123456789") for _ in range(4))
            jpeg = io.BytesIO()  # through JPEG and back, like the pictures 10-1 saves
            captcha_image(text, generator).save(jpeg, format="JPEG")
            pairs.append((read_picture(jpeg), text))
        return pairs
    finally:
        random.setstate(state)


def list_captchas(folder):
    """(sorted [(path, text)], [skipped file names]) for a folder of `<4 digits>.jpg` pictures."""
    folder = Path(folder)
    if not folder.is_dir():
        raise tfcourse.CourseError(f"The captcha folder {folder} does not exist.\n"
                                   "Remedy: run 10_1_generate_captcha.py first, or pass --images DIR.")
    found, skipped = [], []
    for path in sorted(folder.iterdir()):
        match = CAPTCHA_NAME.match(path.name)
        if match and path.is_file():
            found.append((path, match.group(1)))
        else:
            skipped.append(path.name)
    return found, skipped


def image_to_pixels(image):
    """PIL picture (any size) -> 224x224 uint8 grayscale array, as the lesson's
    `image.resize((224, 224)).convert('L')`."""
    return np.asarray(image.convert("L").resize((RECORD_SIZE, RECORD_SIZE)), dtype=np.uint8)


def read_picture(path):
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (OSError, UnidentifiedImageError) as error:
        raise tfcourse.CourseError(f"Cannot read the picture {path}: {error}.\n"
                                   "Remedy: pass a JPEG or PNG file.") from None


# ---------------------------------------------------------------- the TFRecord format (10-2, 10-3, 10-4)

def make_example(pixels, text):
    """One tf.train.Example: `image` = raw 224*224 bytes, `label0`..`label3` = the four digits."""
    feature = {"image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels.tobytes()]))}
    for i, digit in enumerate(text):
        feature[f"label{i}"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(digit)]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


FEATURES = {"image": tf.io.FixedLenFeature([], tf.string),
            **{f"label{i}": tf.io.FixedLenFeature([], tf.int64) for i in range(4)}}


def parse_record(serialized):
    """Serialized Example(s) -> (uint8 image (..., 224, 224), int32 labels (..., 4)).

    Works on one record or on a batch of them; parsing a whole batch at once (tf.io.parse_example
    is vectorised) is several times faster than parsing records one by one.
    """
    features = tf.io.parse_example(serialized, FEATURES)
    shape = tf.concat([tf.shape(serialized), [RECORD_SIZE, RECORD_SIZE]], 0)
    image = tf.reshape(tf.io.decode_raw(features["image"], tf.uint8), shape)
    labels = tf.cast(tf.stack([features[f"label{i}"] for i in range(4)], axis=-1), tf.int32)
    return image, labels


def to_input(image, input_size):
    """uint8 (..., 224, 224) -> float32 (..., h, w, 1) in [-1, 1], the lesson's scaling."""
    x = tf.cast(image, tf.float32)[..., tf.newaxis] / 255.0
    x = (x - 0.5) * 2.0
    if tuple(input_size) != (RECORD_SIZE, RECORD_SIZE):
        x = tf.image.resize(x, input_size, antialias=True)  # the default model's smaller input
    return x


def dataset(path, input_size, batch_size, shuffle=0, repeat=False, seed=0):
    """tf.data pipeline: read records -> shuffle -> batch -> parse in parallel -> prefetch."""
    data = tf.data.TFRecordDataset(str(path), buffer_size=8 << 20)
    if repeat:
        data = data.repeat()
    if shuffle:
        data = data.shuffle(shuffle, seed=seed)
    # batch the serialized records first, then parse and scale 25 at a time, in parallel
    data = data.batch(batch_size).map(lambda records: parse_and_scale(records, input_size),
                                      num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


def parse_and_scale(records, input_size):
    image, labels = parse_record(records)
    return to_input(image, input_size), labels


def good_records_before_error(path):
    """How many records of a damaged file can be read before the damage."""
    count = 0
    try:
        for _ in tf.data.TFRecordDataset(str(path)):
            count += 1
    except tf.errors.DataLossError:
        pass
    return count


def corrupt_record_error(path, error):
    """A CourseError naming the file and where a DataLossError ('corrupted record at N') happened."""
    message = str(getattr(error, "message", error))
    found = re.search(r"(\w+) record at (\d+)", message)
    what, where = (found.group(1), f"byte {int(found.group(2)):,}") if found else ("damaged", "an unknown position")
    return tfcourse.CourseError(
        f"The TFRecord file {path} is damaged near {where} ({what} record, after "
        f"{good_records_before_error(path):,} good records).\n"
        "Remedy: write it again with 10_2_tfrecord.py (an interrupted copy or download cuts a "
        "file short).")


def check_records(path):
    """Read every record of `path` once (fast: no parsing) and return how many there are.

    A truncated or corrupted file raises a CourseError naming the file and the byte offset, before
    any training starts; a file of the wrong kind (not Examples of our features) likewise.
    """
    path = Path(path)
    if not path.is_file():
        raise tfcourse.CourseError(f"The TFRecord file {path} does not exist.\n"
                                   "Remedy: run 10_2_tfrecord.py first, or pass --records DIR.")
    count, framed = 0, 0  # records, bytes they fill (each: 8 length + 4 CRC + data + 4 CRC)
    first = None
    try:
        for record in tf.data.TFRecordDataset(str(path), buffer_size=8 << 20).batch(256):
            if first is None and len(record):
                first = record[0]
            count += int(record.shape[0])
            framed += int(tf.reduce_sum(tf.strings.length(record))) + 16 * int(record.shape[0])
    except tf.errors.DataLossError as error:
        raise corrupt_record_error(path, error) from None
    size = path.stat().st_size
    if framed != size:  # TFRecordDataset quietly drops a record cut short at the end of the file
        raise tfcourse.CourseError(
            f"The TFRecord file {path} is truncated near byte {framed:,} of {size:,}: record "
            f"{count + 1:,} is cut short, after {count:,} good records.\n"
            "Remedy: write it again with 10_2_tfrecord.py (an interrupted copy or download cuts a "
            "file short).")
    if count == 0:
        raise tfcourse.CourseError(f"The TFRecord file {path} holds no records.\n"
                                   "Remedy: write it again with 10_2_tfrecord.py.")
    try:
        parse_record(first)
    except (tf.errors.InvalidArgumentError, ValueError) as error:
        raise tfcourse.CourseError(
            f"The records in {path} are not 10-2's captcha records (features image, label0..label3 "
            f"of a {RECORD_SIZE}x{RECORD_SIZE} picture): {str(error).splitlines()[0][:200]}.\n"
            "Remedy: write the file with 10_2_tfrecord.py.") from None
    return count


# ---------------------------------------------------------------- the networks (10-3, 10-4)

DEFAULT_INPUT = {"cnn": (48, 96), "alexnet_v2": (RECORD_SIZE, RECORD_SIZE)}


def _cnn_trunk(inputs):
    """A small CNN with batch normalisation; reads captchas well after minutes on a CPU."""
    x = inputs                                                      # -> (48, 96, 1)
    for filters in (32, 48, 64, 96):
        x = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)  # 0.9: test-ready after ~50 steps
        x = tf.keras.layers.ReLU()(x)
        x = tf.keras.layers.MaxPooling2D(2)(x)                      # -> (24, 48) ... (3, 6)
    x = tf.keras.layers.Flatten()(x)                                # -> (1728,)
    x = tf.keras.layers.Dropout(0.2)(x)
    # Batch norm here too: without it this layer sat at chance (loss 2.30) for 400+ steps at
    # Adam 0.003; with it the loss falls from the first hundred steps.
    x = tf.keras.layers.Dense(256, use_bias=False)(x)               # -> (256,) shared by all heads
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
    x = tf.keras.layers.ReLU()(x)
    return tf.keras.layers.Dropout(0.2)(x)


def _alexnet_v2_trunk(inputs):
    """slim's alexnet_v2 up to fc7 (the lesson's `nets/alexnet.py`), fully connected layers as convolutions."""
    init = tf.keras.initializers.TruncatedNormal(stddev=0.005)
    conv = lambda f, k, **kw: tf.keras.layers.Conv2D(f, k, activation="relu", kernel_initializer=init,  # noqa: E731
                                                     bias_initializer=tf.keras.initializers.Constant(0.1), **kw)
    x = conv(64, 11, strides=4, padding="valid")(inputs)            # -> (54, 54, 64)
    x = tf.keras.layers.MaxPooling2D(3, 2)(x)                       # -> (26, 26, 64)
    x = conv(192, 5, padding="same")(x)
    x = tf.keras.layers.MaxPooling2D(3, 2)(x)                       # -> (12, 12, 192)
    x = conv(384, 3, padding="same")(x)
    x = conv(384, 3, padding="same")(x)
    x = conv(256, 3, padding="same")(x)
    x = tf.keras.layers.MaxPooling2D(3, 2)(x)                       # -> (5, 5, 256)
    x = conv(4096, 5, padding="valid")(x)                           # fc6 -> (1, 1, 4096)
    x = tf.keras.layers.Dropout(0.5)(x)
    x = conv(4096, 1)(x)                                            # fc7 -> (1, 1, 4096)
    x = tf.keras.layers.Dropout(0.5)(x)
    return tf.keras.layers.Flatten()(x)                             # -> (4096,)


def build_model(name="cnn", head="four", input_size=None):
    """Shared trunk + heads. Output: logits (batch, 4, 10), one row of 10 per character.

    head="four": four Dense(10) heads, one per character (the lesson's multi-task network);
    head="single40": one Dense(40) layer read as 4 x 10 (the week-11 homework variant).
    """
    input_size = tuple(input_size or DEFAULT_INPUT[name])
    inputs = tf.keras.Input(shape=input_size + (1,), name="x")
    trunk = {"cnn": _cnn_trunk, "alexnet_v2": _alexnet_v2_trunk}[name](inputs)
    if head == "four":
        heads = [tf.keras.layers.Dense(10, name=f"logits{i}")(trunk) for i in range(4)]
        logits = tf.keras.layers.Lambda(lambda t: tf.stack(t, axis=1), name="stack")(heads)
    else:
        logits = tf.keras.layers.Reshape((4, 10))(tf.keras.layers.Dense(40, name="logits40")(trunk))
    return tf.keras.Model(inputs, logits, name=f"{name}_{head}")


def save_config(folder, config):
    """Write the network's description beside the checkpoints (atomically), for 10-4."""
    path = Path(folder) / "model.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_config(folder):
    path = Path(folder) / "model.json"
    if not path.is_file():
        raise tfcourse.CourseError(f"No trained model in {folder} (model.json is missing).\n"
                                   "Remedy: train one with 10_3_train.py, or pass --train-dir DIR.")
    return json.loads(path.read_text(encoding="utf-8"))


def text_of(digits):
    """[5, 1, 3, 7] -> the lesson's '[5] [1] [3] [7]'."""
    return " ".join(f"[{int(d)}]" for d in digits)
