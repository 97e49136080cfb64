"""Lesson 8-4 使用inception-v3做各种图像的识别 — Recognise your own pictures with Inception-v3.

本课把文件夹里的每张图片（原始 JPEG 字节）喂给 2015 年冻结图的 `DecodeJpeg/contents:0`，取出
`softmax:0`，用课程的 NodeLookup（标签映射 .pbtxt -> ImageNet uid -> 英文名称）打印前 5 类。
与视频的不同：NodeLookup 只建一次；PNG、GIF、BMP 先转成 JPEG 字节；不是图片的文件被跳过并列出
（退出码 1）；--api v2 用 TF2 的函数运行同一张图。用 Keras 的 InceptionV3 做同样的事见 8-4b。

For every picture in --data-dir (your own photos) it prints the path and the top 5 classes like
the video, and writes contact_sheet.png (every picture with its top 3) to the run folder:
    .../images/car.jpg
    sports car, sport car (score = 0.93507)     (teacher's top-1; cat.jpg: Egyptian cat 0.55336,
    ...                                          dog.jpg: Labrador retriever 0.95145)
  --api v1  (default) the frozen GraphDef imported into a graph, run in a tf.compat.v1 Session
  --api v2  the same GraphDef as a TF2 function (`wrap_function(...).prune(input, output)` in
            `tfcourse.inception.graph_function`), called eagerly: the same scores

Run (lesson 8-3 downloads the graph; this lesson does it too if needed; --quick: 2 images):
    python week08_save_inception/8_4_inception_classify.py
    python week08_save_inception/8_4_inception_classify.py --data-dir ~/Pictures/holiday --api v2

Differences from the course code (TensorFlow 1.x):
  - NodeLookup is built once, not once per image (it parses a 21,842-line file).
  - PNG, GIF and BMP are re-encoded as JPEG (DecodeJpeg reads only JPEG); other files are skipped
    and listed (exit status 1). Files go in sorted order (os.walk's order depends on the disk).
"""
from pathlib import Path

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags, downloads
import tensorflow as tf
from tfcourse import inception

parser = tfcourse.make_parser(__doc__, quick=dict(max_images=2))
parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent / "images", metavar="DIR",
                    help="folder of pictures to classify (lesson: images/, here week08_save_inception/images/)")
parser.add_argument("--max-images", type=tfcourse.positive_int, default=None, help="classify at most N images")
parser.add_argument("--api", choices=["v1", "v2"], default="v1", help="v1 (default) or v2: see below")
parser.add_argument("--top-k", type=tfcourse.positive_int, default=5, help="classes printed per image (lesson: 5)")
inception.add_model_flags(parser)


class NodeLookup:
    """The course's NodeLookup: class id of softmax:0 -> uid (label map) -> human-readable name."""
    def __init__(self, label_lookup_path, uid_lookup_path):
        self.node_lookup = self.load(label_lookup_path, uid_lookup_path)

    def load(self, label_lookup_path, uid_lookup_path):
        uid_to_human = {}  # lines like "n01440764<TAB>tench, Tinca tinca"
        for line in uid_lookup_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                uid, _, human_string = line.partition("\t")
                uid_to_human[uid] = human_string
        node_id_to_uid = {}  # entries like "  target_class: 449" / '  target_class_string: "n01440764"'
        for line in label_lookup_path.read_text(encoding="utf-8").splitlines():
            if line.startswith("  target_class:"):
                target_class = int(line.split(": ")[1])
            if line.startswith("  target_class_string:"):
                node_id_to_uid[target_class] = line.split(": ")[1].strip().strip('"')
        missing = sorted(set(node_id_to_uid.values()) - set(uid_to_human)) or ([] if node_id_to_uid else ["all"])
        if missing:
            raise tfcourse.CourseError(f"{uid_lookup_path} has no name for {', '.join(missing[:3])} of "
                                       f"{label_lookup_path}.\nRemedy: extract the Inception archive again.")
        return {node_id: uid_to_human[uid] for node_id, uid in node_id_to_uid.items()}

    def id_to_string(self, node_id):
        return self.node_lookup.get(int(node_id), "")  # a few of the 1008 ids have no name


