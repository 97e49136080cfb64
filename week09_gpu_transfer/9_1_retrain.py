"""Lesson 9-retrain 使用inception-v3做迁移学习(retrain) — Transfer learning: retrain Inception-v3's last layer.

The lesson runs TensorFlow's `image_retraining/retrain.py` on a folder of your own pictures,
one sub-folder per class (`data/train/<class>/*.jpg`; the lesson has animal, flower, guitar,
house and plane). Inception-v3, trained on ImageNet, stays frozen; only a new final softmax layer
(`final_result`) is trained on its 2048-number `pool_3` output, the "bottleneck":
  1. every image's bottleneck is computed once and cached on disk (`--bottleneck-dir`); a re-run
     reuses it, and recomputes it only when the image file changed (its SHA-1 is stored beside it),
  2. each image goes to training, validation (10%) or test (10%) by a stable hash of its file name,
     so adding pictures later never moves old ones between the sets,
  3. the final layer is trained with gradient descent, lr 0.01, batches of 100 cached bottlenecks,
     200 steps; every 10 steps it prints, like the lesson,
         <time>: Step 190: Train accuracy = 98.0%
         <time>: Step 190: Cross entropy = 0.123456
         <time>: Step 190: Validation accuracy = 95.0% (N=100)
     and at the end `Final test accuracy = 94.3% (N=53)`,
  4. the whole classifier (image bytes -> Inception-v3 -> final layer) is written as a SavedModel
     (`output_model/`, signature `serving_default`, output `final_result`) with `output_labels.txt`;
     `9_1_test_retrained.py` classifies pictures with it.
The base is `tf.keras.applications.InceptionV3(include_top=False, pooling="avg")` with ImageNet
weights (87 MB, downloaded once into Keras's cache). `--graph` uses the lesson's own 2015 frozen
graph instead (week 8's `classify_image_graph_def.pb`, tensor `pool_3/_reshape:0`).

Run:
    python week09_gpu_transfer/9_1_retrain.py --image-dir data/train
    python week09_gpu_transfer/9_1_retrain.py --image-dir data/train --graph   # the 2015 graph
    python week09_gpu_transfer/9_1_retrain.py --graph --model-dir inception_model  # the course's folder
    python week09_gpu_transfer/9_1_retrain.py --data shapes --quick            # drawn shapes, no pictures

Differences from the course code (TensorFlow 1.x retrain.py):
  - TF2: the bottlenecks come from a Keras model (or, with --graph, from the frozen GraphDef
    imported with `tf.compat.v1.wrap_function` and pruned to `DecodeJpeg/contents:0` ->
    `pool_3/_reshape:0`, the TF2 way to run a TF1 graph without a Session); the final layer is two
    `tf.Variable`s trained in a `tf.function`; the output is a SavedModel instead of
    `output_graph.pb`.
  - The cache stores each image's SHA-1, so a changed picture gets a new bottleneck (the original
    reused a stale one). PNG, GIF and BMP pictures work too; unreadable files are skipped and listed.
  - Not ported: the distortion flags (--flip_left_right, --random_crop, ...) and TensorBoard summaries.
"""
import tfcourse  # quiet TensorFlow import, shared flags, downloads, Inception-v3 graph helpers
import tensorflow as tf

import argparse
import datetime
import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np

from _images import ImageFolder, draw_shapes, read_image, use_cjk_font  # this week's shared helper, beside the lessons
from tfcourse import inception  # noqa: E402

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--image-dir", type=Path, default=Path("data/train"),
                    help="folder with one sub-folder of pictures per class (lesson: data/train)")
parser.add_argument("--data", choices=["folder", "shapes"], default="folder",
                    help="folder: your pictures in --image-dir (default); shapes: draw coloured shapes "
                         "into the run folder and use them (a try-out without pictures)")
parser.add_argument("--bottleneck-dir", type=Path, default=None,
                    help="bottleneck cache (default: <run folder>/bottleneck)")
parser.add_argument("--how-many-training-steps", type=int, default=200, help="training steps (lesson: 200)")
parser.add_argument("--learning-rate", type=float, default=0.01, help="gradient descent rate (lesson: 0.01)")
parser.add_argument("--train-batch-size", type=int, default=100, help="bottlenecks per step (lesson: 100)")
parser.add_argument("--validation-batch-size", type=int, default=100,
                    help="validation bottlenecks per evaluation, -1 for all (lesson: 100)")
