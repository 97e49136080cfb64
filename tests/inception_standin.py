"""A stand-in for Google's 2015 Inception-v3 archive, for the week 8 and 9 tests: a few KB.

The real `classify_image_graph_def.pb` (in inception-2015-12-05.tgz, 88,931,400 bytes) cannot be
downloaded here. This one has the real file names, the real tensor names, and the real graph's
old ops and GraphDef version, so the lessons go through the code path the real graph takes:

    DecodeJpeg/contents:0 (a fed Const) -> DecodeJpeg:0 -> Cast -> ExpandDims -> ResizeBilinear:0
    -> BatchNormWithGlobalNormalization (pixels to [-1, 1]) -> AvgPool (1, 1, 1, 3) -> Tile
    -> Concat (the old op: concat_dim first) -> pool_3/_reshape:0 (1, 2048) -> MatMul -> softmax:0

`BatchNormWithGlobalNormalization` and the old `Concat` were removed from TensorFlow's op set at
GraphDef version 9; the 2015 graph declares producer 5, and TF 2.x still imports and runs such a
graph. The features are the mean R, G, B (682 times, then two zeros), and classes 1, 2, 3 win for
mostly red, green and blue pictures, so a test can check the answer. Class 0 has no label (the
real model's 1008 outputs include ids without a name).
"""
import io
import tarfile

import numpy as np

ARCHIVE_NAME = "inception-2015-12-05.tgz"
GRAPH_FILE = "classify_image_graph_def.pb"
LABEL_MAP_FILE = "imagenet_2012_challenge_label_map_proto.pbtxt"
UID_NAMES_FILE = "imagenet_synset_to_human_label_map.txt"
CLASSES = {1: ("n00000001", "red thing"), 2: ("n00000002", "green thing"),
           3: ("n00000003", "blue thing"), 4: ("n00000004", "grey thing"),
           5: ("n00000005", "dark thing"), 6: ("n00000006", "bright thing")}


def graph_def(num_classes=8, producer=5):
    """The stand-in frozen GraphDef, written node by node as the 2015 exporter wrote it."""
    import tensorflow as tf
    graph = tf.compat.v1.GraphDef()
    graph.versions.producer = producer

    def node(name, op, inputs=(), **attrs):
        new = graph.node.add(name=name, op=op, input=list(inputs))
        for key, value in attrs.items():
            if isinstance(value, tf.dtypes.DType):
                new.attr[key].type = value.as_datatype_enum
            elif isinstance(value, bool):
                new.attr[key].b = value
            elif isinstance(value, int):
                new.attr[key].i = value
            elif isinstance(value, float):
                new.attr[key].f = value
            elif isinstance(value, str):
                new.attr[key].s = value.encode()
            elif isinstance(value, list):
                new.attr[key].list.i[:] = value
            else:
                new.attr[key].tensor.CopyFrom(tf.make_tensor_proto(value))

    def const(name, value, dtype):
        node(name, "Const", dtype=dtype, value=np.asarray(value, dtype.as_numpy_dtype))

    weights = np.random.default_rng(0).normal(0.0, 0.01, size=(2048, num_classes)).astype("float32")
    for channel in range(3):  # feature k is channel k % 3 of the mean colour
        weights[channel:2046:3, 1 + channel] += 2.0 / 682
        weights[channel:2046:3, 1 + (channel + 1) % 3] -= 1.0 / 682
        weights[channel:2046:3, 1 + (channel + 2) % 3] -= 1.0 / 682
    f32, i32 = tf.float32, tf.int32
    node("DecodeJpeg/contents", "Const", dtype=tf.string, value=np.array(b"", object))
    node("DecodeJpeg", "DecodeJpeg", ["DecodeJpeg/contents"], channels=3)
    node("Cast", "Cast", ["DecodeJpeg"], SrcT=tf.uint8, DstT=f32)
    const("ExpandDims/dim", 0, i32)
    node("ExpandDims", "ExpandDims", ["Cast", "ExpandDims/dim"], T=f32, Tdim=i32)
    const("ResizeBilinear/size", [299, 299], i32)
    node("ResizeBilinear", "ResizeBilinear", ["ExpandDims", "ResizeBilinear/size"], T=f32)
    for part, value in (("mean", 127.5), ("variance", 127.5 ** 2), ("beta", 0.0), ("gamma", 1.0)):
        const(f"conv/batchnorm/{part}", [value] * 3, f32)
    parts = [f"conv/batchnorm/{p}" for p in ("mean", "variance", "beta", "gamma")]
    node("conv/batchnorm", "BatchNormWithGlobalNormalization", ["ResizeBilinear"] + parts,
         T=f32, variance_epsilon=0.001, scale_after_normalization=False)
    node("pool_3", "AvgPool", ["conv/batchnorm"], T=f32, ksize=[1, 299, 299, 1],
         strides=[1, 1, 1, 1], padding="VALID")
    const("mixed_10/multiples", [1, 1, 1, 682], i32)
    node("mixed_10/tile", "Tile", ["pool_3", "mixed_10/multiples"], T=f32, Tmultiples=i32)
    const("mixed_10/zeros", np.zeros([1, 1, 1, 2]), f32)
    const("mixed_10/join/concat_dim", 3, i32)
    node("mixed_10/join", "Concat",
         ["mixed_10/join/concat_dim", "mixed_10/tile", "mixed_10/zeros"], N=2, T=f32)
    const("pool_3/_reshape/shape", [1, 2048], i32)
    node("pool_3/_reshape", "Reshape", ["mixed_10/join", "pool_3/_reshape/shape"],
         T=f32, Tshape=i32)
    const("softmax/weights", weights, f32)
    node("softmax/logits", "MatMul", ["pool_3/_reshape", "softmax/weights"], T=f32)
    node("softmax", "Softmax", ["softmax/logits"], T=f32)
    return graph


def archive(num_classes=8, producer=5, extra_members=(), graph_bytes=None):
    """The bytes of a .tgz laid out like inception-2015-12-05.tgz, holding `graph_def()`.

    extra_members: (name, bytes) pairs added as they are (e.g. a `../evil` member for a test);
    graph_bytes: the .pb's bytes instead of the stand-in graph (e.g. a damaged one).
    """
    label_map = "# -*- protobuffer -*-\n" + "".join(
        f'entry {{\n  target_class: {i}\n  target_class_string: "{uid}"\n}}\n'
        for i, (uid, _) in CLASSES.items() if i < num_classes)
    uid_names = "n00000000\tsomething unused\n" + "".join(
        f"{uid}\t{name}\n" for uid, name in CLASSES.values())
    if graph_bytes is None:
        graph_bytes = graph_def(num_classes, producer).SerializeToString()
    members = [(GRAPH_FILE, graph_bytes), (LABEL_MAP_FILE, label_map.encode()),
               (UID_NAMES_FILE, uid_names.encode()), ("LICENSE", b"test archive\n"), *extra_members]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def extracted(folder, **kwargs):
    """Write the stand-in's three files into `folder` (as an extracted archive); return `folder`."""
    with tarfile.open(fileobj=io.BytesIO(archive(**kwargs))) as tar:
        tar.extractall(folder, filter="data")
    return folder
