"""Google's 2015 Inception-v3 frozen graph (weeks 8 and 9): download, extract, import, labels.

    folder = tfcourse.inception.ensure_inception()        # downloads once, extracts safely
    graph = tfcourse.inception.import_graph(folder / tfcourse.inception.GRAPH_FILE)
    lookup = tfcourse.inception.NodeLookup.from_folder(folder)
    lookup.id_to_string(169)                               # -> 'sports car, sport car' or similar

Where the model comes from, in order:
1. a folder that already holds the extracted files (the course's `inception_model/`);
2. a `.tgz` the learner downloaded by hand (`archive=`, the lessons' `--archive FILE`);
3. an earlier verified download in the folder;
4. a download through `tfcourse.download` (progress, resume, size check): the learner's mirror first
   (`url=`, the lessons' `--inception-url URL`, or the TFCOURSE_INCEPTION_URL environment variable;
   a URL ending in `/` is a folder holding `inception-2015-12-05.tgz`), then Google's URL.
No SHA-256 of the archive is published; the first verified archive's SHA-256 is recorded beside it
(`<archive>.sha256`) and checked whenever the archive is used again.
"""
import io
import os
import re
from pathlib import Path

from tfcourse.download import DownloadError, download, extract_tar, file_digest
from tfcourse.errors import CourseError

URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
ARCHIVE_NAME = "inception-2015-12-05.tgz"
ARCHIVE_SIZE = 88_931_400          # bytes, the published archive
ARCHIVE_SHA256 = None              # not published; see `_check_recorded_sha256`
ENV_URL = "TFCOURSE_INCEPTION_URL"
FOLDER_NAME = "inception-2015-12-05"   # the extracted folder, beside the archive

GRAPH_FILE = "classify_image_graph_def.pb"
LABEL_MAP_FILE = "imagenet_2012_challenge_label_map_proto.pbtxt"   # target_class -> uid
UID_NAMES_FILE = "imagenet_synset_to_human_label_map.txt"          # uid TAB human name
NEEDED_FILES = (GRAPH_FILE, LABEL_MAP_FILE, UID_NAMES_FILE)

# Tensor names inside classify_image_graph_def.pb
JPEG_INPUT = "DecodeJpeg/contents:0"      # a scalar string: the raw bytes of a JPEG file
DECODED_INPUT = "DecodeJpeg:0"            # (height, width, 3) uint8, what DecodeJpeg made of it
RESIZED_INPUT = "ResizeBilinear:0"        # (1, 299, 299, 3) float
BOTTLENECK = "pool_3/_reshape:0"          # (1, 2048) features (week 9 retraining)
SOFTMAX = "softmax:0"                     # (1, 1008) class probabilities
BOTTLENECK_SIZE = 2048