parser.add_argument("--eval-step-interval", type=int, default=10, help="evaluate every N steps (lesson: 10)")
parser.add_argument("--validation-percentage", type=float, default=10, help="lesson: 10")
parser.add_argument("--testing-percentage", type=float, default=10, help="lesson: 10")
parser.add_argument("--graph", action="store_true",
                    help="use the lesson's 2015 frozen graph (pool_3/_reshape:0) instead of Keras's InceptionV3")
inception.add_model_flags(parser)  # --model-dir, --inception-url, --archive (used with --graph)
parser.add_argument("--random-base", action="store_true", help=argparse.SUPPRESS)  # tests: weights=None

WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
               "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"  # Keras's published hash of that file
MAX_NUM_IMAGES_PER_CLASS = 2 ** 27 - 1  # retrain.py's constant for the stable split


def which_set(file_name, validation_percentage, testing_percentage):
    """retrain.py's split: a SHA-1 of the file name (minus any `_nohash_` part) picks the set."""
    hash_name = re.sub(r"_nohash_.*$", "", file_name)
    hashed = int(hashlib.sha1(hash_name.encode("utf-8")).hexdigest(), 16)
    percentage_hash = (hashed % (MAX_NUM_IMAGES_PER_CLASS + 1)) * (100.0 / MAX_NUM_IMAGES_PER_CLASS)
    if percentage_hash < validation_percentage:
        return "validation"
    if percentage_hash < validation_percentage + testing_percentage:
        return "testing"
    return "training"


class Retrained(tf.Module):
    """What is saved: image bytes -> bottleneck (frozen base) -> the new layer -> final_result."""

    def __init__(self, labels, base=None, graph_fn=None):
        super().__init__()
        self.base = base                 # a Keras InceptionV3 without its top, or None
        self._graph_fn = [graph_fn]      # the pruned 2015 graph (in a list: a function, not state)
        self.labels = tf.Variable(labels, trainable=False, name="labels")  # saved with the model
        self.W = tf.Variable(tf.random.truncated_normal([inception.BOTTLENECK_SIZE, len(labels)],
                                                        stddev=0.001), name="final_weights")
        self.b = tf.Variable(tf.zeros([len(labels)]), name="final_biases")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def bottlenecks(self, images):  # -> (n, 2048)
        if self._graph_fn[0] is not None:
            def one(data):  # the 2015 graph decodes one JPEG; other formats are re-encoded first
                data = tf.cond(tf.io.is_jpeg(data), lambda: data, lambda: tf.io.encode_jpeg(
                    tf.io.decode_image(data, channels=3, expand_animations=False)))
                return tf.reshape(self._graph_fn[0](data), [inception.BOTTLENECK_SIZE])
            return tf.map_fn(one, images, fn_output_signature=tf.TensorSpec([2048], tf.float32))

        def decode(data):  # any JPEG/PNG/GIF/BMP -> (299, 299, 3) in [-1, 1], InceptionV3's input
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
            return tf.image.resize(tf.cast(image, tf.float32), [299, 299]) / 127.5 - 1.0
        x = tf.map_fn(decode, images, fn_output_signature=tf.TensorSpec([299, 299, 3], tf.float32))
        return self.base(x, training=False)

    def logits(self, bottleneck):
        return tf.matmul(bottleneck, self.W) + self.b

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, images):
        return {"final_result": tf.nn.softmax(self.logits(self.bottlenecks(images)))}


def make_base(args):
    """(name for the cache, Keras base or None, pruned graph function or None)."""
    if args.graph:
        folder = inception.ensure_from_args(args)
        graph_def = inception.load_graph_def(folder / inception.GRAPH_FILE)
        # TF2 way to run a TF1 GraphDef: import it inside a wrapped function, prune input -> output
        wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
        try:
            graph_fn = wrapped.prune(inception.JPEG_INPUT, inception.BOTTLENECK)
        except (KeyError, ValueError) as error:
            raise tfcourse.CourseError(f"{folder / inception.GRAPH_FILE} has no tensor "
                                       f"{inception.BOTTLENECK} ({error}).\nRemedy: extract the archive again.") from None
        return "pool_3_2015", None, graph_fn
    weights = None
    if not args.random_base:
        try:
            weights = str(tfcourse.download(WEIGHTS_URL, inception.default_dir() / Path(WEIGHTS_URL).name,
                                            md5=WEIGHTS_MD5, what="Inception-v3 ImageNet weights (83 MB)"))
        except tfcourse.DownloadError as error:
            raise tfcourse.DownloadError(f"{error}\n  - or use the lesson's 2015 graph instead: --graph") from None
    base = tf.keras.applications.InceptionV3(include_top=False, pooling="avg", weights=weights,
                                             input_shape=(299, 299, 3))  # -> (2048,)
    return ("inception_v3" if weights else "inception_v3_untrained"), base, None


