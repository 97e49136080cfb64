"""A whole training epoch in one graph: the fast way to train the course's small models.

The course's loop calls `sess.run(train_step, feed_dict=...)` 550 times an epoch; for a small
model the Python round trip costs more than the maths. Iterating a `tf.data` pipeline inside a
`tf.function` is still slow here (~1 ms a step). Keeping the data on the device and slicing
shuffled batches with `tf.gather` inside one `tf.function` costs ~0.2 ms a step, faster than the
teacher's feed_dict loop (bench/bench_week03_mnist_simple.py measures all of this).
"""
import tensorflow as tf


def epoch_runner(train_step, x, y, batch_size):
    """Return `train_epoch()`: one epoch of `train_step(x_batch, y_batch)` in one tf.function.

    Every epoch visits the examples in a new random order (like the course's `next_batch`), in
    `len(x) // batch_size` full batches. `train_step` is a plain Python function (it is traced
    into the graph) returning the batch loss; `train_epoch()` returns the epoch's mean loss.
    """
    x = tf.constant(x)
    y = tf.constant(y)
    n_examples = int(x.shape[0])
    n_batch = n_examples // batch_size
    if n_batch == 0:
        raise ValueError(f"batch size {batch_size} is larger than the {n_examples} training examples")

    @tf.function
    def train_epoch():
        order = tf.random.shuffle(tf.range(n_examples))
        total = tf.constant(0.0)
        for batch in tf.range(n_batch):
            index = order[batch * batch_size:(batch + 1) * batch_size]
            total += tf.cast(train_step(tf.gather(x, index), tf.gather(y, index)), tf.float32)
        return total / n_batch

    return train_epoch