def default_dir():
    """Where the model is kept when no folder is named: next to Keras's own model cache."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def _has_model(folder):
    return all((Path(folder) / name).is_file() for name in NEEDED_FILES)


def _find_model(folder):
    """`folder` or its one subfolder (some repacked archives add one) holding the files, or None."""
    folder = Path(folder)
    if _has_model(folder):
        return folder
    if folder.is_dir():
        for sub in sorted(folder.iterdir()):
            if sub.is_dir() and _has_model(sub):
                return sub
    return None


def mirror_urls(url=None):
    """The URLs to try, in order: the learner's (argument, then environment), then Google's."""
    urls = []
    for candidate in (url, os.environ.get(ENV_URL), URL):
        if candidate:
            candidate = candidate + ARCHIVE_NAME if candidate.endswith("/") else candidate
            if candidate not in urls:
                urls.append(candidate)
    return urls


def _verify_archive(path):
    """Content check for the downloader: a tar that holds the graph and both label files."""
    import tarfile
    try:
        with tarfile.open(path) as tar:
            names = {Path(member.name).name for member in tar.getmembers() if member.isfile()}
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"not a readable .tgz ({error})") from None
    missing = [name for name in NEEDED_FILES if name not in names]
    if missing:
        raise ValueError(f"the archive lacks {', '.join(missing)}")


def _check_archive(path, record=True):
    """Size and content of a local archive; raise a CourseError naming the problem.

    record: also compare with (or, the first time, write) the SHA-256 recorded beside it; not done
    for an archive the learner names, so nothing is written next to their file.
    """
    problem = None
    actual = path.stat().st_size
    if ARCHIVE_SIZE is not None and actual != ARCHIVE_SIZE:
        problem = f"it has {actual:,} bytes, the published archive has {ARCHIVE_SIZE:,}"
    else:
        try:
            _verify_archive(path)
        except ValueError as error:
            problem = str(error)
    if problem is None and (record or ARCHIVE_SHA256):
        problem = _check_recorded_sha256(path)
    if problem:
        raise CourseError(f"{path} is not a complete {ARCHIVE_NAME}: {problem}.\n"
                          f"Remedy: delete it and download it again from\n  {URL}")


def _check_recorded_sha256(path):
    """Compare with the published SHA-256, else with the one recorded at the first verified use."""
    record = path.with_name(path.name + ".sha256")
    actual = file_digest(path, "sha256")
    expected = ARCHIVE_SHA256 or (record.read_text().split()[0] if record.is_file() else None)
    if expected is None:
        tmp = record.with_name(record.name + ".tmp")
        try:
            tmp.write_text(f"{actual}  {path.name}\n")
            os.replace(tmp, record)
        except OSError:  # a read-only folder: nothing recorded, nothing to check next time
            pass
        return None
    if actual != expected.lower():
        return f"its SHA-256 {actual} differs from {expected} (recorded in {record})"
    return None


def ensure_inception(dest_dir=None, url=None, archive=None, quiet=False):
    """Make sure the extracted Inception-v3 files exist; return the folder that holds them.

    dest_dir: the folder for the archive and the extracted files (default: `default_dir()`); a
    folder that already holds the three files is used as it is. url: a mirror to try first.
    archive: a local `.tgz` (downloaded by hand); nothing is downloaded then. Prints the course's
    `download:` / `finish:` lines unless quiet.
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else default_dir()
    if _has_model(dest_dir):
        return dest_dir
    folder = dest_dir / FOLDER_NAME
    if archive is None and _find_model(folder):
        return _find_model(folder)
    if archive is not None:
        archive = Path(archive)
        if not archive.is_file():
            raise CourseError(f"--archive {archive}: no such file.\n"
                              f"Remedy: give the path of the {ARCHIVE_NAME} you downloaded from\n  {URL}")
        _check_archive(archive, record=False)
    else:
        archive = dest_dir / ARCHIVE_NAME
        if archive.is_file():
            _check_archive(archive)
        else:
            if not quiet:
                print("download: ", ARCHIVE_NAME)
            try:
                download(mirror_urls(url), archive, size=ARCHIVE_SIZE, verify=_verify_archive,
                         what=ARCHIVE_NAME, quiet=quiet)
            except DownloadError as error:
                raise DownloadError(
                    f"{error}\n"
                    f"  - or name a mirror: --inception-url URL (or {ENV_URL}=URL)\n"
                    f"  - or pass the file you downloaded: --archive PATH/{ARCHIVE_NAME}\n"
                    f"  - or extract it yourself into {folder}, or pass --model-dir DIR for a folder holding the "
                    f"extracted files (the course's inception_model/)"
                ) from None
            _check_recorded_sha256(archive)
    if not quiet:
        print("finish: ", ARCHIVE_NAME)
    found = _find_model(extract_tar(archive, folder))
    if found is None:
        raise CourseError(f"{archive} was extracted to {folder} but {GRAPH_FILE} and the label "
                          f"files are not there.\nRemedy: download {URL} again.")
    return found


def add_model_flags(parser):
    """The flags that locate the model, shared by lessons 8-3, 8-4 and week 9."""
    group = parser.add_argument_group("Inception-v3 (the 2015 frozen graph)")
    group.add_argument("--model-dir", type=Path, default=None, metavar="DIR",
                       help=f"folder for {ARCHIVE_NAME} and its extracted files (default: "
                            f"$KERAS_HOME/models or ~/.keras/models); the course's inception_model/ "
                            f"with the extracted files works too")
    group.add_argument("--inception-url", default=os.environ.get(ENV_URL), metavar="URL",
                       help=f"a mirror to try before Google's URL: the .tgz itself or a folder URL "
                            f"ending in / (also the {ENV_URL} environment variable)")
    group.add_argument("--archive", type=Path, default=None, metavar="FILE",
                       help=f"the {ARCHIVE_NAME} you downloaded by hand; nothing is downloaded then")
    return group


def ensure_from_args(args, quiet=False):
    """`ensure_inception` with the values of `add_model_flags`."""
    return ensure_inception(args.model_dir, url=args.inception_url, archive=args.archive, quiet=quiet)


# Keras's InceptionV3 (the modern model beside the frozen graph): its 1000 class names
KERAS_CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
KERAS_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"   # the hash Keras itself checks


KERAS_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                     "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
KERAS_WEIGHTS_MD5 = "9a0d58056eeedaa3f26cb7ebd46da564"      # the hash Keras itself checks


