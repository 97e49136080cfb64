"""bench/_variants.py (the benches' speed variants): Keras's own numbers, only computed faster.

    python -m pytest -q bench/test_variants.py     # not in the learner's check (tests/ only)

The benches compare them with the lessons' plain code, so they must be drop-in: same weights,
same outputs, same gradients, same updates; epoch_runner visits each example once per epoch.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, for `import _variants`
import _variants as variants  # noqa: E402


def outputs_and_gradients(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) ** 2)
    return y, tape.gradient(loss, [x] + layer.trainable_variables)


def assert_close(a, b, rtol):
    a, b = np.asarray(tf.cast(a, tf.float32)), np.asarray(tf.cast(b, tf.float32))
    assert np.max(np.abs(a - b)) <= rtol * (np.max(np.abs(b)) + 1e-6)


# bfloat16 is compared with Keras's layer in float32: Keras's own bfloat16 conv loses more of the
# bias gradient (fused into the filter gradient) than ours, e.g. 1024 where float32 gives 1075.
@pytest.mark.parametrize("policy, rtol", [("float32", 1e-5), ("mixed_bfloat16", 3e-2)])
@pytest.mark.parametrize("kind, shape", [
    ("conv", (3, 14, 14, 5)),
    ("dense", (6, 40)),
    ("dense", (2, 3, 40)),  # 3-D input: Keras's own path
])
def test_layers_give_keras_outputs_and_gradients(kind, shape, policy, rtol):
    if kind == "conv":
        ours = variants.Conv2D(8, 5, padding="same", activation="relu", dtype=policy)
        theirs = keras.layers.Conv2D(8, 5, padding="same", activation="relu")
    else:
        ours = variants.Dense(16, activation="relu", dtype=policy)
        theirs = keras.layers.Dense(16, activation="relu")
    x = tf.random.stateless_normal(shape, seed=[1, 2])
    ours(x), theirs(x)
    bias = np.random.default_rng(0).normal(size=theirs.bias.shape).astype(np.float32)
    ours.set_weights([ours.get_weights()[0], bias])  # a non-zero bias, so its gradient is tested
    theirs.set_weights(ours.get_weights())

    y_ours, grads_ours = outputs_and_gradients(ours, x)
    y_theirs, grads_theirs = outputs_and_gradients(theirs, x)
    assert y_ours.dtype == ("float32" if policy == "float32" else "bfloat16")
    assert y_ours.shape == y_theirs.shape
    assert_close(y_ours, y_theirs, rtol)
    assert len(grads_ours) == 3  # input, kernel, bias
    for g_ours, g_theirs in zip(grads_ours, grads_theirs):
        assert g_ours.dtype == g_theirs.dtype  # float32: the variables' (and x's) dtype
        assert_close(g_ours, g_theirs, rtol)


def test_matmul_gives_tf_matmul_and_its_gradients():
    x = tf.random.stateless_normal((7, 30), seed=[7, 8])
    kernel = tf.random.stateless_normal((30, 20), seed=[9, 10])
    results = []
    for product in (variants.matmul, tf.matmul):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            y = product(x, kernel)
            loss = tf.reduce_sum(tf.sin(y))
        results.append((y, *tape.gradient(loss, [x, kernel])))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)


def train_weights(optimizer, steps=6):
    model = keras.Sequential([keras.Input((5,)),
                              keras.layers.Dense(4, activation="tanh", kernel_initializer="ones"),
                              keras.layers.Dense(1, kernel_initializer="ones")])
    x = tf.random.stateless_normal((16, 5), seed=[3, 4])
    y = tf.reduce_sum(x, axis=1, keepdims=True)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x) - y) ** 2)
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    losses = [float(step()) for _ in range(steps)]
    return [v.numpy() for v in model.trainable_variables], losses


@pytest.mark.parametrize("options", [
    dict(learning_rate=0.05),
    dict(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5), beta_1=0.8,
         epsilon=1e-3),
    dict(learning_rate=0.05, amsgrad=True),  # Keras's own update
])
def test_adam_makes_the_same_updates_as_keras_adam(options):
    ours, losses = train_weights(variants.Adam(**options))
    theirs, _ = train_weights(keras.optimizers.Adam(**options))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert losses[-1] < losses[0]


def test_a_model_with_them_saves_and_loads_as_a_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              variants.Conv2D(4, 3, padding="same", activation="relu"),
                              keras.layers.Flatten(), variants.Dense(3)])
    model.compile(optimizer=variants.Adam(1e-3), loss="mse")
    x = tf.random.stateless_normal((5, 8, 8, 1), seed=[5, 6])
    model.fit(x, tf.zeros((5, 3)), epochs=1, verbose=0)  # so the optimizer has state to save too
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert isinstance(loaded.optimizer, variants.Adam)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)

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
    run_epoch = variants.epoch_runner(train_step, x, y, batch_size=4)
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
        variants.epoch_runner(lambda x, y: 0.0, np.zeros((5, 1), np.float32),
                              np.zeros(5, np.float32), 10)
