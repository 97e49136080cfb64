"""Lesson 9-retrain 使用inception-v3做迁移学习(retrain) — Transfer learning: retrain Inception-v3's last layer.

本课用自己的图片（每类一个子文件夹，如 data/train/flower/*.jpg）做迁移学习：Inception-v3 不变，只训练
新的最后一层 softmax（final_result），输入是它 2048 维的 pool_3 输出（bottleneck，每张图只算一次并缓存）；
200 步，学习率 0.01，每批 100。与视频的不同：默认用 Keras 的 InceptionV3（--graph 用课程 2015 年的冻结图）；
输出 SavedModel；图片改了 bottleneck 就重算；retrain.py 的参数名（--image_dir 等）照样可用。

As retrain.py: cached bottlenecks (--bottleneck-dir), the sets by a hash of the file name; every 10
steps `<time>: Step 190: Train accuracy = 98.0%`, `Cross entropy = 0.123456` and
`Validation accuracy = 95.0% (N=100)`, at the end `Final test accuracy = 94.3% (N=53)`. Saved for
9-1: output_model/ (a SavedModel: picture bytes -> final_result) and output_labels.txt.
Run: python week09_gpu_transfer/9_1_retrain.py --data-dir data/train [--graph]   (or --data shapes)
     python week09_gpu_transfer/9_1_retrain.py --image_dir data/train --how_many_training_steps 200
Differences from retrain.py (TF 1.x): TF2, with the 2015 graph as a TF2 function; a SavedModel, not
output_graph.pb; PNG/GIF/BMP work, unreadable files are skipped and listed. Not ported: the
distortion flags (--flip_left_right, ...) and the TensorBoard summaries.
"""
import tfcourse  # quiet TensorFlow import, shared flags, downloads, Inception-v3 graph helpers
import tensorflow as tf

import datetime
from pathlib import Path

import numpy as np
from tfcourse import inception
from _images import ImageFolder, cached_bottlenecks, draw_shapes, split_sets  # this week's helper

WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"  # 87.9 MB, Keras's own file
parser = tfcourse.make_parser(__doc__, quick=dict(steps=20, max_per_class=10))
add = parser.add_argument
add("--data", choices=["photos", "shapes"], default="photos", help="photos: in --data-dir (default); shapes: drawn")
add("--data-dir", "--image_dir", type=Path, default=Path("data/train"), metavar="DIR",
    help="one sub-folder of pictures per class (lesson: data/train)")
add("--max-per-class", type=tfcourse.positive_int, default=None, help="use at most N pictures per class")
add("--steps", "--how_many_training_steps", type=tfcourse.positive_int, default=200, help="lesson: 200")
add("--lr", "--learning_rate", type=tfcourse.positive_float, default=0.01, help="lesson: 0.01")
add("--batch-size", "--train_batch_size", type=tfcourse.positive_int, default=100, help="lesson: 100")
add("--validation-percentage", "--validation_percentage", type=float, default=10, help="lesson: 10")
add("--testing-percentage", "--testing_percentage", type=float, default=10, help="lesson: 10")
add("--bottleneck-dir", "--bottleneck_dir", type=Path, metavar="DIR", help="the cache (default: beside the runs)")
add("--output-model", "--output_graph", type=Path, metavar="DIR", help="the SavedModel (default: in the run folder)")
add("--output-labels", "--output_labels", type=Path, metavar="FILE", help="default: in the run folder")
add("--graph", action="store_true", help="the lesson's 2015 graph instead of Keras's InceptionV3 (flags below)")
inception.add_model_flags(parser)  # --model-dir (retrain.py's --model_dir), --inception-url, --archive


class Retrained(tf.Module):
    """What is saved: picture bytes -> bottleneck (the frozen base) -> the new layer -> final_result."""

    def __init__(self, labels, base, graph_base):
        super().__init__()
        self.base, self.graph_base = base, graph_base  # Keras InceptionV3, or [the 2015 graph's function]
        self.labels = tf.Variable(labels, trainable=False, name="labels")  # saved with the model
        self.W = tf.Variable(tf.random.truncated_normal([2048, len(labels)], stddev=0.001), name="final_weights")
        self.b = tf.Variable(tf.zeros([len(labels)]), name="final_biases")

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def bottleneck(self, image_data):  # -> (2048,)
        image = tf.io.decode_image(image_data, channels=3, expand_animations=False)  # JPEG/PNG/GIF/BMP
        if self.graph_base:  # the 2015 graph decodes a JPEG itself: other formats are re-encoded
            jpeg = tf.cond(tf.io.is_jpeg(image_data), lambda: image_data, lambda: tf.io.encode_jpeg(image))
            return tf.reshape(self.base[0](jpeg), [2048])
        x = tf.image.resize(tf.cast(image, tf.float32), [299, 299])                 # -> (299, 299, 3)
        x = tf.keras.applications.inception_v3.preprocess_input(x)                  # [0, 255] -> [-1, 1]
        return self.base(x[tf.newaxis], training=False)[0]

    def logits(self, bottlenecks):  # the new layer: (n, 2048) -> (n, classes)
        return tf.matmul(bottlenecks, self.W) + self.b

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, images):
        bottlenecks = tf.map_fn(self.bottleneck, images, fn_output_signature=tf.TensorSpec([2048], tf.float32))
        return {"final_result": tf.nn.softmax(self.logits(bottlenecks))}