def keras_weights():
    """Path of Keras's InceptionV3 ImageNet weights (about 92 MB), downloaded once with resume.

    Kept where Keras keeps them ($KERAS_HOME/models/), under Keras's file name.
    """
    path = default_dir() / KERAS_WEIGHTS_URL.rsplit("/", 1)[1]
    try:
        return download([KERAS_WEIGHTS_URL], path, md5=KERAS_WEIGHTS_MD5, what="Keras's InceptionV3 weights")
    except DownloadError as error:
        raise DownloadError(f"{error}\n(Keras would download the same file to the same place.)") from None


def keras_class_names():
    """[(wnid, name)] for the 1000 outputs of tf.keras.applications models, in output order.

    The file is kept where Keras keeps it ($KERAS_HOME/models/imagenet_class_index.json), so a
    copy Keras downloaded is reused, and one we download is reused by Keras.
    """
    import json
    path = default_dir() / "imagenet_class_index.json"
    download([KERAS_CLASS_INDEX_URL], path, md5=KERAS_CLASS_INDEX_MD5, what="Keras's ImageNet class names")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        return [tuple(index[str(i)]) for i in range(len(index))]
    except (ValueError, KeyError, TypeError) as error:
        raise CourseError(f"{path} is not Keras's class index ({error}).\nRemedy: delete it and run again.") from None


def load_graph_def(pb_path):
    """Read a frozen GraphDef (the TF1 way: `tf.compat.v1.GraphDef().ParseFromString(...)`)."""
    import tensorflow as tf
    pb_path = Path(pb_path)
    try:
        data = pb_path.read_bytes()
    except OSError as error:
        raise CourseError(f"Cannot read the graph {pb_path}: {error.strerror}.\n"
                          "Remedy: run week08_save_inception/8_3_download_inception.py first.") from None
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except Exception as error:  # google.protobuf.message.DecodeError
        raise CourseError(f"{pb_path} is not a GraphDef ({error}).\n"
                          "Remedy: delete the folder and extract the archive again.") from None
    if not graph_def.node:
        raise CourseError(f"{pb_path} holds an empty graph.\nRemedy: delete it and extract the archive again.")
    return graph_def


def import_graph(graph_def_or_path, name=""):
    """Import a GraphDef (or a .pb path) into a new `tf.Graph`, tensors named as in the file."""
    import tensorflow as tf
    graph_def = graph_def_or_path
    if isinstance(graph_def_or_path, (str, Path)):
        graph_def = load_graph_def(graph_def_or_path)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name=name)
    return graph


class NodeLookup:
    """Class id of `softmax:0` -> human-readable name (the course's NodeLookup, parsed once).

    label_lookup_path: imagenet_2012_challenge_label_map_proto.pbtxt, entries
    `target_class: 449` / `target_class_string: "n01440764"`; uid_lookup_path:
    imagenet_synset_to_human_label_map.txt, lines `n01440764<TAB>tench, Tinca tinca`.
    """

    ENTRY = re.compile(r"target_class:\s*(\d+)\s*target_class_string:\s*\"([^\"]+)\"")

    def __init__(self, label_lookup_path, uid_lookup_path):
        uid_to_human = {}
        for number, line in enumerate(_read_text(uid_lookup_path).splitlines(), 1):
            if not line.strip():
                continue
            uid, tab, human = line.partition("\t")
            if not tab:
                raise CourseError(f"{uid_lookup_path}, line {number}: expected 'uid<TAB>name', got {line!r}.")
            uid_to_human[uid.strip()] = human.strip()
        entries = self.ENTRY.findall(_read_text(label_lookup_path))
        if not entries:
            raise CourseError(f"{label_lookup_path} has no 'target_class' entries; it is not the label map.")
        self.names = {}
        for node_id, uid in entries:
            if uid not in uid_to_human:
                raise CourseError(f"{label_lookup_path}: uid {uid} (class {node_id}) is not in {uid_lookup_path}.")
            self.names[int(node_id)] = uid_to_human[uid]

    @classmethod
    def from_folder(cls, folder):
        folder = Path(folder)
        return cls(folder / LABEL_MAP_FILE, folder / UID_NAMES_FILE)

    def id_to_string(self, node_id):
        """The name of class `node_id`, '' for the few ids without one (as in the course)."""
        return self.names.get(int(node_id), "")

    def __len__(self):
        return len(self.names)


def _read_text(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"Cannot read the label file {path}: {error}.\n"
                          "Remedy: extract the Inception archive again.") from None


JPEG_MAGIC = b"\xff\xd8\xff"


