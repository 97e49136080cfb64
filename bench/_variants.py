"""The project's measured speed variants of the lessons' plain code: for the benches only.

No lesson imports this file. Each bench times a lesson's plain TensorFlow/Keras code beside the
variant here that does the same maths faster on a CPU, and prints the ratio.

1. `epoch_runner`: A whole training epoch in one graph: the fast way to train the course's small
   models.

The course's loop calls `sess.run(train_step, feed_dict=...)` 550 times an epoch; for a small
model the Python round trip costs more than the maths. Iterating a `tf.data` pipeline inside a
`tf.function` is still slow here (~1 ms a step). Keeping the data on the device and slicing
shuffled batches with `tf.gather` inside one `tf.function` costs ~0.2 ms a step, faster than the
teacher's feed_dict loop (bench/bench_week03_mnist_simple.py measures all of this).

2. `matmul`, `Conv2D`, `Dense`: Keras's Conv2D and Dense with the same weights and maths, and
   gradients that run faster on a CPU.

Drop-in replacements (same arguments, same variables, same outputs) for the course's CNN. They
only change how TensorFlow is asked for the same numbers, found by profiling lesson 6-1 op by op
on a 2-core oneDNN CPU. Timed here, one layer forward and backward alone, batch 100:

- Conv2D: Keras adds the bias reshaped to (1, 1, 1, filters). Grappler then fuses its gradient
  into the filter gradient (`_MklNativeConv2DBackpropFilterWithBias`), which ran slower than the
  two ops apart. Adding the 1-D bias, as the course's `conv2d(x, W) + b` does, keeps them apart:
  conv 5x5x32->64 on 14x14 maps 17.0 -> 13.5 ms, conv 5x5x1->32 11.0 -> 8.7 ms.
- Dense (and `matmul` for hand-made layers): the gradient for the layer's input is
  `matmul(dy, kernel, transpose_b=True)`; oneDNN ran it for the 3136x1024 kernel in about 4.5 ms,
  the same product written as an einsum in 2.0 ms (fc 3136->1024: 9.6 -> 6.7 ms; for 2000x2000
  3.8 -> 2.7 ms, but no faster for kernels of a few hundred, and slower for 1000x10).

In the whole 6-1 training step they save about 4 ms of 30 (bench/bench_week06_cnn.py, row
keras-layers). On a GPU they compute the same; their speed there has not been measured (no GPU
here). Other data formats and input ranks, and Keras's LoRA and quantized modes, fall back to
Keras's own `call`. Registered with Keras, so a model that uses them saves to and loads from a
`.keras` file (once tfcourse is imported).

3. `Adam`: Keras's Adam, computed by the one fused kernel that the course's
   `tf.train.AdamOptimizer` used.

Keras 3 updates each variable with about ten separate element-wise ops (m, v, their corrections,
the step), each a pass over memory; TensorFlow's `ResourceApplyAdam` kernel does the same update
in one pass. For lesson 6-1, whose 3.2M fc1 weights dominate the update, the step took 25.6 ms
instead of 29.1 ms on 2 CPU cores (bench/bench_week06_cnn.py), and about 1 ms less than with
Keras's update compiled by XLA. The maths is Keras's Adam (same epsilon, same schedule).
"""

import tensorflow as tf
import keras  # Keras 3, the same classes as tf.keras (which lacks keras.saving)


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
        raise ValueError(
            f"batch size {batch_size} is larger than the {n_examples} training examples"
        )

    @tf.function
    def train_epoch():
        order = tf.random.shuffle(tf.range(n_examples))
        total = tf.constant(0.0)
        for batch in tf.range(n_batch):
            index = order[batch * batch_size : (batch + 1) * batch_size]
            total += tf.cast(train_step(tf.gather(x, index), tf.gather(y, index)), tf.float32)
        return total / n_batch

    return train_epoch


def lesson_epoch(train_step, x, y, batch_size, seed=0, autotune=True):
    """The lessons' own plain loop, for the benches' "lesson" rows (not a variant): a tf.data
    pipeline iterated inside one tf.function epoch, as 3-2, 4-x, 5-1 and 8-1 write it.
    autotune=False: as 4-2 and 5-1 write it, `prefetch(1)` and `autotune.enabled = False`."""
    train_data = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed)
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE if autotune else 1)
    )
    if not autotune:
        options = tf.data.Options()
        options.autotune.enabled = False
        train_data = train_data.with_options(options)

    @tf.function
    def train_epoch():
        loss = tf.constant(0.0)
        for x_batch, y_batch in train_data:
            loss = train_step(x_batch, y_batch)
        return loss

    return train_epoch


@tf.custom_gradient
def matmul(x, kernel):
    """tf.matmul(x, kernel) for a batch x (batch, in) and kernel (in, out), whose gradient for x
    is an einsum instead of a transposed matmul (faster on a oneDNN CPU for large kernels)."""

    def gradient(dy):
        return tf.einsum("bo,io->bi", dy, kernel), tf.matmul(x, dy, transpose_a=True)

    return tf.matmul(x, kernel), gradient


@keras.saving.register_keras_serializable(package="tfcourse_bench")
class Conv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D whose bias is added as a 1-D vector (faster filter gradient on CPU)."""

    def call(self, inputs):
        if not self.use_bias or self.data_format != "channels_last":
            return super().call(inputs)
        outputs = self.convolution_op(inputs, self.kernel) + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="tfcourse_bench")
class Dense(keras.layers.Dense):
    """keras.layers.Dense whose gradient for its input is an einsum (faster on CPU)."""

    def call(self, inputs, training=None):
        if len(inputs.shape) != 2 or self.lora_enabled or self.quantization_mode:
            return super().call(inputs, training=training)
        outputs = matmul(inputs, tf.convert_to_tensor(self.kernel))
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="tfcourse_bench")
class Adam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose dense update is TensorFlow's fused ResourceApplyAdam kernel."""

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=beta_1**step,
            beta2_power=beta_2**step,
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )
