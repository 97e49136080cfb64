"""Week 8's Inception plumbing, shared by 8-3, 8-4 and 9-retrain --graph (none of them teaches it).

- `add_model_flags(parser)`: --model-dir (the course's inception_model/) and --inception-url.
- `ensure_inception(args)`: the folder of the extracted 2015 files: found in --model-dir, else the
  archive downloaded there (a mirror first), checked by its size, extracted and its graph read.
- `load_graph_def(path)`: the 2015 GraphDef, each batch-norm node of 2015 (an op today's
  TensorFlow no longer has) rewritten as the same arithmetic, x * scale + offset.
"""
import os
import shutil
from pathlib import Path

import numpy as np

from tfcourse import CourseError, DownloadError, download, extract_tar, folder
from tfcourse.download import keras_dir

URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
ARCHIVE_NAME, ARCHIVE_SIZE = "inception-2015-12-05.tgz", 88_931_400  # bytes, as published
FOLDER_NAME = "inception-2015-12-05"  # the extracted folder, beside the archive
ENV_URL = "TFCOURSE_INCEPTION_URL"
DOWNLOAD_BACKOFF = 1.0  # seconds before a retry (times the attempt number)
GRAPH_FILE = "classify_image_graph_def.pb"
NEEDED_FILES = (GRAPH_FILE, "imagenet_2012_challenge_label_map_proto.pbtxt",  # class -> uid
                "imagenet_synset_to_human_label_map.txt")  # uid TAB name
OLD_BATCH_NORM = "BatchNormWithGlobalNormalization"  # removed at GraphDef version 9
AGAIN = f"download {ARCHIVE_NAME} again from\n  {URL}"


def add_model_flags(parser):
    group = parser.add_argument_group("Inception-v3 (the 2015 frozen graph)")
    group.add_argument("--model-dir", "--model_dir", type=folder, metavar="DIR",
                       help="folder holding the extracted files (the course's inception_model/) "
                            f"or {ARCHIVE_NAME} (default: $KERAS_HOME/models)")
    group.add_argument("--inception-url", metavar="URL", help="a mirror to try first: the .tgz, "
                       f"or a folder URL ending in / (also {ENV_URL})")


def ensure_inception(args):
    """The folder of the extracted files, found or extracted from a downloaded (or placed) .tgz."""
    dest_dir = args.model_dir or keras_dir("models")
    archive, extracted = dest_dir / ARCHIVE_NAME, dest_dir / FOLDER_NAME
    for place in (dest_dir, extracted):
        if all((place / name).is_file() for name in NEEDED_FILES):
            return place
    if not archive.is_file():
        print("download: ", ARCHIVE_NAME)
    urls = [u + ARCHIVE_NAME if u.endswith("/") else u  # a folder URL ends in /
            for u in (args.inception_url, os.environ.get(ENV_URL), URL) if u]
    try:  # an archive already there (downloaded by hand) is used if it has the right size
        download(list(dict.fromkeys(urls)), archive, size=ARCHIVE_SIZE, backoff=DOWNLOAD_BACKOFF)
        print("finish: ", ARCHIVE_NAME)
        extract_tar(archive, extracted)  # then its content is checked: a bad one is not kept
        if not all((extracted / name).is_file() for name in NEEDED_FILES):
            raise CourseError(f"{GRAPH_FILE} and the label files are not in it")
        load_graph_def(extracted / GRAPH_FILE)
    except DownloadError as error:
        raise DownloadError(f"{error}\n  (a mirror: --inception-url URL, or {ENV_URL})") from None
    except CourseError as error:
        shutil.rmtree(extracted, ignore_errors=True)
        archive.unlink(missing_ok=True)
        first = str(error).splitlines()[0]
        raise CourseError(f"{archive} is not the 2015 Inception-v3 archive: {first}\n"
                          f"Nothing of it was kept. Remedy: {AGAIN}") from None
    return extracted


def load_graph_def(path):
    """The checked GraphDef at `path`, each OLD_BATCH_NORM as x * scale + offset (for TF2)."""
    import tensorflow as tf
    try:
        graph_def = tf.compat.v1.GraphDef.FromString(Path(path).read_bytes())
        if not graph_def.node:
            raise ValueError("an empty graph")
        if graph_def.versions.producer >= 9 and OLD_BATCH_NORM in {n.op for n in graph_def.node}:
            raise ValueError(f"it declares GraphDef version {graph_def.versions.producer} but "
                             f"uses {OLD_BATCH_NORM}, removed in version 9: not the 2015 graph")
        today = tf.compat.v1.GraphDef(versions=graph_def.versions)
        constants = {n.name: n.attr["value"].tensor for n in graph_def.node if n.op == "Const"}
        for node in graph_def.node:
            if node.op != OLD_BATCH_NORM:
                today.node.append(node)
                continue
            mean, variance, beta, gamma = (tf.make_ndarray(constants[i]) for i in node.input[1:])
            scale = 1 / np.sqrt(variance + node.attr["variance_epsilon"].f)
            scale = scale * gamma if node.attr["scale_after_normalization"].b else scale
            for suffix, value in (("scale", scale), ("offset", beta - mean * scale)):
                const = today.node.add(name=f"{node.name}/{suffix}", op="Const")
                const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value.astype("float32")))
                const.attr["dtype"].type = node.attr["T"].type
            for name, op, inputs in ((f"{node.name}/mul", "Mul", [node.input[0], "scale"]),
                                     (node.name, "Add", ["mul", "offset"])):  # the old name
                inputs = [i if i == node.input[0] else f"{node.name}/{i}" for i in inputs]
                today.node.add(name=name, op=op, input=inputs).attr["T"].CopyFrom(node.attr["T"])
    except Exception as error:  # OSError, DecodeError: not a GraphDef, KeyError: no constant
        raise CourseError(f"{path} is not the 2015 Inception-v3 graph ({error}).\n"
                          f"Remedy: delete {Path(path).parent}, then {AGAIN}") from None
    return today
