"""Lesson 9-retrain 使用inception-v3做迁移学习(retrain) — Transfer learning: a new last layer.

本课用自己的图片（每类一个子文件夹，如 data/train/flower/*.jpg）做迁移学习：Inception-v3 不变，
只训练新的最后一层 softmax（final_result），输入是它 2048 维的 pool_3 输出（bottleneck，每张图只算
一次并缓存成文本文件）；200 步，学习率 0.01，每批 100。与视频的不同：默认用 Keras 的 InceptionV3
（--graph 用课程 2015 年的冻结图，在 TF2 里导入成一个函数）；输出 SavedModel；图片改了
bottleneck 就重算；retrain.py 的参数名（--image_dir 等）照样可用。

As retrain.py: cached bottlenecks (--bottleneck-dir), the sets by a hash of the file name; every 10
steps `<time>: Step 190: Train accuracy = 98.0%`, `Cross entropy = 0.123456` and
`Validation accuracy = 95.0% (N=100)`, at the end `Final test accuracy = 94.3% (N=53)`. Saved for
9-1: output_model/ (a SavedModel: picture bytes -> final_result) and output_labels.txt.
Run:
    python week09_gpu_transfer/9_1_retrain.py --data-dir data/train [--graph]   (or --data shapes)
    python week09_gpu_transfer/9_1_retrain.py --image_dir data/train --how_many_training_steps 200
    python week09_gpu_transfer/9_1_retrain.py --data shapes --quick

Differences from retrain.py (TF 1.x): TF2, with the 2015 graph imported into a TF2 function
(`tf.compat.v1.wrap_function` + `prune`); a SavedModel, not output_graph.pb; PNG/GIF/BMP work,
unreadable files are skipped and listed; a cache file holds its picture's SHA-1, so a changed
picture is computed again. Not ported: the distortion flags (--flip_left_right, ...) and the
TensorBoard summaries.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, downloads, the run folder
import tensorflow as tf

import datetime
import hashlib
import os
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week09_gpu_transfer"))  # also in a notebook
from _images import class_folders, draw_shapes  # this week's picture plumbing, beside the lessons

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week08_save_inception"))
import _inception  # noqa: E402  (week 8's Inception plumbing: find, download, read the 2015 graph)

RETRAIN = "week09_gpu_transfer/9_1_retrain.py"
percentage = tfcourse.number(float, 0, 100)
parser = tfcourse.parser(__doc__, quick=dict(steps=20, max_per_class=10))
add = parser.add_argument
add("--data", choices=["photos", "shapes"], default="photos",
    help="photos: your pictures in --data-dir (default); shapes: drawn coloured shapes")
add("--data-dir", "--image_dir", type=tfcourse.folder, default=Path("data/train"), metavar="DIR",
    help="one sub-folder of pictures per class (lesson: data/train)")
add("--max-per-class", type=tfcourse.positive_int, default=None,
    help="use at most N pictures per class")
add("--steps", "--how_many_training_steps", type=tfcourse.positive_int, default=200,
    help="training steps (lesson: 200)")
add("--batch-size", "--train_batch_size", type=tfcourse.positive_int, default=100,
    help="bottlenecks per step (lesson: 100)")
add("--lr", "--learning_rate", type=tfcourse.positive_float, default=0.01,
    help="learning rate of the new layer (lesson: 0.01)")
add("--validation-percentage", "--validation_percentage", type=percentage, default=10,
    help="0-100 (lesson: 10)")
add("--testing-percentage", "--testing_percentage", type=percentage, default=10,
    help="0-100 (lesson: 10)")
add("--bottleneck-dir", "--bottleneck_dir", type=tfcourse.folder, metavar="DIR",
    help="the cache (default: runs/week09_gpu_transfer/9_1_retrain/bottleneck, or in --out)")
add("--output-model", "--output_graph", type=tfcourse.folder, metavar="DIR",
    help="the SavedModel folder (default: output_model/ in the run folder)")
add("--output-labels", "--output_labels", type=Path, metavar="FILE",
    help="the labels file (default: output_labels.txt in the run folder)")
add("--graph", action="store_true",
    help="the lesson's 2015 graph instead of Keras's InceptionV3 (its flags below)")
_inception.add_model_flags(parser)  # --model-dir (retrain.py's --model_dir), --inception-url, ...
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--data shapes --quick")
if args.validation_percentage + args.testing_percentage >= 100:
    raise tfcourse.CourseError(
        f"--validation-percentage {args.validation_percentage:g} and --testing-percentage "
        f"{args.testing_percentage:g} leave no pictures for training.\n"
        "Remedy: keep their sum below 100 (the lesson: 10 and 10).")
if args.output_labels is not None and args.output_labels.is_dir():
    raise tfcourse.CourseError(f"--output-labels {args.output_labels} is a folder, not a file.\n"
                               "Remedy: name a file, e.g. --output-labels output_labels.txt.")
run = tfcourse.start(args, RETRAIN)

# %% [markdown]
# ## Data: one sub-folder of pictures per class; the folder names are the labels

# %%
image_dir = args.data_dir
if args.data == "shapes":
    image_dir = draw_shapes(run.path("shapes"), per_class=40)
images = class_folders(image_dir, max_per_class=args.max_per_class)  # {class: [Path]}
class_names = sorted(images)

# %% [markdown]
# ## The frozen base: picture bytes -> the 2048 numbers of pool_3 (the "bottleneck")
# Keras's InceptionV3 without its top (ImageNet weights, 88 MB, downloaded once), or with
# --graph the lesson's 2015 GraphDef. A TF1 GraphDef runs in TF2 as a function: import it inside
# `tf.compat.v1.wrap_function`, then `prune` that to the input and output tensors we need.

# %%
if args.graph:
    base_name = "pool_3_2015"  # the cache of each base has its own name
    graph_def = _inception.load_graph_def(  # with the 2015 batch norm rewritten for today's TF
        _inception.ensure_inception(args) / "classify_image_graph_def.pb")
    imported = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(graph_def, name=""), signature=[])
    try:
        graph_pool_3 = imported.prune(  # JPEG bytes (a scalar string) -> (1, 2048)
            imported.graph.get_tensor_by_name("DecodeJpeg/contents:0"),
            imported.graph.get_tensor_by_name("pool_3/_reshape:0"))
    except KeyError as error:
        raise tfcourse.CourseError(
            f"The graph lacks the tensor {error}: it is not Inception-v3's "
            "classify_image_graph_def.pb.\nRemedy: delete the model folder and run "
            "week08_save_inception/8_3_download_inception.py again.") from None
    keras_base = None
else:
    base_name = "inception_v3"
    WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    keras_models = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"
    try:
        weights = tfcourse.download(
            ["https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
             + WEIGHTS], keras_models / WEIGHTS, size=87_910_968,
            md5="bcbd6486424b2319ff4ef7d526e38f63")
    except tfcourse.DownloadError as error:
        message = f"{error}\n  - or use the lesson's 2015 graph: --graph"
        raise tfcourse.DownloadError(message) from None
    keras_base = tf.keras.applications.InceptionV3(  # (n, 299, 299, 3) -> (n, 2048)
        include_top=False, pooling="avg", weights=str(weights), input_shape=(299, 299, 3))
    graph_pool_3 = None

# %% [markdown]
# ## Model: the frozen base, then the one new layer, `final_result`
# A `tf.Module`, so that 9-1 can load it whole: picture bytes in, class probabilities out.

# %%
class Retrained(tf.Module):
    def __init__(self, labels, keras_base, graph_pool_3):
        super().__init__()
        self.labels = tf.Variable(labels, trainable=False, name="labels")  # saved with the model
        self.W = tf.Variable(tf.random.truncated_normal([2048, len(labels)], stddev=0.001),
                             name="final_weights")
        self.b = tf.Variable(tf.zeros([len(labels)]), name="final_biases")
        self.keras_base = keras_base
        self.graph_base = [graph_pool_3] if graph_pool_3 is not None else []

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def bottleneck(self, image_data):  # -> (2048,)
        image = tf.io.decode_image(image_data, channels=3, expand_animations=False)
        if self.graph_base:  # the 2015 graph decodes a JPEG itself: re-encode PNG, GIF, BMP
            jpeg = tf.cond(tf.io.is_jpeg(image_data),
                           lambda: image_data, lambda: tf.io.encode_jpeg(image))
            return tf.reshape(self.graph_base[0](jpeg), [2048])
        x = tf.image.resize(tf.cast(image, tf.float32), [299, 299])      # -> (299, 299, 3)
        x = tf.keras.applications.inception_v3.preprocess_input(x)       # [0, 255] -> [-1, 1]
        return self.keras_base(x[tf.newaxis], training=False)[0]

    def logits(self, bottlenecks):  # the new layer: (n, 2048) -> (n, classes)
        return tf.matmul(bottlenecks, self.W) + self.b

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, images):
        bottlenecks = tf.map_fn(self.bottleneck, images,
                                fn_output_signature=tf.TensorSpec([2048], tf.float32))
        return {"final_result": tf.nn.softmax(self.logits(bottlenecks))}


model = Retrained(class_names, keras_base, graph_pool_3)

# %% [markdown]
# ## The bottleneck cache: each picture goes through Inception-v3 once
# retrain.py's layout, one text file per picture, `<cache>/<class>/<file>_<base>.txt`, its 2048
# numbers comma-separated. Here the first line holds the picture's SHA-1, so a changed picture is
# computed again (retrain.py reused a stale one); a damaged cache file is computed again too.

# %%
if args.bottleneck_dir:
    bottleneck_dir = args.bottleneck_dir
elif args.out:
    bottleneck_dir = run.out / "bottleneck"  # a run folder of your own keeps its own cache
else:
    bottleneck_dir = run.out.parent / "bottleneck"  # shared by every run of this lesson

bottlenecks = {}  # {path: (2048,) array}
created = 0
for name in class_names:
    for path in images[name]:
        data = tfcourse.as_shown(path.read_bytes())  # as shown: upright, on white
        digest = hashlib.sha1(data).hexdigest()
        cache = bottleneck_dir / path.relative_to(image_dir).parent / f"{path.name}_{base_name}.txt"
        try:
            header, values = cache.read_text(encoding="utf-8").split("\n", 1)
            if header == f"sha1={digest}" and len(values.split(",")) == 2048:
                bottlenecks[path] = np.array(values.split(","), np.float32)
                continue
        except (OSError, ValueError):  # missing, or damaged: computed again
            pass
        try:
            with tfcourse.quiet_stderr(replay=False):  # libjpeg's complaints: said below
                bottlenecks[path] = model.bottleneck(tf.constant(data)).numpy()
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
            print(f"WARNING: skipped {path.relative_to(image_dir)}: cannot be decoded "
                  "(a damaged or truncated image)")
            continue
        text = ",".join(f"{v:.7g}" for v in bottlenecks[path])
        tfcourse.atomic_write(cache, f"sha1={digest}\n{text}")
        created += 1
        if created % 100 == 0:
            print(f"{created} bottleneck files created.", flush=True)
print(f"Bottlenecks: {created} computed, {len(bottlenecks) - created} reused from {bottleneck_dir}")

# %% [markdown]
# ## Training, validation and testing sets: by a hash of the file name
# retrain.py's rule: the same name always lands in the same set, so adding pictures later never
# moves old ones from the test set into training. (`_nohash_` and what follows is not hashed.)

# %%
MAX_NUM_IMAGES_PER_CLASS = 2 ** 27 - 1  # retrain.py's constant


def which_set(file_name):
    hash_name = re.sub(r"_nohash_.*$", "", file_name)
    hashed = int(hashlib.sha1(hash_name.encode("utf-8")).hexdigest(), 16)
    percentage_hash = ((hashed % (MAX_NUM_IMAGES_PER_CLASS + 1))
                       * (100.0 / MAX_NUM_IMAGES_PER_CLASS))
    if percentage_hash < args.validation_percentage:
        return "validation"
    if percentage_hash < args.validation_percentage + args.testing_percentage:
        return "testing"
    return "training"


sets = {"training": ([], []), "validation": ([], []), "testing": ([], [])}  # (x, labels)
for label, name in enumerate(class_names):
    for path in images[name]:
        if path in bottlenecks:
            x, y = sets[which_set(path.name)]
            x.append(bottlenecks[path])
            y.append(label)
print("Images per set: " + ", ".join(f"{name} {len(y)}" for name, (x, y) in sets.items()))
if not sets["training"][1]:
    raise tfcourse.CourseError(
        "No picture fell into the training set.\nRemedy: add pictures, or lower "
        "--validation-percentage / --testing-percentage.")
train_x, train_y = (np.array(sets["training"][0], np.float32).reshape(-1, 2048),  # -> (n, 2048)
                    np.array(sets["training"][1], np.int64))
val_x, val_y = (np.array(sets["validation"][0], np.float32).reshape(-1, 2048),
                np.array(sets["validation"][1], np.int64))
test_x, test_y = (np.array(sets["testing"][0], np.float32).reshape(-1, 2048),
                  np.array(sets["testing"][1], np.int64))

# %% [markdown]
# ## Loss and optimizer: cross-entropy on the new layer's logits, plain gradient descent

# %%
optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model.logits(x)
        cross_entropy = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    gradients = tape.gradient(cross_entropy, [model.W, model.b])
    optimizer.apply_gradients(zip(gradients, [model.W, model.b]))
    return cross_entropy


def accuracy(x, y):
    if len(y) == 0:
        return float("nan")
    return float(np.mean(np.argmax(model.logits(x), 1) == y))

# %% [markdown]
# ## Training: only the new layer; the bottlenecks are fixed numbers now
# Each step takes --batch-size random bottlenecks (with repeats, as retrain.py); every 10 steps
# (retrain.py's --eval_step_interval) the lesson's three lines.

# %%
rng = np.random.default_rng(args.seed)
for i in range(args.steps):
    index = rng.integers(0, len(train_x), args.batch_size)
    cross_entropy = train_step(train_x[index], train_y[index])  # a tensor: no wait for it
    if i % 10 == 0 or i + 1 == args.steps:
        cross_entropy = float(cross_entropy)
        run.check_finite(cross_entropy, f"step {i}")
        train_accuracy = accuracy(train_x[index], train_y[index])
        v = rng.integers(0, len(val_x), 100) if len(val_x) else []  # --validation_batch_size 100
        validation_accuracy = accuracy(val_x[v], val_y[v])
        now = datetime.datetime.now()
        print("%s: Step %d: Train accuracy = %.1f%%" % (now, i, train_accuracy * 100))
        print("%s: Step %d: Cross entropy = %f" % (now, i, cross_entropy))
        print("%s: Step %d: Validation accuracy = %.1f%% (N=%d)"
              % (now, i, validation_accuracy * 100, len(v)))
        run.log(step=i, train_accuracy=train_accuracy, cross_entropy=cross_entropy,
                validation_accuracy=validation_accuracy)

# %% [markdown]
# ## Evaluation on the test pictures, which training never saw

# %%
test_accuracy = accuracy(test_x, test_y)
print("Final test accuracy = %.1f%% (N=%d)" % (test_accuracy * 100, len(test_y)))

# %% [markdown]
# ## Saved for 9-1: the SavedModel (picture bytes -> final_result) and output_labels.txt
# Written under a temporary name and renamed when complete: a stopped run leaves no half model.

# %%
output_model = args.output_model or run.out / "output_model"
labels_file = args.output_labels or run.out / "output_labels.txt"
with tfcourse.atomic_path(output_model) as tmp:
    tf.saved_model.save(model, str(tmp), signatures={"serving_default": model.__call__})
tfcourse.atomic_write(labels_file, "".join(name + "\n" for name in class_names))
print(f"Wrote {output_model} (SavedModel) and {labels_file}")
run.finish(test_accuracy=test_accuracy)