def cached_bottlenecks(model, folder, images, cache_dir, base_name, batch_size=16):
    """{path: (2048,) array}; reads the cache, computes what is missing or stale, writes it back."""
    result, todo = {}, []
    for path, _ in images:
        try:
            data, _kind = read_image(path)
        except ValueError as error:  # changed since the folder was scanned
            print(f"WARNING: skipped {path.relative_to(folder.root)}: {error}")
            continue
        digest = hashlib.sha1(data).hexdigest()
        cache = cache_dir / path.relative_to(folder.root).parent / f"{path.name}_{base_name}.txt"
        try:
            header, values = cache.read_text(encoding="utf-8").split("\n", 1)
            vector = np.array(values.split(","), dtype=np.float32)
            if header == f"sha1={digest}" and vector.shape == (inception.BOTTLENECK_SIZE,):
                result[path] = vector
                continue
        except (OSError, ValueError):  # missing, half-written by an old tool or not numbers
            pass
        todo.append((path, data, digest, cache))
    skipped, computed = [], 0
    for start in range(0, len(todo), batch_size):
        batch = []
        for path, data, digest, cache in todo[start:start + batch_size]:
            with tfcourse.quiet_stderr():  # libjpeg writes its complaints straight to stderr
                try:  # decode alone first, so one broken picture does not stop the batch
                    tf.io.decode_image(data, channels=3, expand_animations=False)
                    batch.append((path, data, digest, cache))
                except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
                    skipped.append((path, "cannot be decoded (a damaged or truncated image)"))
        if not batch:
            continue
        vectors = model.bottlenecks(tf.constant([item[1] for item in batch])).numpy()
        for (path, _data, digest, cache), vector in zip(batch, vectors):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(cache.name + ".tmp")
            tmp.write_text(f"sha1={digest}\n" + ",".join(f"{v:.7g}" for v in vector), encoding="utf-8")
            os.replace(tmp, cache)  # atomic: a cache file is complete or absent
            result[path] = vector
            computed += 1
            if computed % 100 == 0:
                print(f"{computed} bottleneck files created.", flush=True)
    print(f"Bottlenecks: {computed} computed, {len(images) - len(todo)} reused from {cache_dir}")
    for path, reason in skipped:
        print(f"WARNING: skipped {path.relative_to(folder.root)}: {reason}")
    return result


