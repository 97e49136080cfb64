"""Shared by the week-10 lessons (not a lesson): captcha pictures, the record format, the networks.

10-1 draws captchas, 10-2 writes them to TFRecords, 10-3 trains on them and 10-4 tests; all four
need the same file names, the same record format and the same network, so they live here once.
Each lesson finds the one before it with `tfcourse.latest_run` (10-1 -> 10-2 -> 10-3 -> 10-4).
"""
import io
import json
import random
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

import tfcourse
from tfcourse.tfrecords import check_tfrecord

WEEK = "week10_captcha_tfrecord"
LESSON = {n: f"{WEEK}/{name}.py" for n, name in (
    ("10-1", "10_1_generate_captcha"), ("10-2", "10_2_tfrecord"), ("10-3", "10_3_train"), ("10-4", "10_4_test"))}
RECORD_SIZE = 224                 # the lesson stores 224x224 grayscale pixels (AlexNet's input)
CAPTCHA_NAME = re.compile(r"^(\d{4})\.(jpg|jpeg|png)$", re.IGNORECASE)


def input_folder(given, lesson, need, what):
    """`given` (a --data-dir / --model-dir), else the newest finished run of `lesson` holding `need`."""
    folder = given or tfcourse.latest_run(LESSON[lesson], need=need)
    if folder is None:
        raise tfcourse.CourseError(f"No {what} found: no finished run of lesson {lesson} holds {need}.\n"
                                   f"Remedy: run python {LESSON[lesson]} first, or pass the folder with "
                                   f"{'--model-dir' if lesson == '10-3' else '--data-dir'} DIR.")
    return Path(folder)


# ---------------------------------------------------------------- captcha pictures (10-1, 10-2, 10-4)

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
                                   f"Remedy: run python {LESSON['10-1']} first, or pass --data-dir DIR.")
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

    Works on one record or on a batch (tf.io.parse_example is vectorised: a batch at once is
    several times faster than record by record).
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
    """tf.data pipeline: read records -> shuffle -> batch -> parse a batch at a time, in parallel."""
    data = tf.data.TFRecordDataset(str(path), buffer_size=8 << 20)
    if repeat:
        data = data.repeat()
    if shuffle:
        data = data.shuffle(shuffle, seed=seed)
    data = data.batch(batch_size).map(lambda records: parse_and_scale(records, input_size),
                                      num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


def parse_and_scale(records, input_size):
    image, labels = parse_record(records)
    return to_input(image, input_size), labels


def check_records(path):
    """How many records `path` holds; a damaged, truncated or foreign file -> one CourseError."""
    return check_tfrecord(path, f"write it (again) with python {LESSON['10-2']}", features=FEATURES)


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

    def conv(filters, kernel, **kw):
        return tf.keras.layers.Conv2D(filters, kernel, activation="relu", kernel_initializer=init,
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


def build_model(arch="cnn", head="four", input_size=None):
    """Shared trunk + heads. Output: logits (batch, 4, 10), one row of 10 per character.

    head="four": four Dense(10) heads, one per character (the lesson's multi-task network);
    head="single40": one Dense(40) layer read as 4 x 10 (the week-11 homework variant).
    """
    input_size = tuple(input_size or DEFAULT_INPUT[arch])
    inputs = tf.keras.Input(shape=input_size + (1,), name="x")
    trunk = {"cnn": _cnn_trunk, "alexnet_v2": _alexnet_v2_trunk}[arch](inputs)
    if head == "four":
        heads = [tf.keras.layers.Dense(10, name=f"logits{i}")(trunk) for i in range(4)]
        logits = tf.keras.layers.Lambda(lambda t: tf.stack(t, axis=1), name="stack")(heads)
    else:
        logits = tf.keras.layers.Reshape((4, 10))(tf.keras.layers.Dense(40, name="logits40")(trunk))
    return tf.keras.Model(inputs, logits, name=f"{arch}_{head}")


# ---------------------------------------------------------------- 10-3's model folder (10-3, 10-4)

def save_config(folder, config):
    """model.json beside the checkpoints: the network's description, for 10-4 and for resuming."""
    tfcourse.atomic_write(Path(folder) / "model.json", json.dumps(config, indent=1))


def load_config(folder, remedy=None):
    """10-3's model.json as a dict; missing or damaged -> a CourseError ending with `remedy`."""
    path = Path(folder) / "model.json"
    remedy = remedy or (f"train a model with python {LESSON['10-3']} (10-4 then finds it), "
                        "or pass its run folder with --model-dir DIR.")
    if not path.is_file():
        raise tfcourse.CourseError(f"No model of lesson 10-3 in {folder}: model.json is missing (the folder "
                                   f"holds {_listing(folder)}).\nRemedy: {remedy}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        if set(config) != {"arch", "head", "input_size"} or config["arch"] not in DEFAULT_INPUT:
            raise ValueError(f"it has the keys {sorted(config)}")
        return config
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise tfcourse.CourseError(f"{path} is damaged or not 10-3's: {str(error)[:80]}.\n"
                                   f"Remedy: {remedy}") from None


def _listing(folder):
    if not Path(folder).is_dir():
        return "nothing: it does not exist"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in Path(folder).iterdir())
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "") if names else "nothing"


def restore(checkpoint, path, model, remedy):
    """checkpoint.restore(path), checked: every variable of `model` must come from the file.

    `expect_partial()` alone accepts any checkpoint (another lesson's restores nothing and says
    nothing); `assert_existing_objects_matched()` fails unless the model's variables were found.
    """
    try:
        checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, KeyError, IndexError, tf.errors.OpError) as error:
        why = "" if isinstance(error, AssertionError) else f" ({str(error).splitlines()[0][:120]})"
        try:
            held = [f"{name.replace('/.ATTRIBUTES/VARIABLE_VALUE', '')} {tuple(shape)}"
                    for name, shape in tf.train.list_variables(path)
                    if name != "_CHECKPOINTABLE_OBJECT_GRAPH" and not name.startswith("save_counter")]
            what = f"{len(held)} variables: " + ", ".join(held[:4]) + (" ..." if len(held) > 4 else "")
        except (tf.errors.OpError, ValueError):
            what = "something that cannot be read as a checkpoint (damaged?)"
        raise tfcourse.CourseError(f"The checkpoint {path} is not one of the network {model.name} "
                                   f"({len(model.variables)} variables): it holds {what}{why}.\n"
                                   f"Remedy: {remedy}") from None


def text_of(digits):
    """[5, 1, 3, 7] -> the lesson's '[5] [1] [3] [7]'."""
    return " ".join(f"[{int(d)}]" for d in digits)
