"""Bench week 9: the retrain loop and the TFRecord input, the teacher's TF1 way vs ours, in one run.

1. retrain's final layer: 200 steps of 100 cached 2048-number bottlenecks (5 classes), with the
   accuracy/cross-entropy/validation evaluation every 10 steps, as retrain.py does it
   (`tf.compat.v1` graph, placeholders, `sess.run(..., feed_dict)` per step), as `9_1_retrain.py`
   does it (one `tf.function` train step per batch, numpy batches), and a faster variant that no
   lesson uses (the 10 steps between evaluations in one `tf.function` call, batches by `tf.gather`).
2. Reading 9-2's shards: slim-era queue runners (`string_input_producer` + `TFRecordReader` +
   `shuffle_batch`, 4 threads) vs `9_2_train_own_model.py`'s `tf.data` pipeline (interleave,
   parallel decode, shuffle, batch, prefetch), batches of 32 pictures resized to 96x96.
Repetitions are interleaved (the machine is shared and noisy); medians are reported.

    python bench/bench_week09_retrain.py               # 5 rounds, 1000 pictures
    python bench/bench_week09_retrain.py --rounds 3 --pictures 500
"""

import argparse
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tfcourse  # noqa: F401  (quiet TensorFlow import)
import tensorflow as tf

WEEK = Path(__file__).resolve().parent.parent / "week09_gpu_transfer"
sys.path.insert(0, str(WEEK))
from _images import draw_shapes  # noqa: E402

CLASSES, SIZE, STEPS, BATCH = 5, 2048, 200, 100


def run_script(name, *flags):
    """Run a week-9 lesson whole, as `python week09_gpu_transfer/<name> flags`; its globals."""
    saved = sys.argv
    sys.argv = [str(WEEK / name), *map(str, flags)]
    try:
        return runpy.run_path(str(WEEK / name), run_name="__main__")
    finally:
        sys.argv = saved


def final_layer_tf1(train, val, rng):
    """(seconds for the whole run including building the graph, seconds for steps 1..199)."""
    built = time.perf_counter()
    graph = tf.Graph()
    with graph.as_default():
        bottleneck_input = tf.compat.v1.placeholder(
            tf.float32, [None, SIZE], name="BottleneckInputPlaceholder"
        )
        ground_truth = tf.compat.v1.placeholder(tf.int64, [None], name="GroundTruthInput")
        W = tf.Variable(tf.random.truncated_normal([SIZE, CLASSES], stddev=0.001))
        b = tf.Variable(tf.zeros([CLASSES]))
        logits = tf.matmul(bottleneck_input, W) + b
        cross_entropy = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ground_truth, logits=logits)
        )
        train_step = tf.compat.v1.train.GradientDescentOptimizer(0.01).minimize(cross_entropy)
        evaluation_step = tf.reduce_mean(
            tf.cast(tf.equal(tf.argmax(logits, 1), ground_truth), tf.float32)
        )
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for i in range(STEPS):
            if i == 1:
                started = time.perf_counter()
            index = rng.integers(0, len(train[0]), BATCH)
            feed = {bottleneck_input: train[0][index], ground_truth: train[1][index]}
            sess.run(train_step, feed_dict=feed)
            if i % 10 == 0 or i + 1 == STEPS:
                sess.run([evaluation_step, cross_entropy], feed_dict=feed)
                vindex = rng.integers(0, len(val[0]), BATCH)
                sess.run(
                    evaluation_step,
                    feed_dict={bottleneck_input: val[0][vindex], ground_truth: val[1][vindex]},
                )
        end = time.perf_counter()
        return end - built, end - started