def image_files(folder):
    """Every file under `folder`, sorted; hidden files and READMEs are not images to classify."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.lower().startswith((".", "readme")))
    if not files:
        raise tfcourse.CourseError(f"{folder} holds no images{'' if folder.is_dir() else ' (no such folder)'}.\n"
                                   "Remedy: put your photos in it (the course used car.jpg, cat.jpg, dog.jpg, "
                                   "plane.jpg, seaside.jpg), or name another folder with --data-dir DIR.")
    return files


def jpeg_bytes(path):
    """The bytes to feed DecodeJpeg: a JPEG as it is (like the course), other images re-encoded."""
    data = path.read_bytes()
    if tf.io.is_jpeg(data):
        return data
    return tf.io.encode_jpeg(tf.io.decode_image(data, channels=3, expand_animations=False)).numpy()


def contact_sheet(results, path, show):
    import matplotlib.pyplot as plt
    columns, rows = min(4, len(results)), -(-len(results) // 4)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (file, image_data, top) in zip(axes.flat, results):
        ax.imshow(tf.io.decode_jpeg(image_data, channels=3).numpy())
        ax.set_title(file.name, fontsize=9)
        ax.text(0.0, -0.04, "\n".join(f"{score:.3f} {name[:32]}" for name, score in top[:3]),
                transform=ax.transAxes, va="top", fontsize=8, family="monospace")
    tfcourse.save_figure(fig, path, show=show)


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    files = image_files(args.data_dir)[:args.max_images]
    model_dir = inception.ensure_inception(args)  # prints download: / finish: as lesson 8-3
    node_lookup = NodeLookup(model_dir / inception.LABEL_MAP_FILE, model_dir / inception.UID_NAMES_FILE)
    graph_def = inception.load_graph_def(model_dir / inception.GRAPH_FILE)
    if args.api == "v1":  # the lesson's way: import into a graph, run it in a Session
        with tf.Graph().as_default() as graph:
            tf.compat.v1.import_graph_def(graph_def, name="")
        sess = tf.compat.v1.Session(graph=graph)
        softmax_tensor = sess.graph.get_tensor_by_name(inception.SOFTMAX)
        run_graph = lambda image_data: sess.run(softmax_tensor, {inception.JPEG_INPUT: image_data})  # noqa: E731
    else:  # TF2: the same graph as a function, called eagerly
        softmax_fn = inception.graph_function(graph_def, inception.JPEG_INPUT, inception.SOFTMAX)
        run_graph = lambda image_data: softmax_fn(tf.constant(image_data)).numpy()  # noqa: E731

    results, failed = [], []
    for file in files:
        try:
            with tfcourse.quiet_stderr():  # libjpeg writes its complaints straight to stderr
                image_data = jpeg_bytes(file)
                predictions = np.squeeze(run_graph(image_data))  # (1, 1008) -> (1008,)
        except (tf.errors.InvalidArgumentError, OSError):  # not an image, a damaged one, unreadable
            print(f"{file}\nskipped: not a readable JPEG, PNG, GIF or BMP image\n")
            failed.append(file.name)
            continue
        print(file)  # the course printed the path, then the top 5
        top_k = predictions.argsort()[-args.top_k:][::-1]
        top = [(node_lookup.id_to_string(node_id), float(predictions[node_id])) for node_id in top_k]
        for human_string, score in top:
            print("%s (score = %.5f)" % (human_string, score))
        print()
        run.record(image=file.name, top_1=top[0][0], score=top[0][1])
        results.append((file, image_data, top))

    if results:
        contact_sheet(results, run.path("contact_sheet.png"), args.show)
    if failed:
        raise tfcourse.CourseError(f"{len(failed)} of {len(files)} files are not readable images: {', '.join(failed)}"
                                   "\nRemedy: remove them from the folder, or convert them to JPEG or PNG.")
    run.finish(images=len(results))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
