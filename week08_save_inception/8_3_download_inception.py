"""Lesson 8-3 下载google图像识别网络inception-v3并查看结构 — Download Inception-v3, see its graph.

本课下载 Google 2015 年 12 月的 Inception-v3（inception-2015-12-05.tgz，88.9 MB），解压，用 TF1 的
方式（`tf.compat.v1.GraphDef` 解析 + `tf.compat.v1.import_graph_def`）导入冻结图
classify_image_graph_def.pb，再把图写进 TensorBoard 日志；旁边是 TF2 的方式（`wrap_function`
把同一张图变成一个函数）。与视频的不同：下载可续传并检查大小和内容，解压拒绝指向文件夹外的
成员；模型默认放在 Keras 的缓存目录（~/.keras/models），8-4 和第 9 周共用。

Downloads the archive (88,931,400 bytes), extracts it, imports the frozen graph and writes it to a
TensorBoard log, printing the lesson's lines

    download:  inception-2015-12-05.tgz
    finish:  inception-2015-12-05.tgz

then the tensors lessons 8-4 and 9 feed and fetch, and the command that opens TensorBoard.

Run:
    python week08_save_inception/8_3_download_inception.py
    python week08_save_inception/8_3_download_inception.py --model-dir inception_model  # course's
Offline? Download http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz
elsewhere and put it into ~/.keras/models/ (or the --model-dir folder), where it is checked and
used; or name a mirror (--inception-url URL, TFCOURSE_INCEPTION_URL).

Differences from the course code (TensorFlow 1.x):
  - The download goes through `ensure_inception` (week 8's `_inception.py`): progress,
    retries, resume of a cut download (a `.part` file), a size and content check; an
    incomplete file is never left under the archive's name (the course's loop left a truncated
    .tgz that later runs trusted). Extraction refuses absolute paths, `..` and outside links.
  - The graph is the 2015 file as it is: GraphDef version 5, with an op TensorFlow removed in
    version 9 (`BatchNormWithGlobalNormalization`), which a tf.compat.v1 graph still imports. A
    TF2 function is built at today's version, so for it `_inception.load_graph_def`
    rewrites that op as the same arithmetic (x * scale + offset).
  - `--writer v2` writes the same graph with TF2's `tf.summary.graph` instead of the
    `tf.compat.v1.summary.FileWriter` (`tf.summary.FileWriter` in the course).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, downloads, the run folder
import tensorflow as tf

import shlex
import sys

import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week08_save_inception"))  # also in a notebook
import _inception  # this week's Inception plumbing, beside the lessons: find, download, read

parser = tfcourse.parser(__doc__)
_inception.add_model_flags(parser)
parser.add_argument("--writer", choices=["v1", "v2"], default="v1",
                    help="v1: tf.compat.v1.summary.FileWriter (the course, default); "
                         "v2: tf.summary.graph")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--model-dir DIR")
run = tfcourse.start(args, "week08_save_inception/8_3_download_inception.py")

# %% [markdown]
# ## Download and extract
# Prints "download:" only when it downloads, then "finish:" (the course's two lines).

# %%
model_dir = _inception.ensure_inception(args)
graph_file = model_dir / "classify_image_graph_def.pb"
print(f"model files: {model_dir}")

# %% [markdown]
# ## Import the frozen graph, the TensorFlow 1 way
# The .pb file is a serialized `GraphDef` protobuf: every operation with its inputs, and the
# trained weights as constants ("frozen"). Parse it, then import it into a `tf.Graph`;
# `name=""` keeps the file's operation names (else each gets an "import/" prefix).

# %%
graph_def = tf.compat.v1.GraphDef()
try:
    with open(graph_file, "rb") as f:  # the course: tf.gfile.FastGFile(path, "rb")
        graph_def.ParseFromString(f.read())
except Exception as error:  # DecodeError: a damaged or foreign file
    raise tfcourse.CourseError(f"{graph_file} is not a GraphDef ({error}).\nRemedy: delete "
                               f"{model_dir} and run this lesson again.") from None
graph = tf.Graph()
with graph.as_default():
    tf.compat.v1.import_graph_def(graph_def, name="")
operations = len(graph_def.node)
print(f"graph: {operations} operations, {sum(n.op == 'Const' for n in graph_def.node)} of them "
      f"constants (the frozen weights); GraphDef version {graph_def.versions.producer}")

# %% [markdown]
# ## The same graph, the TensorFlow 2 way
# `wrap_function` imports the GraphDef inside a function; `prune` keeps what lies between the
# input fed and the output fetched. Called eagerly: no Session. (The 2015 batch norm rewritten.)

# %%
imported = tf.compat.v1.wrap_function(
    lambda: tf.compat.v1.import_graph_def(_inception.load_graph_def(graph_file), name=""), [])
try:
    softmax_fn = imported.prune(imported.graph.get_tensor_by_name("DecodeJpeg/contents:0"),
                                imported.graph.get_tensor_by_name("softmax:0"))
except KeyError as error:  # another model's graph
    raise tfcourse.CourseError(f"{graph_file} lacks {error}: it is not Inception-v3's graph.\n"
                               f"Remedy: delete {model_dir} and run this lesson again.") from None
grey = tf.io.encode_jpeg(np.full((32, 32, 3), 128, np.uint8))  # the bytes of a small JPEG
print(f"TF2 function: JPEG bytes -> softmax {tuple(softmax_fn(grey).shape)}")

# %% [markdown]
# ## Save the graph's structure for TensorBoard

# %%
log_dir = run.path("inception_log")
log_dir.mkdir(exist_ok=True)
if args.writer == "v1":
    with graph.as_default():  # FileWriter is a graph-mode object
        tf.compat.v1.summary.FileWriter(str(log_dir), graph).close()
else:
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        tf.summary.graph(graph)
    writer.close()

# %% [markdown]
# ## What is inside: the tensors the next lessons feed and fetch

# %%
for name, what in [("DecodeJpeg/contents:0", "feed: the bytes of a JPEG file"),
                   ("ResizeBilinear:0", "the image resized to 299x299"),
                   ("pool_3/_reshape:0", "the 2048 features week 9 retrains on"),
                   ("softmax:0", "fetch: the class probabilities")]:
    try:
        tensor = graph.get_tensor_by_name(name)
        print(f"  {name:<22} {tensor.dtype.name:<8} {str(tensor.shape):<22} {what}")
    except KeyError:
        print(f"  {name:<22} (not in this graph)")
print(f"graph written to {log_dir}\nsee it with:  tensorboard --logdir "
      f"{shlex.quote(str(log_dir))} --host 127.0.0.1   (then open http://127.0.0.1:6006)")
run.finish(operations=operations)
