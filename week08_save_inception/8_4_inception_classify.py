"""Lesson 8-4 使用inception-v3做各种图像的识别 — Recognise your own pictures with Inception-v3.

For every image in a folder (default: week08_save_inception/images/, which you fill with your
own photos), feeds the raw JPEG bytes to `DecodeJpeg/contents:0` of the frozen 2015 graph, reads
`softmax:0`, and prints the path and the top 5 classes like the video:

    .../images/car.jpg
    sports car, sport car (score = 0.93507)     (teacher's saved top-1; cat.jpg: Egyptian cat
    ...                                          0.55336, dog.jpg: Labrador retriever 0.95145)

Class ids become names through the lesson's NodeLookup (label map .pbtxt -> ImageNet uid ->
human name). A PNG contact sheet of the images and their top labels is written to the run folder;
--show also opens each image with its labels.

    --model graph  (default) the lesson's frozen GraphDef in a tf.compat.v1 Session; with --api v2
                   the same GraphDef as a TF2 function (`wrap_function(...).prune(input, output)`)
    --model keras  today's way: tf.keras.applications.InceptionV3(weights="imagenet") with its own
                   preprocessing (resize to 299x299, scale to [-1, 1]) and its own 1000 labels;
                   its weights (about 92 MB) download once into Keras's cache. Both models give
                   the same top labels for clear photos; the scores differ a little.

Run (lesson 8-3 downloads the graph; this lesson does it too if needed):
    python week08_save_inception/8_4_inception_classify.py
    python week08_save_inception/8_4_inception_classify.py --images ~/Pictures/holiday --model keras
    python week08_save_inception/8_4_inception_classify.py --archive inception-2015-12-05.tgz

Differences from the course code (TensorFlow 1.x):
  - NodeLookup is built once, not once per image (it parses a 21,842-line file).
  - PNG, GIF, BMP, WebP... are converted to JPEG bytes first (DecodeJpeg only reads JPEG); a file
    that is not a readable image is reported and skipped, and the exit status is then 1.
  - Files are taken in sorted order (os.walk's order depends on the file system).
"""
import argparse
from pathlib import Path

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags, downloads
import tensorflow as tf
from tfcourse import inception

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--images", type=Path, default=Path(__file__).resolve().parent / "images",
                    metavar="DIR", help="folder of images to classify (default: week08_save_inception/images/)")
parser.add_argument("--model", choices=["graph", "keras"], default="graph",
                    help="graph: the lesson's 2015 frozen graph (default); keras: tf.keras.applications.InceptionV3")
parser.add_argument("--api", choices=["v1", "v2"], default="v1",
                    help="with --model graph: v1 runs it in a tf.compat.v1 Session (the course, default); "
                         "v2 wraps it as a function called eagerly (tf.compat.v1.wrap_function + prune)")
parser.add_argument("--top-k", type=int, default=5, help="how many classes to print per image (lesson: 5)")
parser.add_argument("--keras-weights", choices=["imagenet", "none"], default="imagenet",
                    help=argparse.SUPPRESS)  # test-only: "none" = random weights, nothing downloaded
inception.add_model_flags(parser)


def image_files(folder):
    """Every file under `folder`, sorted; hidden files and READMEs are not images to classify."""
    if not folder.is_dir():
        raise tfcourse.CourseError(
            f"There is no folder {folder}.\nRemedy: create it and put your photos in it (JPEG, PNG...), "
            f"or name another folder with --images DIR.")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and not p.name.lower().startswith("readme"))
    if not files:
        raise tfcourse.CourseError(
            f"{folder} holds no images.\nRemedy: put some photos in it (the course used car.jpg, cat.jpg, "
            f"dog.jpg, plane.jpg, seaside.jpg), or name another folder with --images DIR.")
    return files


