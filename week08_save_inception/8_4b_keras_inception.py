"""Lesson 8-4b 用Keras的InceptionV3识别图像 — The same pictures with Keras's InceptionV3.

本课是 8-4 的今天的写法：不用 2015 年的冻结图，而用 tf.keras.applications.InceptionV3（ImageNet
权重，96.1 MB，第一次运行时下载到 Keras 的缓存目录），用它自己的预处理（缩放到 299x299、像素
变到 [-1, 1]）和它自己的 1000 个类别名称。视频里没有这一部分。

For every image in a folder (default week08_save_inception/images/) it prints the path and the
top 5 classes in the lesson's format, `%s (score = %.5f)`. Both models give the same top labels
for clear photos; the scores differ a little (two different trainings of Inception-v3, 1008
outputs against 1000).

Run:
    python week08_save_inception/8_4b_keras_inception.py
    python week08_save_inception/8_4b_keras_inception.py --data-dir ~/Pictures/holiday --top-k 3

Differences from lesson 8-4 (the course's code):
  - A Keras model instead of a GraphDef: no Session, no tensor names; any JPEG, PNG, GIF or BMP is
    decoded by `tf.io.decode_image` inside the model's `tf.function`.
  - The class names come from Keras's imagenet_class_index.json (downloaded once), not NodeLookup.
"""
import json
from pathlib import Path

import tfcourse  # quiet TensorFlow import, shared flags, downloads
import tensorflow as tf
from tfcourse import inception

WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
CLASS_INDEX = "imagenet_class_index.json"  # {"0": ["n01440764", "tench"], ...}

parser = tfcourse.make_parser(__doc__, quick=dict(max_images=2))
parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent / "images", metavar="DIR",
                    help="folder of pictures to classify (default: week08_save_inception/images/)")
parser.add_argument("--max-images", type=tfcourse.positive_int, default=None, help="classify at most N images")
parser.add_argument("--top-k", type=tfcourse.positive_int, default=5, help="classes printed per image (lesson: 5)")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    files = sorted(p for p in args.data_dir.rglob("*")
                   if p.is_file() and not p.name.lower().startswith((".", "readme")))
    if not files:
        raise tfcourse.CourseError(f"{args.data_dir} holds no images.\nRemedy: put your photos in it, "
                                   "or name another folder with --data-dir DIR.")
    files = files[:args.max_images]

    # ## The model and its 1000 class names
    model = tf.keras.applications.InceptionV3(weights=str(inception.keras_file(WEIGHTS)))  # -> (1000,)
    index_file = inception.keras_file(CLASS_INDEX)
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
        names = [index[str(i)][1].replace("_", " ") for i in range(1000)]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise tfcourse.CourseError(f"{index_file} is not Keras's class index ({error}).\n"
                                   "Remedy: delete it and run again (it is downloaded once more).") from None

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def predict(image_data):
        image = tf.io.decode_image(image_data, channels=3, expand_animations=False)  # -> (h, w, 3) uint8
        x = tf.image.resize(tf.cast(image, tf.float32), (299, 299))                  # -> (299, 299, 3)
        x = tf.keras.applications.inception_v3.preprocess_input(x)                   # [0, 255] -> [-1, 1]
        return model(x[tf.newaxis], training=False)[0]                               # -> (1000,)

    # ## Classify, one picture at a time, printed as in lesson 8-4
    failed = []
    for file in files:
        try:
            with tfcourse.quiet_stderr():  # libjpeg writes its complaints straight to stderr
                predictions = predict(tf.constant(file.read_bytes())).numpy()
        except (tf.errors.InvalidArgumentError, OSError):
            print(f"{file}\nskipped: not a readable JPEG, PNG, GIF or BMP image\n")
            failed.append(file.name)
            continue
        print(file)
        top_k = predictions.argsort()[-args.top_k:][::-1]
        for i in top_k:
            print("%s (score = %.5f)" % (names[i], predictions[i]))
        print()
        run.record(image=file.name, top_1=names[top_k[0]], score=float(predictions[top_k[0]]))
    if failed:
        raise tfcourse.CourseError(f"{len(failed)} of {len(files)} files are not readable images: {', '.join(failed)}"
                                   "\nRemedy: remove them from the folder, or convert them to JPEG or PNG.")
    run.finish(images=len(files))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
