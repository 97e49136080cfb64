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
  --api v2  the same GraphDef as a TF2 function (`wrap_function(...).prune(input, output)`),
            called eagerly: the same scores

Run (lesson 8-3 downloads the graph; this lesson does it too if needed; --quick: 2 images):
    python week08_save_inception/8_4_inception_classify.py
    python week08_save_inception/8_4_inception_classify.py --data-dir ~/Pictures/holiday --api v2

Differences from the course code (TensorFlow 1.x):
  - NodeLookup is built once, not once per image (it parses a 21,842-line file).
  - PNG, GIF and BMP are re-encoded as JPEG (DecodeJpeg reads only JPEG); other files are skipped
    and listed (exit status 1). Files go in sorted order (os.walk's order depends on the disk).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, downloads, the run folder
import tensorflow as tf

import sys

import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week08_save_inception"))  # also in a notebook
import _inception  # this week's Inception plumbing, beside the lessons: find, download, read

parser = tfcourse.parser(__doc__, quick=dict(max_images=2))
parser.add_argument("--data-dir", type=tfcourse.folder, metavar="DIR",
                    default=tfcourse.cli.PROJECT_ROOT / "week08_save_inception" / "images",
                    help="folder of pictures to classify (lesson: images/, here "
                         "week08_save_inception/images/)")
parser.add_argument("--max-images", type=tfcourse.positive_int, default=None,
                    help="classify at most N images")
parser.add_argument("--api", choices=["v1", "v2"], default="v1",
                    help="v1 (default): a Session; v2: a TF2 function (see below)")
parser.add_argument("--top-k", type=tfcourse.number(int, 1, 1008), default=5,
                    help="classes printed per image, 1 to 1008 (lesson: 5)")
_inception.add_model_flags(parser)
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--data-dir ~/Pictures")
run = tfcourse.start(args, "week08_save_inception/8_4_inception_classify.py")

# %% [markdown]
# ## Data: your pictures
# Every file under --data-dir, sorted; hidden files and READMEs are not pictures.

# %%
files = sorted(p for p in args.data_dir.rglob("*")
               if p.is_file() and not p.name.lower().startswith((".", "readme")))
if not files:
    raise tfcourse.CourseError(
        f"{args.data_dir} holds no images{'' if args.data_dir.is_dir() else ' (no such folder)'}."
        "\nRemedy: put your photos in it (the course used car.jpg, cat.jpg, dog.jpg, plane.jpg, "
        "seaside.jpg), or name another folder with --data-dir DIR.")
files = files[:args.max_images]


def jpeg_bytes(path):
    """The bytes to feed DecodeJpeg: a JPEG as it is (like the course), other images re-encoded;
    a phone's photo stored turned, or one with a clear background, as a viewer shows it."""
    data = tfcourse.as_shown(path.read_bytes())
    if tf.io.is_jpeg(data):
        return data
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.io.encode_jpeg(image).numpy()


# %% [markdown]
# ## The class names: the course's NodeLookup
# softmax:0's class id -> ImageNet uid (the label map) -> a human-readable name (the synset file).

# %%
model_dir = _inception.ensure_inception(args)  # prints download: / finish: as lesson 8-3


class NodeLookup:
    def __init__(self, label_lookup_path, uid_lookup_path):
        self.node_lookup = self.load(label_lookup_path, uid_lookup_path)

    def load(self, label_lookup_path, uid_lookup_path):
        uid_to_human = {}  # lines like "n01440764<TAB>tench, Tinca tinca"
        for line in uid_lookup_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                uid, _, human_string = line.partition("\t")
                uid_to_human[uid] = human_string
        node_id_to_uid, target_class = {}, None  # "  target_class: 449", then its uid string
        for line in label_lookup_path.read_text(encoding="utf-8").splitlines():
            if line.startswith("  target_class:"):
                target_class = int(line.split(": ")[1])
            if line.startswith("  target_class_string:") and target_class is not None:
                node_id_to_uid[target_class] = line.split(": ")[1].strip().strip('"')
        missing = sorted(set(node_id_to_uid.values()) - set(uid_to_human))
        if missing or not node_id_to_uid:
            raise ValueError(f"{uid_lookup_path.name} has no name for "
                             f"{', '.join(missing[:3]) or 'any class'} of {label_lookup_path.name}")
        return {node_id: uid_to_human[uid] for node_id, uid in node_id_to_uid.items()}

    def id_to_string(self, node_id):
        return self.node_lookup.get(int(node_id), "")  # a few of the 1008 ids have no name


try:
    node_lookup = NodeLookup(model_dir / "imagenet_2012_challenge_label_map_proto.pbtxt",
                             model_dir / "imagenet_synset_to_human_label_map.txt")
except (OSError, UnicodeDecodeError, ValueError, IndexError) as error:
    raise tfcourse.CourseError(f"The label files in {model_dir} are damaged ({error}).\nRemedy: "
                               f"delete {model_dir} and run lesson 8-3 again (it extracts them)."
                               ) from None
print(f"{len(node_lookup.node_lookup)} class names")

# %% [markdown]
# ## Model: the frozen graph
# --api v1, the course's way: parse the GraphDef, import it into a graph, run it in a Session.
# --api v2: the same graph as a TF2 function (`wrap_function`, then `prune` to input -> output),
# with the 2015 batch norm rewritten by `_inception.load_graph_def` (see lesson 8-3).

# %%
graph_file = model_dir / "classify_image_graph_def.pb"
if args.api == "v1":
    graph_def = tf.compat.v1.GraphDef()
    try:
        with open(graph_file, "rb") as f:
            graph_def.ParseFromString(f.read())
    except Exception as error:  # DecodeError: a damaged or foreign file
        raise tfcourse.CourseError(f"{graph_file} is not a GraphDef ({error}).\nRemedy: delete "
                                   f"{model_dir} and run lesson 8-3 again.") from None
    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
    sess = tf.compat.v1.Session(graph=graph)
else:
    imported = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(_inception.load_graph_def(graph_file), name=""), [])
    graph = imported.graph
