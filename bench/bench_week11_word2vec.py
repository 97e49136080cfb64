"""Bench for lesson 11-1: the word2vec training step, the lesson's way against the course's.

  course       tf.compat.v1: generate_batch in Python (a deque over the word list), placeholders,
               feed_dict, Session.run([optimizer, loss]) per step, GradientDescentOptimizer(1.0)
  lesson       the lesson's code: its tf.data pipeline (skipgram_batches), Keras SGD(1.0), and
               one tf.function call for the 2000 steps between two progress lines (train_steps)
  per-step     the same pipeline and step, one tf.function call per batch and the loss fetched
               every step (float), like sess.run in the course's loop: the lesson's first version
Same model and sizes as the lesson (vocabulary 50000, batch 128, embedding 128, skip window 1,
num_skips 2, 64 negatives). text8 is not needed: the words are drawn with Zipf-like frequencies.
Candidates are timed interleaved (bench/_timing.py), medians reported, with the CPU named.

    python bench/bench_week11_word2vec.py
    python bench/bench_week11_word2vec.py --reps 7 --steps 4000
"""
import tfcourse  # noqa: F401  (quiet TensorFlow import)
from _timing import interleaved  # bench/_timing.py
import tensorflow as tf

import argparse
import ast
import collections
import platform
import random
import statistics
from functools import partial
from pathlib import Path

import numpy as np

LESSON = Path(__file__).resolve().parent.parent / "week11_word2vec_textcnn" / "11_1_word2vec.py"