def make_base(args):
    """(name of its bottleneck cache, the frozen base, whether it is the 2015 graph)."""
    if args.graph:
        graph_def = inception.load_graph_def(inception.ensure_inception(args) / inception.GRAPH_FILE)
        return "pool_3_2015", [inception.graph_function(graph_def, inception.JPEG_INPUT, inception.BOTTLENECK)], True
    try:
        weights = str(inception.keras_file(WEIGHTS))
    except tfcourse.DownloadError as error:
        raise tfcourse.DownloadError(f"{error}\n  - or use the lesson's 2015 graph instead: --graph") from None
    return "inception_v3", tf.keras.applications.InceptionV3(include_top=False, pooling="avg", weights=weights,
                                                             input_shape=(299, 299, 3)), False  # -> (n, 2048)


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    args.data_dir = draw_shapes(run.path("shapes"), per_class=40) if args.data == "shapes" else args.data_dir

    # ## Data: the class folders, and each picture's set by the stable hash of its name
    folder = ImageFolder(args.data_dir, max_per_class=args.max_per_class)
    folder.report()
    base_name, base, graph_base = make_base(args)
    model = Retrained(folder.class_names, base, graph_base)
    bottleneck_dir = args.bottleneck_dir or (run.out if args.out else run.out.parent) / "bottleneck"
    vectors = cached_bottlenecks(model.bottleneck, folder, bottleneck_dir, base_name)  # {path: (2048,)}
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = split_sets(  # (n, 2048) bottlenecks, (n,) labels
        folder, vectors, args.validation_percentage, args.testing_percentage)

    # ## Training: only the new layer; the bottlenecks are fixed numbers now
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def accuracy(x, y):
        return float(np.mean(np.argmax(model.logits(x), 1) == y)) if len(y) else float("nan")

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model.logits(x)
            cross_entropy = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(cross_entropy, [model.W, model.b]), [model.W, model.b]))
        return cross_entropy

    rng = np.random.default_rng(args.seed)
    for i in range(args.steps):
        index = rng.integers(0, len(train_x), args.batch_size)  # retrain.py: random bottlenecks, with repeats
        cross_entropy = train_step(train_x[index], train_y[index])  # a tensor: no wait for the result
        if i % 10 == 0 or i + 1 == args.steps:  # retrain.py's --eval_step_interval 10
            cross_entropy = float(cross_entropy)
            run.check_finite(cross_entropy, f"step {i}")
            train_accuracy = accuracy(train_x[index], train_y[index])
            v = rng.integers(0, len(val_x), 100) if len(val_x) else []  # --validation_batch_size 100
            validation_accuracy, n_val = accuracy(val_x[v], val_y[v]), len(val_y[v])
            now = datetime.datetime.now()
            print("%s: Step %d: Train accuracy = %.1f%%" % (now, i, train_accuracy * 100))
            print("%s: Step %d: Cross entropy = %f" % (now, i, cross_entropy))
            print("%s: Step %d: Validation accuracy = %.1f%% (N=%d)" % (now, i, validation_accuracy * 100, n_val))
            run.record(step=i, train_accuracy=train_accuracy, cross_entropy=cross_entropy,
                       validation_accuracy=validation_accuracy)

    # ## Evaluation on the test pictures, which training never saw; then the outputs
    test_accuracy = accuracy(test_x, test_y)
    print("Final test accuracy = %.1f%% (N=%d)" % (test_accuracy * 100, len(test_y)))
    output_model = args.output_model or run.out / "output_model"
    labels_file = args.output_labels or run.out / "output_labels.txt"
    with tfcourse.atomic_path(output_model) as tmp:  # picture bytes in, final_result out
        tf.saved_model.save(model, str(tmp), signatures={"serving_default": model.__call__})
    tfcourse.atomic_write(labels_file, "".join(label + "\n" for label in folder.class_names))
    print(f"Wrote {output_model} (SavedModel) and {labels_file}")
    run.finish(test_accuracy=test_accuracy)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