def final_layer_lesson(train, val, rng):
    """(seconds for the whole run including tracing, seconds for steps 1..199); 9_1_retrain.py's
    loop: one `tf.function` step per batch, batches drawn with numpy, evaluation every 10 steps."""
    built = time.perf_counter()
    W = tf.Variable(tf.random.truncated_normal([SIZE, CLASSES], stddev=0.001))
    b = tf.Variable(tf.zeros([CLASSES]))
    optimizer = tf.keras.optimizers.SGD(0.01)

    def accuracy(x, y):
        return float(np.mean(np.argmax(tf.matmul(x, W) + b, 1) == y))

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, W) + b
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss

    for i in range(STEPS):
        index = rng.integers(0, len(train[0]), BATCH)
        loss = train_step(
            train[0][index], train[1][index]
        )  # read only at the evaluations, as the lesson
        if i == 0:
            float(loss)
            started = time.perf_counter()  # step 0 traced the function
        if i % 10 == 0 or i + 1 == STEPS:
            float(loss), accuracy(train[0][index], train[1][index])
            vindex = rng.integers(0, len(val[0]), BATCH)
            accuracy(val[0][vindex], val[1][vindex])
    end = time.perf_counter()
    return end - built, end - started


def final_layer_variant(train, val, rng):
    """The faster variant (not in the lesson): the steps between two evaluations in one
    `tf.function` call, batches drawn with `tf.random.Generator` and `tf.gather` on the device."""
    built = time.perf_counter()
    W = tf.Variable(tf.random.truncated_normal([SIZE, CLASSES], stddev=0.001))
    b = tf.Variable(tf.zeros([CLASSES]))
    optimizer = tf.keras.optimizers.SGD(0.01)
    generator = tf.random.Generator.from_seed(0)

    def accuracy(logits, y):
        return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

    @tf.function
    def train_steps(all_x, all_y, n):
        loss, acc = tf.constant(0.0), tf.constant(0.0)
        for _ in tf.range(n):
            index = generator.uniform([BATCH], 0, tf.shape(all_x, tf.int64)[0], dtype=tf.int64)
            x, y = tf.gather(all_x, index), tf.gather(all_y, index)
            with tf.GradientTape() as tape:
                logits = tf.matmul(x, W) + b
                loss = tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
                )
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
            acc = accuracy(logits, y)
        return loss, acc

    done = 0
    for i in sorted(set(range(0, STEPS, 10)) | {STEPS - 1}):
        loss, acc = train_steps(train[0], train[1], tf.constant(i + 1 - done))
        if done == 0:
            started = time.perf_counter()  # step 0 traced the function
        done = i + 1
        float(loss), float(acc)
        vindex = rng.integers(0, len(val[0]), BATCH)
        float(accuracy(tf.matmul(val[0][vindex], W) + b, val[1][vindex]))
    end = time.perf_counter()
    return end - built, end - started


def read_tf1(files, batches):
    graph = tf.Graph()
    with graph.as_default():
        queue = tf.compat.v1.train.string_input_producer(
            [str(f) for f in files], shuffle=True, seed=0
        )
        _, serialized = tf.compat.v1.TFRecordReader().read(queue)
        example = tf.io.parse_single_example(
            serialized,
            {
                "image/encoded": tf.io.FixedLenFeature([], tf.string),
                "image/class/label": tf.io.FixedLenFeature([], tf.int64),
            },
        )
        image = tf.image.decode_jpeg(example["image/encoded"], channels=3)
        image = tf.image.resize(tf.cast(image, tf.float32), [96, 96]) / 127.5 - 1.0
        images, labels = tf.compat.v1.train.shuffle_batch(
            [image, example["image/class/label"]],
            batch_size=32,
            num_threads=4,
            capacity=1000 + 3 * 32,
            min_after_dequeue=1000,
            seed=0,
        )
    with tf.compat.v1.Session(graph=graph) as sess:
        started = time.perf_counter()  # both ways: from an empty pipeline to `batches` batches
        coord = tf.compat.v1.train.Coordinator()
        threads = tf.compat.v1.train.start_queue_runners(sess=sess, coord=coord)
        for _ in range(batches):
            sess.run([images, labels])
        elapsed = time.perf_counter() - started
        coord.request_stop()
        coord.join(threads)
    return elapsed


