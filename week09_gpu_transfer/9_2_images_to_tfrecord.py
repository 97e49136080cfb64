"""Lesson 9-2 生成tfrecord文件 — Your own pictures to sharded TFRecord files.

本课把自己的图片（每类一个子文件夹）打包成分片的 TFRecord 文件，为下一课从头训练自己的模型
（9_2_train_own_model.py）做准备：用种子 0 打乱，前 500 张做测试集，训练集和测试集各写 5 个分片，
labels.txt 记下类别编号和名字。与视频的不同：直接用 tf.io.TFRecordWriter（没有 Session、
tf.gfile）；不是图片或解不开的文件会被跳过并列出；每个分片先写成临时文件，写完才改名，
labels.txt 最后写，所以有 labels.txt 就说明整套分片是完整的。没有自己的图片时用 --data shapes。

To train a model of your own (next lesson, `9_2_train_own_model.py`) the pictures are first
packed into TFRecord files, the way TF-slim's dataset scripts do:
  - shuffled with --seed (the lesson's 0); the first 500 (`--num-test`) are the test set,
  - each set in 5 shards: image_train_00000-of-00005.tfrecord ... image_test_00004-of-00005,
  - each record a `tf.train.Example` with `image/encoded` (the file's bytes, unchanged),
    `image/format` (b'jpg', b'png', ...) and `image/class/label` (int64),
  - `labels.txt` maps the ids to the folder names, one `id:name` per line (e.g. `0:animal`).
It prints the lesson's progress line, rewritten in place:

    >> Converting image 1234/2345 shard 2

The picture folder (--data-dir, default data/train) holds one sub-folder per class, named after
the class: data/train/flower/*.jpg, data/train/guitar/*.jpg, ... (JPEG, PNG, GIF or BMP; at least
two classes; the course used animal, flower, guitar, house, plane).

Run:
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data-dir data/train
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data shapes          # drawn shapes
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data shapes --quick  # 50 per class
The shards and labels.txt go to the run folder (or --out DIR); 9-2-train reads the newest.

Differences from the course code (TensorFlow 1.x + slim's dataset_utils):
  - `tf.io.TFRecordWriter` and `tf.train.Example` directly, no Session or `tf.gfile`; the
    records are the same, so slim-era readers can read them.
  - Files that are not pictures, or that cannot be decoded, are skipped and listed (the course
    skipped only unreadable files); a PNG/GIF/BMP is stored with its real format, not b'jpg'.
  - Each shard is written under a temporary name and renamed when complete (Ctrl-C or a kill
    leaves no half shard); labels.txt comes last. Shards already there are kept unless
    --overwrite.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, files written whole
import tensorflow as tf

import math
import random
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week09_gpu_transfer"))  # also in a notebook
from _images import class_folders, draw_shapes  # this week's picture plumbing, beside the lessons

parser = tfcourse.parser(__doc__, quick=dict(shapes_per_class=50, num_test=40))
parser.add_argument("--data", choices=["folder", "shapes"], default="folder",
                    help="folder: your pictures in --data-dir (default); shapes: draw coloured "
                         "shapes into the run folder and convert them")
parser.add_argument("--data-dir", "--dataset-dir", "--dataset_dir", dest="data_dir",
                    type=tfcourse.folder, default=Path("data/train"), metavar="DIR",
                    help="folder with one sub-folder of pictures per class (default data/train)")
parser.add_argument("--num-test", type=tfcourse.non_negative_int, default=500,
                    help="test pictures (lesson: 500)")
parser.add_argument("--num-shards", type=tfcourse.number(int, 1, 1000), default=5,
                    help="files per set, 1-1000 (lesson: 5)")
parser.add_argument("--shapes-per-class", type=tfcourse.number(int, 1, 100000), default=300,
                    help="pictures per class for --data shapes (default 300)")
parser.add_argument("--overwrite", action="store_true",
                    help="convert again even if a complete set of shards is there")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--data shapes --quick")
run = tfcourse.start(args, "week09_gpu_transfer/9_2_images_to_tfrecord.py")


def shard_name(split_name, shard_id):
    return run.out / ("image_%s_%05d-of-%05d.tfrecord" % (split_name, shard_id, args.num_shards))


shards = [shard_name(split, i) for split in ("train", "test") for i in range(args.num_shards)]
complete = (run.out / "labels.txt").is_file() and all(path.is_file() for path in shards)
convert = args.overwrite or not complete
if not convert:
    print(f"tfrecord文件已存在 — the TFRecord files exist already in {run.out} "
          "(--overwrite converts again)")

# %% [markdown]
# ## Data: class folders -> (bytes, format, class id); broken files are skipped
# Each picture is decoded once now, so that the trainer never meets a broken record.

# %%
FORMAT_NAMES = {b"\xff\xd8\xff": b"jpg", b"\x89PNG": b"png", b"GIF8": b"gif", b"BM": b"bmp"}
image_dir = args.data_dir
if args.data == "shapes" and convert:
    image_dir = draw_shapes(run.path("shapes"), per_class=args.shapes_per_class, size=64)
    print(f"Drew coloured shapes into {image_dir} (stand-in pictures, not your own)")
items = []  # (image bytes, format, class id)
if convert:
    classes = class_folders(image_dir)  # a missing folder, or fewer than two classes: a message
    class_names = sorted(classes)
    for class_id, name in enumerate(class_names):
        for path in classes[name]:
            image_data = tfcourse.as_shown(path.read_bytes())  # as shown: upright, on white
            try:
                with tfcourse.quiet_stderr(replay=False):  # libjpeg's complaints: said below
                    tf.io.decode_image(image_data, channels=3, expand_animations=False)
            except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
                print(f"WARNING: skipped {path.relative_to(image_dir)}: cannot be decoded "
                      "(a damaged or truncated image)")
                continue
            image_format = next(name for magic, name in FORMAT_NAMES.items()
                                if image_data.startswith(magic))
            items.append((image_data, image_format, class_id))

# %% [markdown]
# ## The lesson's split: shuffle with seed 0, the first --num-test pictures are the test set

# %%
if convert and args.num_test >= len(items):
    raise tfcourse.CourseError(
        f"Only {len(items)} usable pictures, and --num-test {args.num_test} would leave none "
        f"for training.\nRemedy: add pictures or pass a smaller --num-test "
        f"(e.g. {max(1, len(items) // 5)}).")
random.Random(args.seed).shuffle(items)  # the lesson: random.seed(0); random.shuffle(...)
training, testing = items[args.num_test:], items[:args.num_test]

# %% [markdown]
# ## Writing: each record a tf.train.Example, each shard whole or not at all
# `tfcourse.atomic_path` gives a temporary name that is renamed when the block ends without an
# error, and removed otherwise (Ctrl-C, a kill, a full disk). labels.txt is written last: with it
# there, the set is complete. Converting again first removes the old set's labels.txt and shards.

# %%
def image_to_tfexample(image_data, image_format, class_id):
    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_data])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_format])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[class_id])),
    }))


def convert_dataset(split_name, split_items):
    num_per_shard = int(math.ceil(len(split_items) / float(args.num_shards)))
    for shard_id in range(args.num_shards):
        with tfcourse.atomic_path(shard_name(split_name, shard_id)) as tmp:
            with tf.io.TFRecordWriter(str(tmp)) as writer:
                start = shard_id * num_per_shard
                for i in range(start, min(start + num_per_shard, len(split_items))):
                    sys.stdout.write("\r>> Converting image %d/%d shard %d"
                                     % (i + 1, len(split_items), shard_id))
                    sys.stdout.flush()
                    writer.write(image_to_tfexample(*split_items[i]).SerializeToString())
    sys.stdout.write("\n")
    sys.stdout.flush()


if convert:
    (run.out / "labels.txt").unlink(missing_ok=True)  # the old set is no longer complete
    for old in run.out.glob("image_*_*-of-*.tfrecord"):
        old.unlink()
    convert_dataset("train", training)
    run.log(split="train", images=len(training))
    convert_dataset("test", testing)
    run.log(split="test", images=len(testing))
    tfcourse.atomic_write(run.out / "labels.txt",
                          "".join("%d:%s\n" % (i, name) for i, name in enumerate(class_names)))
    print(f"生成tfrecord文件 — {2 * args.num_shards} shards and labels.txt "
          f"({len(class_names)} classes) in {run.out}")
# 9-2-train looks under runs/ by itself; a folder of your own (--out) is named for it
print("next: python week09_gpu_transfer/9_2_train_own_model.py"
      + (f" --data-dir {shlex.quote(str(run.out))}" if args.out else ""))
if convert:
    run.finish(train_images=len(training), test_images=len(testing))
else:
    run.finish()
