"""Lesson 9-2 生成tfrecord文件 — Your own pictures to sharded TFRecord files.

To train a model of your own (next script, `9_2_train_own_model.py`) the lesson first packs a
folder of class sub-folders into TFRecord files, the way TF-slim's dataset scripts do:
  - the pictures are shuffled with seed 0 and the first 500 (`--num-test`) become the test set,
  - each set is written in 5 shards: image_train_00000-of-00005.tfrecord ... image_test_00004-of-00005.tfrecord,
  - each record is a `tf.train.Example` with `image/encoded` (the file's bytes, unchanged),
    `image/format` (b'jpg', b'png', ...) and `image/class/label` (int64),
  - `labels.txt` maps the ids to the folder names, one `id:name` per line (e.g. `0:animal`).
It prints the lesson's progress line, rewritten in place:

    >> Converting image 1234/2345 shard 2

Run:
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --dataset-dir data/train
    python week09_gpu_transfer/9_2_images_to_tfrecord.py --data shapes --quick   # drawn shapes, no pictures

Differences from the course code (TensorFlow 1.x + slim's dataset_utils):
  - `tf.io.TFRecordWriter` and `tf.train.Example` directly, no Session or `tf.gfile`; the records
    are the same, so slim-era readers can read them.
  - Files that are not pictures, or that cannot be decoded, are skipped and listed (the course
    skipped only unreadable files); a PNG/GIF/BMP is stored with its real format, not as b'jpg'.
  - Shards are written under a temporary name and renamed when complete, so an interrupted run
    never leaves a shard that looks finished. Existing shards are kept unless --overwrite.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import math
import os
import random
import sys
from pathlib import Path

from _images import ImageFolder, draw_shapes, read_image  # this week's shared helper, beside the lessons

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--dataset-dir", type=Path, default=Path("data/train"),
                    help="folder with one sub-folder of pictures per class (default data/train)")
parser.add_argument("--data", choices=["folder", "shapes"], default="folder",
                    help="folder: your pictures in --dataset-dir (default); shapes: draw coloured shapes "
                         "into the run folder and convert them")
parser.add_argument("--output-dir", type=Path, default=None,
                    help="where the shards and labels.txt go (default: the run folder)")
parser.add_argument("--num-test", type=int, default=500, help="pictures in the test set (lesson: 500)")
parser.add_argument("--num-shards", type=int, default=5, help="files per set (lesson: 5)")
parser.add_argument("--overwrite", action="store_true", help="convert again even if all shards exist")

FORMAT_NAMES = {"jpeg": b"jpg", "png": b"png", "gif": b"gif", "bmp": b"bmp"}


def shard_name(output_dir, split_name, shard_id, num_shards):
    return Path(output_dir) / ("image_%s_%05d-of-%05d.tfrecord" % (split_name, shard_id, num_shards))


def dataset_exists(output_dir, num_shards):
    return all(shard_name(output_dir, split, shard, num_shards).is_file()
               for split in ("train", "test") for shard in range(num_shards)) and \
        (Path(output_dir) / "labels.txt").is_file()


def image_to_tfexample(image_data, image_format, class_id):
    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_data])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_format])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[class_id])),
    }))


def convert_dataset(split_name, items, output_dir, num_shards):
    """Write `items` [(bytes, format, class id)] into `num_shards` files; return their paths."""
    num_per_shard = int(math.ceil(len(items) / float(num_shards)))
    written = []
    for shard_id in range(num_shards):
        target = shard_name(output_dir, split_name, shard_id, num_shards)
        tmp = target.with_name(target.name + ".tmp")
        with tf.io.TFRecordWriter(str(tmp)) as tfrecord_writer:
            start_ndx = shard_id * num_per_shard
            end_ndx = min((shard_id + 1) * num_per_shard, len(items))
            for i in range(start_ndx, end_ndx):
                sys.stdout.write("\r>> Converting image %d/%d shard %d" % (i + 1, len(items), shard_id))
                sys.stdout.flush()
                image_data, image_format, class_id = items[i]
                tfrecord_writer.write(image_to_tfexample(image_data, image_format, class_id).SerializeToString())
        written.append((tmp, target))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return written


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    output_dir = args.output_dir or run.out
    output_dir.mkdir(parents=True, exist_ok=True)
    if args.num_shards < 1 or args.num_test < 0:
        raise tfcourse.CourseError("--num-shards must be at least 1 and --num-test at least 0.", exit_code=2)
    if dataset_exists(output_dir, args.num_shards) and not args.overwrite:
        print(f"tfrecord文件已存在 — the TFRecord files exist already in {output_dir} "
              "(pass --overwrite to convert again)")
        return 0
    if args.data == "shapes":
        args.dataset_dir = draw_shapes(run.path("shapes"), per_class=50 if args.quick else 300, size=64)
        print(f"Drew coloured shapes into {args.dataset_dir} (stand-in pictures, not your own)")

    # ## The pictures: class folders -> (bytes, format, class id); broken files are skipped
    folder = ImageFolder(args.dataset_dir)
    folder.report()
    class_names = folder.class_names
    items, broken = [], []
    for path, class_id in folder.all_images():
        try:
            data, kind = read_image(path)
        except ValueError as error:
            broken.append((path, str(error)))
            continue
        with tfcourse.quiet_stderr():  # decode once now, so the trainer never meets a broken record
            try:
                tf.io.decode_image(data, channels=3, expand_animations=False)
                items.append((data, FORMAT_NAMES[kind], class_id))
            except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
                broken.append((path, "cannot be decoded (a damaged or truncated image)"))
    for path, reason in broken:
        print(f"WARNING: skipped {path.relative_to(folder.root)}: {reason}")

    # ## The lesson's split: shuffle with seed 0, the first --num-test pictures are the test set
    num_test = min(args.num_test, len(items) // 5) if args.quick else args.num_test
    if num_test >= len(items):
        raise tfcourse.CourseError(
            f"Only {len(items)} usable pictures, and --num-test {num_test} would leave none for training.\n"
            f"Remedy: add pictures or pass a smaller --num-test (e.g. {max(1, len(items) // 5)}).")
    random.Random(args.seed).shuffle(items)  # the lesson: random.seed(0); random.shuffle(...)
    training, testing = items[num_test:], items[:num_test]

    # ## Write the shards (temporary names, renamed when all are complete) and labels.txt
    written = convert_dataset("train", training, output_dir, args.num_shards)
    written += convert_dataset("test", testing, output_dir, args.num_shards)
    for tmp, target in written:
        os.replace(tmp, target)
    labels_file = output_dir / "labels.txt"
    tmp = labels_file.with_name("labels.txt.tmp")
    tmp.write_text("".join("%d:%s\n" % (i, name) for i, name in enumerate(class_names)), encoding="utf-8")
    os.replace(tmp, labels_file)
    print(f"生成tfrecord文件 — wrote {len(training)} training and {len(testing)} test pictures of "
          f"{len(class_names)} classes as {2 * args.num_shards} shards and labels.txt in {output_dir}")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
