"""Bench for lesson 8-4: what building NodeLookup once (ours) saves over once per image (course).

The course's loop created `NodeLookup()` inside the per-image loop, re-reading the 21,842-line
synset file every time. This runs lesson 8-4 itself once (on one picture, with the real label
files from --labels DIR, default ../shared/data/inception, beside the tests' stand-in graph from
tests/inception_standin.py: the real 95 MB graph is not available offline), takes the lesson's
own NodeLookup class from it, and times both loops, interleaved, over the same images. The
network's own time, the same in both loops, is left out: the figure is the per-image overhead.

    python bench/bench_week08_inception.py [--images 20] [--repeats 5]
"""
import argparse
import contextlib
import io
import runpy
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

import tfcourse  # noqa: F401  (quiet TensorFlow import)
from _timing import interleaved  # bench/_timing.py
import tensorflow as tf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "week08_save_inception"))  # the lesson's `import _inception`
import inception_standin  # noqa: E402

LABEL_MAP = "imagenet_2012_challenge_label_map_proto.pbtxt"
UID_NAMES = "imagenet_synset_to_human_label_map.txt"


def lesson_node_lookup(labels, work):
    """Run lesson 8-4 on one picture with the real label files; return its NodeLookup class."""
    model_dir = work / "inception_model"
    inception_standin.extracted(model_dir, num_classes=1008)
    for name in (LABEL_MAP, UID_NAMES):
        shutil.copy(labels / name, model_dir / name)
    (work / "images").mkdir()
    tf.io.write_file(str(work / "images" / "grey.jpg"),
                     tf.io.encode_jpeg(np.full((32, 32, 3), 128, np.uint8)))
    sys.argv = ["8_4_inception_classify.py", "--model-dir", str(model_dir),
                "--data-dir", str(work / "images"), "--out", str(work / "run")]
    with contextlib.redirect_stdout(io.StringIO()):
        lesson = runpy.run_path(str(ROOT / "week08_save_inception" / "8_4_inception_classify.py"),
                                run_name="__main__")
    return lesson["NodeLookup"], lesson["graph_def"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path,
                        default=ROOT.parent / "shared" / "data" / "inception")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_week08_"))
    NodeLookup, graph_def = lesson_node_lookup(args.labels, work)
    rng = np.random.default_rng(0)
    jpegs = [tf.io.encode_jpeg(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).numpy()
             for _ in range(args.images)]
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    sess = tf.compat.v1.Session(graph=graph)
    files = (args.labels / LABEL_MAP, args.labels / UID_NAMES)
    softmax = graph.get_tensor_by_name("softmax:0")

    def loop(lookup_per_image):
        lookup = None if lookup_per_image else NodeLookup(*files)
        for image_data in jpegs:
            predictions = np.squeeze(sess.run(softmax, {"DecodeJpeg/contents:0": image_data}))
            if lookup_per_image:
                lookup = NodeLookup(*files)  # the course's place for it
            [lookup.id_to_string(i) for i in predictions.argsort()[-5:][::-1]]

    jobs = {"course (lookup per image)": lambda: loop(True),
            "ours (lookup once)": lambda: loop(False)}
    # one warm-up round (session, file cache), then interleaved: the machine is shared and noisy
    times = {name: [t / args.images for t in wall]
             for name, wall in interleaved(jobs, args.repeats).wall.items()}
    for name, values in times.items():
        print(f"{name:<28} median {1000 * np.median(values):7.2f} ms/image  "
              f"(min {1000 * min(values):.2f})")
    course, ours = (np.median(v) for v in times.values())
    print(f"ratio course/ours: {course / ours:.1f}x  ({args.images} images, {args.repeats} "
          "repeats, tiny stand-in graph; the real graph adds the same network time to both)")
    sess.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