def jpeg_bytes(path):
    """The bytes to feed `DecodeJpeg/contents:0`: a JPEG as it is, other images re-encoded as JPEG.

    Raises ValueError (with the reason) for a file that is not a readable image.
    """
    data = Path(path).read_bytes()
    try:
        from PIL import Image
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a damaged or truncated file fails here
            if data[:3] == JPEG_MAGIC and image.format == "JPEG":
                return data  # fed as it is, like the course
            if image.mode != "RGB":  # palette, grey, RGBA (alpha dropped), CMYK...
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=95)
            return out.getvalue()
    except Exception as error:  # PIL raises UnidentifiedImageError, OSError, SyntaxError...
        if type(error).__name__ == "UnidentifiedImageError":
            raise ValueError("not an image (no image format recognises its contents)") from None
        raise ValueError(f"not a readable image ({type(error).__name__}: {error})") from None


# ## A stand-in for tests (weeks 8 and 9): same file names and tensor names, a few KB

TINY_CLASSES = {1: ("n00000001", "red thing"), 2: ("n00000002", "green thing"),
                3: ("n00000003", "blue thing"), 4: ("n00000004", "grey thing"),
                5: ("n00000005", "dark thing"), 6: ("n00000006", "bright thing")}


def tiny_graph_def(num_classes=8):
    """A frozen GraphDef with the real model's tensor names and a rule a test can check.

    `DecodeJpeg/contents:0` -> `DecodeJpeg:0` -> `ResizeBilinear:0` (1, 299, 299, 3) ->
    `pool_3/_reshape:0` (1, 2048: the mean R, G, B repeated) -> `softmax:0` (1, num_classes).
    Classes 1, 2, 3 win for mostly red, green, blue images; class 0 has no label (as in the real
    model, whose 1008 outputs include ids without a name).
    """
    import numpy as np
    import tensorflow as tf
    rng = np.random.default_rng(0)
    weights = rng.normal(0.0, 0.01, size=(BOTTLENECK_SIZE, num_classes)).astype("float32")
    for channel in range(3):  # the feature repeats (R, G, B) 682 times, plus two zeros
        weights[channel:2046:3, 1 + channel] += 4.0 / 682
        weights[channel:2046:3, 1 + (channel + 1) % 3] -= 2.0 / 682
        weights[channel:2046:3, 1 + (channel + 2) % 3] -= 2.0 / 682
    graph = tf.Graph()
    with graph.as_default():
        contents = tf.constant("", name="contents")  # a Const that is fed, as in the real graph
        decoded = tf.io.decode_jpeg(contents, channels=3, name="decode")
        image = tf.expand_dims(tf.cast(decoded, tf.float32), 0)
        resized = tf.raw_ops.ResizeBilinear(images=image, size=[299, 299], name="resize")
        mean_rgb = tf.reduce_mean(resized, axis=[1, 2]) / 255.0 - 0.5  # (1, 3)
        features = tf.concat([tf.tile(mean_rgb, [1, 682]), tf.zeros([1, 2])], 1)
        bottleneck = tf.reshape(features, [1, BOTTLENECK_SIZE], name="bottleneck")
        tf.nn.softmax(tf.matmul(bottleneck, tf.constant(weights)), name="probs")
    renames = {"contents": "DecodeJpeg/contents", "decode": "DecodeJpeg", "resize": "ResizeBilinear",
               "bottleneck": "pool_3/_reshape", "probs": "softmax"}
    graph_def = graph.as_graph_def()
    for node in graph_def.node:
        node.name = renames.get(node.name, node.name)
        node.input[:] = [renames.get(name.split(":")[0], name.split(":")[0]) +
                         (":" + name.split(":")[1] if ":" in name else "") for name in node.input]
    return graph_def


def tiny_archive(num_classes=8, extra_members=()):
    """The bytes of a .tgz laid out like inception-2015-12-05.tgz, holding `tiny_graph_def()`.

    extra_members: (name, bytes) pairs added as they are (e.g. a `../evil` member for a test).
    """
    import tarfile
    label_map = "# -*- protobuffer -*-\n" + "".join(
        f'entry {{\n  target_class: {i}\n  target_class_string: "{uid}"\n}}\n'
        for i, (uid, _) in TINY_CLASSES.items() if i < num_classes)
    uid_names = "n00000000\tsomething unused\n" + "".join(
        f"{uid}\t{name}\n" for uid, name in TINY_CLASSES.values())
    members = [(GRAPH_FILE, tiny_graph_def(num_classes).SerializeToString()),
               (LABEL_MAP_FILE, label_map.encode()), (UID_NAMES_FILE, uid_names.encode()),
               ("LICENSE", b"test archive\n"), *extra_members]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
