"""Google's 2015 Inception-v3 archive (8-3, 8-4, 9-retrain --graph): found in a folder (the
course's inception_model/), taken from the learner's .tgz (--archive), or downloaded (a mirror
first: --inception-url or TFCOURSE_INCEPTION_URL); and its frozen graph, read for today's TF."""
import os
import shutil
from pathlib import Path

import numpy as np

from tfcourse.cli import existing_file, folder
from tfcourse.download import DownloadError, download, extract_tar, keras_dir
from tfcourse.errors import CourseError

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


def default_dir():
    """Where the model is kept when no folder is named: Keras's cache ($KERAS_HOME/models)."""
    return keras_dir("models")


def _has_model(place):
    return all((place / name).is_file() for name in NEEDED_FILES)


def ensure_inception(args):
    """The folder of the extracted files (flags of `add_model_flags`): found, extracted from
    --archive, or downloaded, printing the course's `download:` (if it downloads) and `finish:`."""
    dest_dir = args.model_dir or default_dir()
    extracted = dest_dir / FOLDER_NAME
    if args.archive:
        archive = args.archive
        if archive.stat().st_size != ARCHIVE_SIZE:
            raise CourseError(f"--archive {archive}: it has {archive.stat().st_size:,} bytes, "
                              f"the published archive {ARCHIVE_SIZE:,}.\nRemedy: {AGAIN}")
    elif _has_model(dest_dir) or _has_model(extracted):
        return dest_dir if _has_model(dest_dir) else extracted
    else:
        archive = dest_dir / ARCHIVE_NAME
        if not archive.is_file():
            print("download: ", ARCHIVE_NAME)
        urls = [u + ARCHIVE_NAME if u.endswith("/") else u  # a folder URL ends in /
                for u in (args.inception_url, os.environ.get(ENV_URL), URL) if u]
        try:
            download(list(dict.fromkeys(urls)), archive, size=ARCHIVE_SIZE, what=ARCHIVE_NAME,
                     backoff=DOWNLOAD_BACKOFF)
        except DownloadError as error:
            raise DownloadError(f"{error}\n  - or name a mirror: --inception-url URL (or "
                                f"{ENV_URL}=URL)\n  - or pass the file you downloaded: --archive "
                                f"PATH/{ARCHIVE_NAME}\n  - or pass --model-dir DIR, a folder "
                                "holding the extracted files (inception_model/)") from None
    print("finish: ", ARCHIVE_NAME)
    try:  # the content is checked here: a bad archive is not kept for the next run
        if not _has_model(extract_tar(archive, extracted)):
            raise CourseError(f"{GRAPH_FILE} and the label files are not in it")
        load_graph_def(extracted / GRAPH_FILE)
    except CourseError as error:
        shutil.rmtree(extracted, ignore_errors=True)
        if not args.archive:  # our download, not the learner's file: fetched again next time
            archive.unlink(missing_ok=True)
        raise CourseError(f"{archive} is not the 2015 Inception-v3 archive: "
                          f"{str(error).splitlines()[0]}\nNothing of it was kept. Remedy: {AGAIN}"
                          ) from None
    return extracted


def add_model_flags(parser):
    """The flags that locate the 2015 model (lessons 8-3, 8-4 and 9-retrain --graph)."""
    group = parser.add_argument_group("Inception-v3 (the 2015 frozen graph)")
    group.add_argument("--model-dir", "--model_dir", type=folder, metavar="DIR",
                       help="folder holding the extracted files (the course's inception_model/) "
                            f"or where {ARCHIVE_NAME} goes (default: $KERAS_HOME/models)")
    group.add_argument("--inception-url", metavar="URL", help="a mirror to try first: the .tgz, "
                       f"or a folder URL ending in / (also {ENV_URL})")
    group.add_argument("--archive", type=existing_file, metavar="FILE",
                       help=f"the {ARCHIVE_NAME} you downloaded by hand; nothing is downloaded")


def load_graph_def(path):
    """The checked GraphDef at `path`, its 2015 batch norm rewritten for a TF2 function (built at
    today's GraphDef version; a Session keeps the file's version 5): each OLD_BATCH_NORM becomes
    x * scale + offset, the frozen mean, variance, beta and gamma folded into two constants."""
    import tensorflow as tf
    path, today = Path(path), None
    try:
        graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
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
                          f"Remedy: delete {path.parent}, then {AGAIN}") from None
    return today