def graph_classifier(args):
    """The frozen GraphDef: feed the JPEG bytes to DecodeJpeg/contents:0, fetch softmax:0."""
    model_dir = inception.ensure_from_args(args)
    lookup = inception.NodeLookup.from_folder(model_dir)  # built once, used for every image
    graph_def = inception.load_graph_def(model_dir / inception.GRAPH_FILE)

    if args.api == "v1":  # the lesson's way: import into a graph, run it in a Session
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        sess = tf.compat.v1.Session(graph=graph)
        softmax_tensor = sess.graph.get_tensor_by_name(inception.SOFTMAX)
        run_graph, close = lambda data: sess.run(softmax_tensor, {inception.JPEG_INPUT: data}), sess.close
    else:  # TF2: wrap the import in a function, prune it to input -> output, call it eagerly
        wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
        softmax_fn = wrapped.prune(wrapped.graph.get_tensor_by_name(inception.JPEG_INPUT),
                                   wrapped.graph.get_tensor_by_name(inception.SOFTMAX))
        run_graph, close = lambda data: softmax_fn(tf.constant(data)).numpy(), (lambda: None)

    def classify(image_data):
        predictions = run_graph(image_data)    # -> (1, 1008)
        predictions = np.squeeze(predictions)  # -> (1008,)
        top_k = predictions.argsort()[-args.top_k:][::-1]
        return [(lookup.id_to_string(node_id), float(predictions[node_id])) for node_id in top_k]
    return classify, close


def keras_classifier(args):
    """Today's way: a Keras model with its own preprocessing and labels."""
    if args.keras_weights == "none":  # test-only: random weights, labels from the cache
        model = tf.keras.applications.InceptionV3(weights=None)
    else:
        model = tf.keras.applications.InceptionV3(weights=str(inception.keras_weights()))
    names = [name.replace("_", " ") for _, name in inception.keras_class_names()]
    preprocess = tf.keras.applications.inception_v3.preprocess_input  # [0, 255] -> [-1, 1]

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def predict(image_data):
        image = tf.io.decode_jpeg(image_data, channels=3)                # -> (h, w, 3) uint8
        x = tf.image.resize(tf.cast(image, tf.float32), (299, 299))     # -> (299, 299, 3)
        return model(preprocess(x[tf.newaxis]), training=False)[0]      # -> (1000,)

    def classify(image_data):
        predictions = predict(tf.constant(image_data)).numpy()
        top_k = predictions.argsort()[-args.top_k:][::-1]
        return [(names[i], float(predictions[i])) for i in top_k]
    return classify, lambda: None


def contact_sheet(results, path, show):
    """One PNG: every image with its top 3 labels under it."""
    import matplotlib.pyplot as plt
    columns = min(4, len(results))
    rows = -(-len(results) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (file, image_data, top) in zip(axes.flat, results):
        ax.imshow(tf.io.decode_jpeg(image_data, channels=3).numpy())
        ax.set_title(file.name, fontsize=9)
        ax.text(0.0, -0.04, "\n".join(f"{score:.3f} {name[:32]}" for name, score in top[:3]),
                transform=ax.transAxes, va="top", fontsize=8, family="monospace")
    fig.tight_layout()
    return tfcourse.save_figure(fig, path, show=False)


def show_each(results):
    import matplotlib.pyplot as plt
    for file, image_data, top in results:
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.imshow(tf.io.decode_jpeg(image_data, channels=3).numpy())
        ax.axis("off")
        ax.set_title(f"{file.name}\n" + "\n".join(f"{name} ({score:.5f})" for name, score in top), fontsize=9)
        plt.show()


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    files = image_files(args.images)[:2] if args.quick else image_files(args.images)
    classify, close = graph_classifier(args) if args.model == "graph" else keras_classifier(args)

    results, failed = [], []
    try:
        for file in files:
            try:
                image_data = inception.jpeg_bytes(file)  # JPEG as it is; other formats re-encoded
                top = classify(image_data)
            except (ValueError, OSError) as error:
                print(f"{file}\nskipped: {error}\n")
                failed.append(file)
                continue
            except tf.errors.InvalidArgumentError as error:  # a JPEG the model cannot decode
                print(f"{file}\nskipped: TensorFlow could not decode it ({error.message.strip().splitlines()[-1]})\n")
                failed.append(file)
                continue
            print(file)  # the course printed the path, then the top 5
            for human_string, score in top:
                print("%s (score = %.5f)" % (human_string, score))
            print()
            results.append((file, image_data, top))
    finally:
        close()

    if results:
        contact_sheet(results, run.path(f"contact_sheet_{args.model}.png"), args.show)
        if args.show:
            show_each(results)
    print(f"{len(results)} of {len(files)} images classified with the {args.model} model")
    if failed:
        raise tfcourse.CourseError(
            f"{len(failed)} file(s) could not be read as images: " + ", ".join(f.name for f in failed)
            + "\nRemedy: remove them from the folder, or convert them to JPEG or PNG.")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
