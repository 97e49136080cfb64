"""Google's 2015 Inception-v3 frozen graph (weeks 8 and 9): find or download it, read the GraphDef.

The model comes from a folder that already holds the extracted files (the course's `inception_model/`),
the learner's `.tgz` (`--archive FILE`), or a download: the learner's mirror first (`--inception-url URL`
or TFCOURSE_INCEPTION_URL; a URL ending in `/` is a folder), then Google's.
"""
import os
import shutil
from pathlib import Path

from tfcourse.download import DownloadError, download, extract_tar, keras_dir
from tfcourse.errors import CourseError

URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
ARCHIVE_NAME = "inception-2015-12-05.tgz"
ARCHIVE_SIZE = 88_931_400          # bytes (88.9 MB), the published archive
ENV_URL = "TFCOURSE_INCEPTION_URL"
FOLDER_NAME = "inception-2015-12-05"   # the extracted folder, beside the archive
DOWNLOAD_BACKOFF = 1.0             # seconds before a retry (times the attempt number)

GRAPH_FILE = "classify_image_graph_def.pb"
LABEL_MAP_FILE = "imagenet_2012_challenge_label_map_proto.pbtxt"   # target_class -> uid
UID_NAMES_FILE = "imagenet_synset_to_human_label_map.txt"          # uid TAB human name
NEEDED_FILES = (GRAPH_FILE, LABEL_MAP_FILE, UID_NAMES_FILE)

# Tensor names inside classify_image_graph_def.pb
JPEG_INPUT = "DecodeJpeg/contents:0"      # a scalar string: the raw bytes of a JPEG file
RESIZED_INPUT = "ResizeBilinear:0"        # (1, 299, 299, 3) float
BOTTLENECK = "pool_3/_reshape:0"          # (1, 2048) features (week 9 retraining)
SOFTMAX = "softmax:0"                     # (1, 1008) class probabilities
REMOVED_IN_9 = {"BatchNormWithGlobalNormalization"}  # the 2015 graph's batch norm (GraphDef version 5)

# Keras's own files (8-4b, 9-retrain), kept where Keras keeps them: name -> (folder URL, bytes, Keras's MD5)
APPS = "tensorflow/keras-applications/inception_v3/"
KERAS_FILES = {
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5": (APPS, 96_112_376, "9a0d58056eeedaa3f26cb7ebd46da564"),
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5": (APPS, 87_910_968, "bcbd6486424b2319ff4ef7d526e38f63"),
    "imagenet_class_index.json": ("download.tensorflow.org/data/", None, "c2c37ea517e94d9795004a39431a14cb"),
}


def default_dir():
    """Where models are kept when no folder is named: Keras's model cache ($KERAS_HOME/models)."""
    return keras_dir("models")


def _find_model(folder):
    """`folder` or one subfolder of it holding the three files, or None."""
    folder = Path(folder)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    for candidate in [folder] + subfolders:
        if all((candidate / name).is_file() for name in NEEDED_FILES):
            return candidate
    return None


def ensure_inception(args):
    """The folder holding the extracted files (flags of `add_model_flags`): extracted from --archive,
    found, or downloaded. Prints the course's `download:` (when it downloads) and `finish:`."""
    dest_dir = args.model_dir or default_dir()
    folder = dest_dir / FOLDER_NAME
    again = f"download {ARCHIVE_NAME} again from\n  {URL}"
    if args.archive is not None:
        archive = Path(args.archive)
        if not archive.is_file():
            raise CourseError(f"--archive {archive}: no such file.\nRemedy: {again}")
        if archive.stat().st_size != ARCHIVE_SIZE:
            raise CourseError(f"--archive {archive}: it has {archive.stat().st_size:,} bytes, the published "
                              f"archive {ARCHIVE_SIZE:,}.\nRemedy: {again}")
    elif found := _find_model(dest_dir) or _find_model(folder):
        return found
    else:
        archive = dest_dir / ARCHIVE_NAME
        if not archive.is_file():
            print("download: ", ARCHIVE_NAME)
        mirrors = [u + ARCHIVE_NAME if u.endswith("/") else u
                   for u in (args.inception_url, os.environ.get(ENV_URL)) if u]  # a folder URL ends in /
        try:
            download(list(dict.fromkeys(mirrors + [URL])), archive, size=ARCHIVE_SIZE, what=ARCHIVE_NAME,
                     backoff=DOWNLOAD_BACKOFF)
        except DownloadError as error:
            raise DownloadError(
                f"{error}\n  - or name a mirror: --inception-url URL (or {ENV_URL}=URL)\n"
                f"  - or pass the file you downloaded: --archive PATH/{ARCHIVE_NAME}\n"
                f"  - or pass --model-dir DIR, a folder holding the extracted files (the course's "
                f"inception_model/)") from None
    print("finish: ", ARCHIVE_NAME)
    try:  # the archive's content is checked here: a bad one is not kept for the next run
        found = _find_model(extract_tar(archive, folder))
        if found is None:
            raise CourseError(f"{GRAPH_FILE} and the label files are not in it")
        load_graph_def(found / GRAPH_FILE)
    except CourseError as error:
        shutil.rmtree(folder, ignore_errors=True)
        if args.archive is None:  # our download, not the learner's file: the next run downloads it again
            archive.unlink(missing_ok=True)
        reason = str(error).splitlines()[0]
        raise CourseError(f"{archive} is not the 2015 Inception-v3 archive: {reason}\n"
                          f"Nothing of it was kept. Remedy: {again}") from None
    return found


