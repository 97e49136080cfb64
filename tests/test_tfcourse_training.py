"""epoch_runner: each example once per epoch, a new order every epoch, the mean loss returned."""
import numpy as np
import pytest
import tensorflow as tf

import tfcourse


def test_epoch_visits_every_example_once_in_a_new_order():
    x = np.arange(12, dtype=np.float32).reshape(12, 1)
    y = x * 10
    seen = tf.Variable(tf.zeros([12]))
    visit_log = tf.Variable(tf.zeros([36]))  # the order examples arrive in, 3 epochs
    position = tf.Variable(0)
    first_batches = []

    def train_step(x_batch, y_batch):
        tf.debugging.assert_equal(y_batch, x_batch * 10)  # x and y stay paired
        seen.scatter_nd_add(tf.cast(x_batch, tf.int32), tf.ones([4]))
        visit_log.scatter_nd_update(tf.reshape(position + tf.range(4), [4, 1]), x_batch[:, 0])
        position.assign_add(4)
        first_batches.append(None)  # traced once: a Python side effect, not a per-step one
        return tf.reduce_mean(x_batch)

    tf.keras.utils.set_random_seed(0)
    run_epoch = tfcourse.epoch_runner(train_step, x, y, batch_size=4)
    for _ in range(3):
        before = seen.numpy().copy()
        mean_loss = run_epoch()
        np.testing.assert_array_equal(seen.numpy() - before, np.ones(12))
        assert float(mean_loss) == pytest.approx(5.5)  # mean of 0..11
    orders = visit_log.numpy().reshape(3, 12)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(12))  # shuffled, not the file order
    assert len(first_batches) == 1  # the epoch is one traced graph, not 3 Python loops


def test_batch_larger_than_data_is_a_clear_error():
    with pytest.raises(ValueError, match="larger than"):
        tfcourse.epoch_runner(lambda x, y: 0.0, np.zeros((5, 1), np.float32), np.zeros(5, np.float32), 10)