def lesson_function(name):
    """A function of the lesson, compiled from the lesson's own lines (the lesson is flat: running
    it would train), so the bench times the pipeline learners run."""
    for node in ast.parse(LESSON.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            namespace = {"tf": tf, "np": np}
            exec(compile(ast.Module([node], type_ignores=[]), str(LESSON), "exec"), namespace)
            return namespace[name]
    raise SystemExit(f"{LESSON} defines no {name}()")


skipgram_batches = lesson_function("skipgram_batches")
V, B, E, SKIP_WINDOW, NUM_SKIPS, NUM_SAMPLED = 50000, 128, 128, 1, 2, 64


def course_runner(data):
    """The course's word2vec_basic.py loop on tf.compat.v1 (a learner's fixed imports)."""
    tf1, words, state = tf.compat.v1, data.tolist(), {"index": 0}

    def generate_batch(batch_size, num_skips, skip_window):
        batch = np.ndarray(shape=(batch_size,), dtype=np.int32)
        labels = np.ndarray(shape=(batch_size, 1), dtype=np.int32)
        span = 2 * skip_window + 1
        buffer = collections.deque(maxlen=span)
        for _ in range(span):
            buffer.append(words[state["index"]])
            state["index"] = (state["index"] + 1) % len(words)
        for i in range(batch_size // num_skips):
            target, targets_to_avoid = skip_window, [skip_window]
            for j in range(num_skips):
                while target in targets_to_avoid:
                    target = random.randint(0, span - 1)
                targets_to_avoid.append(target)
                batch[i * num_skips + j] = buffer[skip_window]
                labels[i * num_skips + j, 0] = buffer[target]
            buffer.append(words[state["index"]])
            state["index"] = (state["index"] + 1) % len(words)
        state["index"] = (state["index"] + len(words) - span) % len(words)
        return batch, labels

    graph = tf.Graph()
    with graph.as_default():
        train_inputs = tf1.placeholder(tf.int32, shape=[B])
        train_labels = tf1.placeholder(tf.int32, shape=[B, 1])
        embeddings = tf.Variable(tf1.random_uniform([V, E], -1.0, 1.0))
        embed = tf.nn.embedding_lookup(embeddings, train_inputs)
        nce_weights = tf.Variable(tf1.truncated_normal([V, E], stddev=1.0 / np.sqrt(E)))
        nce_biases = tf.Variable(tf.zeros([V]))
        loss = tf.reduce_mean(tf1.nn.nce_loss(weights=nce_weights, biases=nce_biases,
                                              labels=train_labels,
                                              inputs=embed, num_sampled=NUM_SAMPLED, num_classes=V))
        optimizer = tf1.train.GradientDescentOptimizer(1.0).minimize(loss)
        init = tf1.global_variables_initializer()
    session = tf1.Session(graph=graph)
    session.run(init)

    def run(n):
        for _ in range(n):
            batch_inputs, batch_labels = generate_batch(B, NUM_SKIPS, SKIP_WINDOW)
            _, loss_val = session.run([optimizer, loss], feed_dict={train_inputs: batch_inputs,
                                                                    train_labels: batch_labels})
        return loss_val
    return run


def lesson_runner(data, steps_per_call=None):
    """The lesson's pipeline (its skipgram_batches); train_step and train_steps as in the lesson."""
    train_data = iter(skipgram_batches(data, B, NUM_SKIPS, SKIP_WINDOW))
    embeddings = tf.Variable(tf.random.uniform([V, E], -1.0, 1.0))
    nce_weights = tf.Variable(tf.random.truncated_normal([V, E], stddev=1.0 / np.sqrt(E)))
    nce_biases = tf.Variable(tf.zeros([V]))
    variables = [embeddings, nce_weights, nce_biases]
    optimizer = tf.keras.optimizers.SGD(learning_rate=1.0)

    def train_step(train_inputs, train_labels):
        with tf.GradientTape() as tape:
            embed = tf.nn.embedding_lookup(embeddings, train_inputs)
            loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases,
                                                 labels=train_labels, inputs=embed,
                                                 num_sampled=NUM_SAMPLED, num_classes=V))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    if steps_per_call:
        @tf.function
        def train_steps(n):
            total_loss = tf.constant(0.0)
            for _ in tf.range(n):
                total_loss += train_step(*next(train_data))
            return total_loss / tf.cast(n, tf.float32)

        def run(n):
            losses = [float(train_steps(tf.constant(steps_per_call)))
                      for _ in range(n // steps_per_call)]
            return losses[-1]
        return run

    compiled_step = tf.function(train_step)

    def run(n):
        average_loss = 0.0
        for _ in range(n):
            average_loss += float(compiled_step(*next(train_data)))
        return average_loss
    return run


def cpu_name():
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5,
                        help="interleaved repetitions (median reported)")
    parser.add_argument("--steps", type=int, default=2000, help="training steps per timing")
    parser.add_argument("--steps-per-call", type=int, default=2000,
                        help="steps per train_steps call (lesson: 2000)")
    parser.add_argument("--words", type=int, default=2_000_000, help="length of the drawn text")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    data = np.minimum(rng.zipf(1.3, args.words) - 1, V - 1).astype(np.int32)  # frequent words first
    jobs = {"course": course_runner(data), "lesson": lesson_runner(data, args.steps_per_call),
            "per-step": lesson_runner(data)}
    timings = interleaved({name: partial(job, args.steps) for name, job in jobs.items()}, args.reps)
    wall = {name: 1000 * statistics.median(t) / args.steps for name, t in timings.wall.items()}
    cpu = {name: 1000 * statistics.median(t) / args.steps for name, t in timings.cpu.items()}
    print(f"11-1 word2vec step (batch {B}, vocabulary {V}, {NUM_SAMPLED} negatives) on "
          f"{cpu_name()}, {tf.config.threading.get_inter_op_parallelism_threads() or 'default'} "
          "inter-op threads; "
          f"median of {args.reps} interleaved rounds of {args.steps} steps:")
    for name in jobs:
        print(f"  {name:12s} {wall[name]:6.3f} ms/step wall, {cpu[name]:6.3f} ms/step CPU "
              f"-> 100001 steps in {wall[name] * 100001 / 1000:5.0f} s   "
              f"(rounds: {', '.join(f'{1000 * t / args.steps:.2f}' for t in timings.wall[name])})")
    for name in ("lesson", "per-step"):
        print(f"ratio {name} / course = {wall[name] / wall['course']:.2f} wall, "
              f"{cpu[name] / cpu['course']:.2f} CPU "
              f"(below 1: faster than the course's loop; the lesson must stay under 1.2)")


if __name__ == "__main__":
    main()