def save_atomically(model, target):
    """tf.saved_model.save into a temporary folder, then swap it in (never a half-written model)."""
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tf.saved_model.save(model, str(tmp), signatures={"serving_default": model.__call__})
    old = target.with_name(target.name + ".old")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    steps = min(args.how_many_training_steps, 20) if args.quick else args.how_many_training_steps
    if args.data == "shapes":
        args.image_dir = draw_shapes(run.path("shapes"), per_class=40)
        print(f"Drew coloured shapes into {args.image_dir} (stand-in pictures, not the lesson's photos)")

    # ## Data: the class folders, and each image's set by the stable hash of its name
    folder = ImageFolder(args.image_dir, max_per_class=10 if args.quick else None)
    folder.report()
    labels = folder.class_names
    split = {"training": [], "validation": [], "testing": []}
    for path, label in folder.all_images():
        split[which_set(path.name, args.validation_percentage, args.testing_percentage)].append((path, label))
    print("Images per set: " + ", ".join(f"{name} {len(items)}" for name, items in split.items()))
    if not split["training"]:
        raise tfcourse.CourseError("No image fell into the training set.\n"
                                   "Remedy: add pictures, or lower --validation-percentage/--testing-percentage.")

    # ## Model: the frozen base and the new final layer, in one module that is saved at the end
    base_name, base, graph_fn = make_base(args)
    model = Retrained(labels, base=base, graph_fn=graph_fn)
    bottleneck_dir = args.bottleneck_dir or run.path("bottleneck")
    vectors = cached_bottlenecks(model, folder, [i for items in split.values() for i in items],
                                 bottleneck_dir, base_name)

    def arrays(items):
        kept = [(vectors[p], label) for p, label in items if p in vectors]
        return (np.stack([v for v, _ in kept]) if kept else np.zeros([0, 2048], np.float32),
                np.array([label for _, label in kept], dtype=np.int64))
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (arrays(split[s]) for s in split)

    optimizer = tf.keras.optimizers.SGD(learning_rate=args.learning_rate)
    generator = tf.random.Generator.from_seed(args.seed)

    def accuracy(logits, y):
        return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

    @tf.function
    def train_steps(all_x, all_y, n):
        """n training steps in one call (a step is too small to pay a Python round trip each)."""
        cross_entropy, train_accuracy = tf.constant(0.0), tf.constant(0.0)
        for _ in tf.range(n):
            if args.train_batch_size > 0:  # retrain.py draws cached bottlenecks at random, with repeats
                index = generator.uniform([args.train_batch_size], 0, tf.shape(all_x, tf.int64)[0], dtype=tf.int64)
                x, y = tf.gather(all_x, index), tf.gather(all_y, index)
            else:
                x, y = all_x, all_y
            with tf.GradientTape() as tape:
                logits = model.logits(x)
                cross_entropy = tf.reduce_mean(  # on the logits: final_result's softmax is for outputs only
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizer.apply_gradients(zip(tape.gradient(cross_entropy, [model.W, model.b]), [model.W, model.b]))
            train_accuracy = accuracy(logits, y)
        return cross_entropy, train_accuracy  # of the last step

    # ## Training: the lesson's progress lines every --eval-step-interval steps and at the last step
    rng = np.random.default_rng(args.seed)
    history = []
    done = 0
    evaluate_at = sorted({i for i in range(0, steps, args.eval_step_interval)} | {steps - 1})
    for i in evaluate_at:
        cross_entropy, train_accuracy = train_steps(train_x, train_y, tf.constant(i + 1 - done))
        done = i + 1
        now = datetime.datetime.now()
        print("%s: Step %d: Train accuracy = %.1f%%" % (now, i, float(train_accuracy) * 100))
        print("%s: Step %d: Cross entropy = %f" % (now, i, float(cross_entropy)))
        if args.validation_batch_size > 0 and len(val_x):
            index = rng.integers(0, len(val_x), args.validation_batch_size)
            vx, vy = val_x[index], val_y[index]
        else:
            vx, vy = val_x, val_y
        validation_accuracy = float(accuracy(model.logits(vx), vy)) if len(vx) else float("nan")
        print("%s: Step %d: Validation accuracy = %.1f%% (N=%d)" % (now, i, validation_accuracy * 100, len(vx)))
        history.append((i, float(train_accuracy), validation_accuracy))

    # ## Evaluation on the test images, which training never saw
    test_accuracy = float(accuracy(model.logits(test_x), test_y)) if len(test_x) else float("nan")
    print("Final test accuracy = %.1f%% (N=%d)" % (test_accuracy * 100, len(test_x)))

    # ## Outputs: the SavedModel (image bytes in, final_result out) and output_labels.txt
    save_atomically(model, run.out / "output_model")
    labels_file = run.path("output_labels.txt")
    tmp = labels_file.with_name(labels_file.name + ".tmp")
    tmp.write_text("".join(label + "\n" for label in labels), encoding="utf-8")
    os.replace(tmp, labels_file)

    import matplotlib.pyplot as plt
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([h[0] for h in history], [h[1] for h in history], "o-", label="train batch")
    ax.plot([h[0] for h in history], [h[2] for h in history], "s-", label="validation")
    ax.set(xlabel="step", ylabel="accuracy", ylim=(0, 1.05), title=f"retrain on {base_name}: final layer only")
    ax.legend(loc="lower right")
    tfcourse.save_figure(fig, run.path("retrain_accuracy.png"), show=args.show)
    print(f"Wrote {run.out / 'output_model'} (SavedModel), {labels_file} and {run.path('retrain_accuracy.png')}; "
          f"device: {run.device}")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
