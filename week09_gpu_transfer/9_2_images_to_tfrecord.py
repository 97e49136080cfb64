"""Lesson 9-2 生成tfrecord文件 — Your own pictures to sharded TFRecord files.

本课把自己的图片（每类一个子文件夹）打包成分片的 TFRecord 文件，为下一课从头训练自己的模型
（9_2_train_own_model.py）做准备：用种子 0 打乱，前 500 张做测试集，训练集和测试集各写 5 个分片，
labels.txt 记下类别编号和名字。与视频的不同：直接用 tf.io.TFRecordWriter（没有 Session、tf.gfile）；
不是图片或解不开的文件会被跳过并列出；所有分片先写成临时文件，全部完成才改名。
没有自己的图片时用 --data shapes（画出来的彩色图形）。

To train a model of your own (next script, `9_2_train_own_model.py`) the lesson first packs a
folder of class sub-folders into TFRecord files, the way TF-slim's dataset scripts do:
  - the pictures are shuffled with --seed (the lesson's 0); the first 500 (`--num-test`) are the test set,
  - each set is written in 5 shards: image_train_00000-of-00005.tfrecord ... image_test_00004-of-00005.tfrecord,
  - each record is a `tf.train.Example` with `image/encoded` (the file's bytes, unchanged),
    `image/format` (b'jpg', b'png', ...) and `image/class/label` (int64),
  - `labels.txt` maps the ids to the folder names, one `id:name` per line (e.g. `0:animal`).
It prints the lesson's progress line, rewritten in place:

    >> Converting image 1234/2345 shard 2

The picture folder (--data-dir, default data/train) holds one sub-folder per class, named after
the class, with its pictures: data/train/flower/*.jpg, data/train/guitar/*.jpg, ... (JPEG, PNG,
GIF or BMP; at least two classes; the course used animal, flower, guitar, house, plane).

Run:
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data-dir data/train
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data shapes          # drawn shapes, no pictures
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data shapes --quick  # 50 per class

The shards and labels.txt go to the run folder (or --out DIR); 9_2_train_own_model.py reads the newest.

Differences from the course code (TensorFlow 1.x + slim's dataset_utils):
  - `tf.io.TFRecordWriter` and `tf.train.Example` directly, no Session or `tf.gfile`; the records
    are the same, so slim-era readers can read them.
  - Files that are not pictures, or that cannot be decoded, are skipped and listed (the course
    skipped only unreadable files); a PNG/GIF/BMP is stored with its real format, not as b'jpg'.
  - All shards are written under temporary names and renamed only when every one is complete
    (tfcourse.atomic_path), so a failed run leaves no shard. Existing shards are kept unless --overwrite.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import contextlib
import math
import random
import shlex
import sys
from pathlib import Path

from _images import ImageFolder, draw_shapes, read_image  # this week's shared helper, beside the lessons

parser = tfcourse.make_parser(__doc__, quick=dict(shapes_per_class=50, num_test=40))
parser.add_argument("--data", choices=["folder", "shapes"], default="folder",
                    help="folder: your pictures in --data-dir (default); shapes: draw coloured shapes "
                         "into the run folder and convert them")
parser.add_argument("--data-dir", "--dataset-dir", "--dataset_dir", dest="data_dir", type=Path,
                    default=Path("data/train"), metavar="DIR",
                    help="folder with one sub-folder of pictures per class (default data/train)")
parser.add_argument("--num-test", type=tfcourse.non_negative_int, default=500, help="test pictures (lesson: 500)")
parser.add_argument("--num-shards", type=tfcourse.positive_int, default=5, help="files per set (lesson: 5)")
parser.add_argument("--shapes-per-class", type=tfcourse.positive_int, default=300, help="for --data shapes")
parser.add_argument("--overwrite", action="store_true", help="convert again even if all shards exist")

FORMAT_NAMES = {"jpeg": b"jpg", "png": b"png", "gif": b"gif", "bmp": b"bmp"}


def shard_name(output_dir, split_name, shard_id, num_shards):
    return Path(output_dir) / ("image_%s_%05d-of-%05d.tfrecord" % (split_name, shard_id, num_shards))


def image_to_tfexample(image_data, image_format, class_id):
    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_data])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_format])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[class_id])),
    }))


def convert_dataset(split_name, items, output_dir, num_shards, temporary):
    """Write `items` [(bytes, format, class id)] into `num_shards` files (at `temporary(path)`)."""
    num_per_shard = int(math.ceil(len(items) / float(num_shards)))
    for shard_id in range(num_shards):
        with tf.io.TFRecordWriter(str(temporary(shard_name(output_dir, split_name, shard_id, num_shards)))) as writer:
            for i in range(shard_id * num_per_shard, min((shard_id + 1) * num_per_shard, len(items))):
                sys.stdout.write("\r>> Converting image %d/%d shard %d" % (i + 1, len(items), shard_id))
                sys.stdout.flush()
                image_data, image_format, class_id = items[i]
                writer.write(image_to_tfexample(image_data, image_format, class_id).SerializeToString())
    sys.stdout.write("\n")
    sys.stdout.flush()


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    output_dir = run.out
    shards = [shard_name(output_dir, s, i, args.num_shards) for s in ("train", "test") for i in range(args.num_shards)]
    if all(p.is_file() for p in shards) and (output_dir / "labels.txt").is_file() and not args.overwrite:
        print(f"tfrecord文件已存在 — the TFRecord files exist already in {output_dir} (--overwrite converts again)")
        run.finish()
        return 0
    if args.data == "shapes":
        args.data_dir = draw_shapes(run.path("shapes"), per_class=args.shapes_per_class, size=64)
        print(f"Drew coloured shapes into {args.data_dir} (stand-in pictures, not your own)")

    # ## The pictures: class folders -> (bytes, format, class id); broken files are skipped
    folder = ImageFolder(args.data_dir)  # a missing folder, or fewer than two classes: one clear message
    folder.report()
    items, broken = [], []
    for path, class_id in folder.all_images():
        try:
            data, kind = read_image(path)
            with tfcourse.quiet_stderr():  # decode once now, so the trainer never meets a broken record
                tf.io.decode_image(data, channels=3, expand_animations=False)
            items.append((data, FORMAT_NAMES[kind], class_id))
        except ValueError as error:
            broken.append((path, str(error)))
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
            broken.append((path, "cannot be decoded (a damaged or truncated image)"))
    for path, reason in broken:
        print(f"WARNING: skipped {path.relative_to(folder.root)}: {reason}")

    # ## The lesson's split: shuffle with seed 0, the first --num-test pictures are the test set
    if args.num_test >= len(items):
        raise tfcourse.CourseError(
            f"Only {len(items)} usable pictures, and --num-test {args.num_test} would leave none for training.\n"
            f"Remedy: add pictures or pass a smaller --num-test (e.g. {max(1, len(items) // 5)}).")
    random.Random(args.seed).shuffle(items)  # the lesson: random.seed(0); random.shuffle(...)
    training, testing = items[args.num_test:], items[:args.num_test]

    # ## Every shard and labels.txt under a temporary name, all renamed when all are complete
    with contextlib.ExitStack() as stack:
        def temporary(path):
            return stack.enter_context(tfcourse.atomic_path(path))
        convert_dataset("train", training, output_dir, args.num_shards, temporary)
        run.record(split="train", images=len(training))
        convert_dataset("test", testing, output_dir, args.num_shards, temporary)
        run.record(split="test", images=len(testing))
        temporary(output_dir / "labels.txt").write_text(
            "".join("%d:%s\n" % (i, name) for i, name in enumerate(folder.class_names)), encoding="utf-8")
    print(f"生成tfrecord文件 — {2 * args.num_shards} shards and labels.txt ({len(folder.class_names)} classes) "
          f"in {output_dir}; next: python week09_gpu_transfer/9_2_train_own_model.py"
          + (f" --data-dir {shlex.quote(str(output_dir))}" if args.out else ""))  # it looks under runs/ only
    run.finish(train_images=len(training), test_images=len(testing))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