def add_model_flags(parser):
    """The flags that locate the 2015 model (lessons 8-3, 8-4 and 9-retrain --graph)."""
    group = parser.add_argument_group("Inception-v3 (the 2015 frozen graph)")
    group.add_argument("--model-dir", "--model_dir", type=Path, metavar="DIR",
                       help=f"folder holding the extracted files (the course's inception_model/), or where "
                            f"{ARCHIVE_NAME} is downloaded and extracted (default: $KERAS_HOME/models, "
                            f"i.e. ~/.keras/models)")
    group.add_argument("--inception-url", metavar="URL",
                       help=f"a mirror to try before Google's URL: the .tgz itself or a folder URL "
                            f"ending in / (also the {ENV_URL} environment variable)")
    group.add_argument("--archive", type=Path, metavar="FILE",
                       help=f"the {ARCHIVE_NAME} you downloaded by hand; nothing is downloaded then")


def keras_file(name):
    """Path of a file of KERAS_FILES, downloaded once where Keras itself would put it."""
    folder, size, md5 = KERAS_FILES[name]
    url = f"https://storage.googleapis.com/{folder}{name}"
    return download([url], default_dir() / name, size=size, md5=md5, what=name, backoff=DOWNLOAD_BACKOFF)


def load_graph_def(path):
    """Read a frozen GraphDef, the TF1 way: `tf.compat.v1.GraphDef().ParseFromString(bytes)`."""
    import tensorflow as tf
    path = Path(path)
    remedy = f"Remedy: delete {path.parent} and run week08_save_inception/8_3_download_inception.py again."
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except OSError as error:
        raise CourseError(f"Cannot read the graph {path}: {error.strerror}.\n{remedy}") from None
    except Exception as error:  # google.protobuf.message.DecodeError: not a GraphDef
        raise CourseError(f"{path} is not a GraphDef ({error}): the file is damaged.\n{remedy}") from None
    if not graph_def.node:
        raise CourseError(f"{path} holds an empty graph.\n{remedy}")
    old = sorted({node.op for node in graph_def.node} & REMOVED_IN_9)
    if old and graph_def.versions.producer >= 9:
        raise CourseError(
            f"{path} declares GraphDef version {graph_def.versions.producer} but uses {', '.join(old)}, "
            f"an op removed in version 9: it is not the 2015 graph (version 5) that the lessons use.\n{remedy}")
    return graph_def


def graph_function(graph_def, inputs, outputs):
    """The TF2 way to run a TF1 GraphDef: import it inside `wrap_function`, `prune` to in -> out.

    A function is built at today's GraphDef version, which lacks the 2015 graph's batch norm
    (a Session keeps the file's version 5), so each one is rewritten as the same arithmetic,
    x * scale + offset, with the frozen mean, variance, beta and gamma folded into two constants.
    """
    import numpy as np
    import tensorflow as tf
    constants = {node.name: tf.make_ndarray(node.attr["value"].tensor)
                 for node in graph_def.node if node.op == "Const"}
    modern = tf.compat.v1.GraphDef(versions=graph_def.versions)
    try:
        for node in graph_def.node:
            if node.op not in REMOVED_IN_9:
                modern.node.append(node)
                continue
            x, mean, variance, beta, gamma = node.input  # as the op's kernel computes it:
            scale = 1 / np.sqrt(constants[variance] + node.attr["variance_epsilon"].f)
            scale = scale * constants[gamma] if node.attr["scale_after_normalization"].b else scale
            for suffix, value in (("scale", scale), ("offset", constants[beta] - constants[mean] * scale)):
                modern.node.add(name=f"{node.name}/{suffix}", op="Const").attr["value"].tensor.CopyFrom(
                    tf.make_tensor_proto(value.astype(np.float32)))
                modern.node[-1].attr["dtype"].type = node.attr["T"].type
            for name, op, operands in ((f"{node.name}/mul", "Mul", [x, f"{node.name}/scale"]),
                                       (node.name, "Add", [f"{node.name}/mul", f"{node.name}/offset"])):
                modern.node.add(name=name, op=op, input=operands).attr["T"].CopyFrom(node.attr["T"])
        wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(modern, name=""), [])
        return wrapped.prune(tf.nest.map_structure(wrapped.graph.get_tensor_by_name, inputs),
                             tf.nest.map_structure(wrapped.graph.get_tensor_by_name, outputs))
    except (KeyError, ValueError) as error:  # a tensor or a frozen constant that is not there
        raise CourseError(f"The graph lacks {error}: it is not Inception-v3's {GRAPH_FILE}.\n"
                          f"Remedy: extract {ARCHIVE_NAME} again.") from None
