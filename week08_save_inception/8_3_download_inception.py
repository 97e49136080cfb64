"""Lesson 8-3 下载google图像识别网络inception-v3并查看结构 — Download Inception-v3 and look at its graph.

本课下载 Google 2015 年 12 月的 Inception-v3（inception-2015-12-05.tgz，88.9 MB），解压，用 TF1 的
方式（`tf.compat.v1.GraphDef` + `tf.compat.v1.import_graph_def`）导入冻结图
classify_image_graph_def.pb，再把图写进 TensorBoard 日志。与视频的不同：下载可续传并检查大小和
内容，解压拒绝指向文件夹外的成员；模型默认放在 Keras 的缓存目录（~/.keras/models），8-4 和
第 9 周共用；--writer v2 用 TF2 的 tf.summary.graph 写同一张图。

Downloads the archive (88,931,400 bytes), extracts it, imports the frozen graph and writes it to a
TensorBoard log, printing the lesson's lines

    download:  inception-2015-12-05.tgz
    finish:  inception-2015-12-05.tgz

then the tensors lessons 8-4 and 9 feed and fetch, and the command that opens TensorBoard.

Run:
    python week08_save_inception/8_3_download_inception.py
    python week08_save_inception/8_3_download_inception.py --model-dir inception_model   # the course's folder
    python week08_save_inception/8_3_download_inception.py --archive ~/Downloads/inception-2015-12-05.tgz
Offline? Download http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz
elsewhere and pass --archive FILE, or name a mirror (--inception-url URL, TFCOURSE_INCEPTION_URL).

Differences from the course code (TensorFlow 1.x):
  - The download goes through `tfcourse.download`: progress, retries, resume of a cut download
    (a `.part` file), a size and content check; an incomplete file is never left under the
    archive's name (the course's loop left a truncated .tgz that later runs trusted).
  - Extraction uses tarfile's "data" filter (no absolute paths, `..` or links out of the folder).
  - The graph is the 2015 file as it is: GraphDef version 5, with ops that TensorFlow removed in
    version 9 (`BatchNormWithGlobalNormalization`), which a tf.compat.v1 graph still imports.
  - `--writer v2` writes the same graph with TF2's `tf.summary.graph` instead of the
    `tf.compat.v1.summary.FileWriter` (`tf.summary.FileWriter` in the course).
"""
import shlex

import tfcourse  # quiet TensorFlow import, shared flags, downloads
import tensorflow as tf
from tfcourse import inception

parser = tfcourse.make_parser(__doc__)
inception.add_model_flags(parser)
parser.add_argument("--writer", choices=["v1", "v2"], default="v1",
                    help="v1: tf.compat.v1.summary.FileWriter (the course, default); v2: tf.summary.graph")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)

    # ## Download and extract (prints "download:" only when it downloads, then "finish:")
    model_dir = inception.ensure_inception(args)
    print(f"model files: {model_dir}")

    # ## Import the frozen graph, the TensorFlow 1 way: GraphDef protobuf -> tf.Graph
    graph_def = inception.load_graph_def(model_dir / inception.GRAPH_FILE)  # GraphDef().ParseFromString
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")  # name="": keep the file's op names

    # ## Save the graph's structure for TensorBoard
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

    # ## What is inside: the tensors the next lessons feed and fetch
    operations = len(graph_def.node)
    print(f"graph: {operations} operations, {sum(node.op == 'Const' for node in graph_def.node)} of them "
          f"constants (the frozen weights); GraphDef version {graph_def.versions.producer}")
    for name, what in [(inception.JPEG_INPUT, "feed: the bytes of a JPEG file"),
                       (inception.RESIZED_INPUT, "the image resized to 299x299"),
                       (inception.BOTTLENECK, "the 2048 features week 9 retrains on"),
                       (inception.SOFTMAX, "fetch: the class probabilities")]:
        try:
            tensor = graph.get_tensor_by_name(name)
            print(f"  {name:<22} {tensor.dtype.name:<8} {str(tensor.shape):<22} {what}")
        except KeyError:
            print(f"  {name:<22} (not in this graph)")
    print(f"graph written to {log_dir}\nsee it with:  tensorboard --logdir {shlex.quote(str(log_dir))} "
          "--host 127.0.0.1   (then open http://127.0.0.1:6006)")
    run.finish(operations=operations)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
