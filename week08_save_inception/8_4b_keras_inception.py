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
  - Keras's two files are fetched by `tfcourse.download` (resumed, size and MD5 checked) into
    the folder where Keras keeps them, instead of `weights="imagenet"`.
"""
# %%
import json
import os
from pathlib import Path

import tfcourse  # first: TensorFlow starts quietly; shared flags, downloads, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, quick=dict(max_images=2))
parser.add_argument("--data-dir", type=tfcourse.folder, metavar="DIR",
                    default=tfcourse.cli.PROJECT_ROOT / "week08_save_inception" / "images",
                    help="folder of pictures to classify (default: week08_save_inception/images/)")
parser.add_argument("--max-images", type=tfcourse.positive_int, default=None,
                    help="classify at most N images")
parser.add_argument("--top-k", type=tfcourse.number(int, 1, 1000), default=5,
                    help="classes printed per image, 1 to 1000 (lesson: 5)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--data-dir ~/Pictures")
run = tfcourse.start(args, "week08_save_inception/8_4b_keras_inception.py")

# %% [markdown]
# ## Data: your pictures
# Every file under --data-dir, sorted; hidden files and READMEs are not pictures.

# %%
files = sorted(p for p in args.data_dir.rglob("*")
               if p.is_file() and not p.name.lower().startswith((".", "readme")))
if not files:
    raise tfcourse.CourseError(f"{args.data_dir} holds no images.\nRemedy: put your photos in "
                               "it, or name another folder with --data-dir DIR.")
files = files[:args.max_images]

# %% [markdown]
# ## Model: Keras's InceptionV3 with ImageNet weights, and its 1000 class names
# Both files are Keras's own, kept where Keras keeps them ($KERAS_HOME/models).

# %%
keras_models = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"
weights = tfcourse.download(
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    keras_models / "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    size=96_112_376, md5="9a0d58056eeedaa3f26cb7ebd46da564")
index_file = tfcourse.download(  # {"0": ["n01440764", "tench"], ...}
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
    keras_models / "imagenet_class_index.json", md5="c2c37ea517e94d9795004a39431a14cb")
model = tf.keras.applications.InceptionV3(weights=str(weights))  # (n, 299, 299, 3) -> (n, 1000)
try:
    index = json.loads(Path(index_file).read_text(encoding="utf-8"))
    names = [index[str(i)][1].replace("_", " ") for i in range(1000)]
except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
    raise tfcourse.CourseError(f"{index_file} is not Keras's class index ({error}).\n"
                               "Remedy: delete it and run again (it is downloaded once more)."
                               ) from None


@tf.function(input_signature=[tf.TensorSpec([], tf.string)])
def predict(image_data):
    image = tf.io.decode_image(image_data, channels=3, expand_animations=False)  # (h, w, 3)
    x = tf.image.resize(tf.cast(image, tf.float32), (299, 299))  # -> (299, 299, 3)
    x = tf.keras.applications.inception_v3.preprocess_input(x)  # [0, 255] -> [-1, 1]
    return model(x[tf.newaxis], training=False)[0]  # -> (1000,) probabilities


# %% [markdown]
# ## Classify, one picture at a time, printed as in lesson 8-4

# %%
failed = []
for file in files:
    try:
        with tfcourse.quiet_stderr(replay=False):  # libjpeg's complaints: said below
            predictions = predict(tf.constant(tfcourse.as_shown(file.read_bytes()))).numpy()
    except (tf.errors.InvalidArgumentError, OSError):
        print(f"{file}\nskipped: not a readable JPEG, PNG, GIF or BMP image\n")
        failed.append(file.name)
        continue
    print(file)
    top_k = predictions.argsort()[-args.top_k:][::-1]
    for i in top_k:
        print("%s (score = %.5f)" % (names[i], predictions[i]))
    print()
    run.log(image=file.name, top_1=names[top_k[0]], score=float(predictions[top_k[0]]))
if failed:
    raise tfcourse.CourseError(f"{len(failed)} of {len(files)} files are not readable images: "
                               f"{', '.join(failed)}\nRemedy: remove them from the folder, or "
                               "convert them to JPEG or PNG.")
run.finish(images=len(files))