try:
    jpeg_input = graph.get_tensor_by_name("DecodeJpeg/contents:0")  # the bytes of a JPEG file
    softmax_tensor = graph.get_tensor_by_name("softmax:0")  # (1, 1008) probabilities
except KeyError as error:  # another model's graph
    raise tfcourse.CourseError(f"{graph_file} lacks {error}: it is not Inception-v3's graph.\n"
                               f"Remedy: delete {model_dir} and run lesson 8-3 again.") from None
if args.api == "v2":
    softmax_fn = imported.prune(jpeg_input, softmax_tensor)


def run_graph(image_data):
    if args.api == "v1":
        return sess.run(softmax_tensor, {jpeg_input: image_data})
    return softmax_fn(tf.constant(image_data)).numpy()


# %% [markdown]
# ## Classify, one picture at a time (the course's loop)

# %%
results, failed = [], []
for file in files:
    try:
        with tfcourse.quiet_stderr(replay=False):  # libjpeg's complaints: said below
            image_data = jpeg_bytes(file)
            predictions = np.squeeze(run_graph(image_data))  # (1, 1008) -> (1008,)
    except (tf.errors.InvalidArgumentError, OSError):  # not an image, a damaged one, unreadable
        print(f"{file}\nskipped: not a readable JPEG, PNG, GIF or BMP image\n")
        failed.append(file.name)
        continue
    print(file)  # the course printed the path, then the top 5
    top_k = predictions.argsort()[-args.top_k:][::-1]
    top = [(node_lookup.id_to_string(i), float(predictions[i])) for i in top_k]
    for human_string, score in top:
        print("%s (score = %.5f)" % (human_string, score))
    print()
    run.log(image=file.name, top_1=top[0][0], score=top[0][1])
    results.append((file, image_data, top))

# %% [markdown]
# ## Pictures: a contact sheet, every picture with its top 3

# %%
if results:
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
    tfcourse.save_figure(fig, run.path("contact_sheet.png"), show=args.show)
if failed:
    raise tfcourse.CourseError(f"{len(failed)} of {len(files)} files are not readable images: "
                               f"{', '.join(failed)}\nRemedy: remove them from the folder, or "
                               "convert them to JPEG or PNG.")
run.finish(images=len(results))
