"""Lesson 8-3 下载google图像识别网络inception-v3并查看结构 — Download Inception-v3 and look at its graph.

Downloads Google's Inception-v3 of December 2015 (inception-2015-12-05.tgz, 88,931,400 bytes),
extracts it, imports the frozen graph classify_image_graph_def.pb the TensorFlow 1 way
(`tf.compat.v1.GraphDef` + `tf.compat.v1.import_graph_def`) and writes it to a TensorBoard log,
printing the lesson's lines:

    download:  inception-2015-12-05.tgz
    finish:  inception-2015-12-05.tgz

then the tensors lessons 8-4 and 9 use, and the command that opens TensorBoard.

Run:
    python week08_save_inception/8_3_download_inception.py
    python week08_save_inception/8_3_download_inception.py --inception-url https://my.mirror/models/
    python week08_save_inception/8_3_download_inception.py --archive ~/Downloads/inception-2015-12-05.tgz
    python week08_save_inception/8_3_download_inception.py --model-dir inception_model   # the course's folder
    tensorboard --logdir runs/week08_save_inception/8_3_download_inception/inception_log

Offline? Download http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz
on another machine and pass it with --archive FILE (or name a mirror: --inception-url URL or the
TFCOURSE_INCEPTION_URL environment variable).

Differences from the course code (TensorFlow 1.x):
  - The download goes through `tfcourse.download`: progress, retries, resume of a cut download
    (a `.part` file), a size and content check; an incomplete file is never left under the
    archive's name (the course's loop left a truncated .tgz that later runs trusted).
  - Extraction refuses members with absolute paths, `..` or links leading out of the folder
    (tarfile's "data" filter); the course called extractall() on whatever it received.
  - The model lives in $KERAS_HOME/models (default ~/.keras/models), shared by 8-4 and week 9,
    instead of inception_model/ beside the script; --model-dir inception_model uses the course's.
  - `--writer v2` writes the same graph with TF2's `tf.summary.graph` instead of the
    `tf.compat.v1.summary.FileWriter` (`tf.summary.FileWriter` in the course).
"""
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
    model_dir = inception.ensure_from_args(args)
    graph_file = model_dir / inception.GRAPH_FILE
    print(f"model files: {model_dir}")

    # ## Import the frozen graph, the TensorFlow 1 way: GraphDef protobuf -> tf.Graph
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(graph_file.read_bytes())
    except Exception as error:  # DecodeError: not a GraphDef (a damaged file)
        raise tfcourse.CourseError(f"{graph_file} is not a GraphDef ({error}).\n"
                                   f"Remedy: delete {model_dir} and run this lesson again.") from None
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")  # name="": keep the file's op names

    # ## Save the graph's structure for TensorBoard
    log_dir = run.path("inception_log")
    log_dir.mkdir(exist_ok=True)
    for old in log_dir.glob("events.out.tfevents.*"):  # one graph per log: this run's
        old.unlink()
    if args.writer == "v1":
        with graph.as_default():  # FileWriter is a graph-mode object
            writer = tf.compat.v1.summary.FileWriter(str(log_dir), graph)
            writer.close()
    else:
        writer = tf.summary.create_file_writer(str(log_dir))
        with writer.as_default():
            tf.summary.graph(graph)
        writer.close()

    # ## What is inside: the tensors the next lessons feed and fetch
    print(f"graph: {len(graph_def.node)} operations, "
          f"{sum(node.op == 'Const' for node in graph_def.node)} of them constants (the frozen weights)")
    for name, what in [(inception.JPEG_INPUT, "feed: the bytes of a JPEG file"),
                       (inception.RESIZED_INPUT, "the image resized to 299x299"),
                       (inception.BOTTLENECK, "the 2048 features week 9 retrains on"),
                       (inception.SOFTMAX, "fetch: the class probabilities")]:
        try:
            tensor = graph.get_tensor_by_name(name)
            print(f"  {name:<22} {str(tensor.dtype.name):<8} {str(tensor.shape):<22} {what}")
        except KeyError:
            print(f"  {name:<22} (not in this graph)")
    print(f"graph written to {log_dir}\nsee it with:  tensorboard --logdir {log_dir}")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
