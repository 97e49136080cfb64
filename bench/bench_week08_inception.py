"""Bench for lesson 8-4: what building NodeLookup once (ours) saves over once per image (course).

The course's loop created `NodeLookup()` inside the per-image loop, re-reading the 21,842-line
synset file every time. This times both loops in one run, interleaved, over the same images,
with the real label files (from --labels DIR, default ../shared/data/inception), the lesson's own
NodeLookup, and a session on the tests' stand-in graph (tests/inception_standin.py: the real 95 MB
graph is not available offline, so the network's own time, the same in both loops, is left out:
the figure is the per-image overhead).

    python bench/bench_week08_inception.py [--images 20] [--repeats 5]
"""
import argparse
import runpy
import sys
from pathlib import Path

import numpy as np

import tfcourse  # noqa: F401  (quiet TensorFlow import)
from _timing import interleaved  # bench/_timing.py
import tensorflow as tf
from tfcourse import inception

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import inception_standin  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data" / "inception")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    jpegs = [tf.io.encode_jpeg(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).numpy()
             for _ in range(args.images)]
    NodeLookup = runpy.run_path(str(ROOT / "week08_save_inception" / "8_4_inception_classify.py"),
                                run_name="lesson_8_4")["NodeLookup"]
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(inception_standin.graph_def(num_classes=1008), name="")
    sess = tf.compat.v1.Session(graph=graph)
    files = (args.labels / inception.LABEL_MAP_FILE, args.labels / inception.UID_NAMES_FILE)
    softmax = graph.get_tensor_by_name(inception.SOFTMAX)

    def loop(lookup_per_image):
        lookup = None if lookup_per_image else NodeLookup(*files)
        for image_data in jpegs:
            predictions = np.squeeze(sess.run(softmax, {inception.JPEG_INPUT: image_data}))
            if lookup_per_image:
                lookup = NodeLookup(*files)  # the course's place for it
            [lookup.id_to_string(i) for i in predictions.argsort()[-5:][::-1]]

    jobs = {"course (lookup per image)": lambda: loop(True), "ours (lookup once)": lambda: loop(False)}
    # one warm-up round (session, file cache), then interleaved: the machine is shared and noisy
    times = {name: [t / args.images for t in wall] for name, wall in interleaved(jobs, args.repeats).wall.items()}
    for name, values in times.items():
        print(f"{name:<28} median {1000 * np.median(values):7.2f} ms/image  (min {1000 * min(values):.2f})")
    course, ours = (np.median(v) for v in times.values())
    print(f"ratio course/ours: {course / ours:.1f}x  ({args.images} images, {args.repeats} repeats, "
          f"tiny stand-in graph; the real graph adds the same network time to both)")
    sess.close()


if __name__ == "__main__":
    main()