def read_tf2(make_dataset, files, batches):
    dataset = make_dataset(files, 32, training=True)  # 96x96; built (and traced) like the TF1 graph
    started = time.perf_counter()  # both ways: from an empty pipeline to `batches` batches
    for _ in zip(range(batches), dataset):
        pass
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved repetitions (default 5)")
    parser.add_argument(
        "--pictures", type=int, default=1000, help="pictures in the shards (default 1000)"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, [CLASSES, SIZE]).astype(np.float32)

    def bottlenecks(n):
        y = rng.integers(0, CLASSES, n)
        return (centres[y] + rng.normal(0, 2, [n, SIZE])).astype(np.float32), y.astype(np.int64)

    train, val = bottlenecks(1000), bottlenecks(100)

    with tempfile.TemporaryDirectory(prefix="bench_week09_") as tmp:
        tmp = Path(tmp)
        draw_shapes(tmp / "pictures", per_class=args.pictures // 4, size=96)
        run_script(
            "9_2_images_to_tfrecord.py",
            "--dataset-dir",
            tmp / "pictures",
            "--num-test",
            "0",
            "--out",
            tmp / "records",
        )
        # the lesson's own input pipeline: 9-2-train run for one step, its make_dataset taken
        trainer = run_script(
            "9_2_train_own_model.py",
            "--data-dir",
            tmp / "records",
            "--steps",
            "1",
            "--image-size",
            "96",
            "--out",
            tmp / "train",
        )
        files = sorted((tmp / "records").glob("image_train_*.tfrecord"))
        batches = args.pictures // 32
        ways = {
            "course": final_layer_tf1,
            "lesson": final_layer_lesson,
            "variant": final_layer_variant,
        }
        results = {
            name: []
            for name in (
                "final layer, compat.v1 feed_dict (course)",
                "final layer, tf.function step (lesson)",
                "final layer, 10 steps per call (variant)",
                "  same, steps 1-199 only (course)",
                "  same, steps 1-199 only (lesson)",
                "  same, steps 1-199 only (variant)",
                "shards, queue runners (course)",
                "shards, tf.data (ours)",
            )
        }
        for way in ways.values():
            way(train, val, rng)  # warm-up
        for _ in range(args.rounds):
            for label, way in ways.items():
                names = [name for name in results if name.endswith(f"({label})")]
                whole, steady = way(train, val, rng)
                results[names[0]].append(whole)
                results[names[1]].append(steady)
            results["shards, queue runners (course)"].append(read_tf1(files, batches))
            results["shards, tf.data (ours)"].append(
                read_tf2(trainer["make_dataset"], files, batches)
            )

    print(
        f"\nmedian of {args.rounds} interleaved rounds; {STEPS} steps of {BATCH} bottlenecks; "
        f"{batches} batches of 32 pictures (96x96) from {len(files)} shards"
    )
    median = {name: statistics.median(times) for name, times in results.items()}
    for name, seconds in median.items():
        rounds = ", ".join(f"{t:.3f}" for t in results[name])
        print(f"  {name:42s} {seconds:7.3f} s   (rounds: {rounds})")
    for label in ("lesson", "variant"):
        whole = median[
            next(n for n in median if n.startswith("final layer") and n.endswith(f"({label})"))
        ]
        steady = median[f"  same, steps 1-199 only ({label})"]
        course = median["final layer, compat.v1 feed_dict (course)"]
        course_steady = median["  same, steps 1-199 only (course)"]
        print(f"ratio final layer, {label} / course: {whole / course:.2f}x "
              f"(steps 1-199 only: {steady / course_steady:.2f}x; below 1: faster)")
    queue, ours = median["shards, queue runners (course)"], median["shards, tf.data (ours)"]
    print(f"ratio shards, course / ours: {queue / ours:.2f}x "
          f"({batches * 32 / queue:.0f} vs {batches * 32 / ours:.0f} pictures/s)")


if __name__ == "__main__":
    main()
