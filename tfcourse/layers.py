"""Keras's Conv2D and Dense with the same weights and maths, and gradients that run faster on a CPU.

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
"""
import tensorflow as tf
import keras  # Keras 3, the same classes as tf.keras (which lacks keras.saving)


@tf.custom_gradient
def matmul(x, kernel):
    """tf.matmul(x, kernel) for a batch x (batch, in) and kernel (in, out), whose gradient for x
    is an einsum instead of a transposed matmul (faster on a oneDNN CPU for large kernels)."""
    def gradient(dy):
        return tf.einsum("bo,io->bi", dy, kernel), tf.matmul(x, dy, transpose_a=True)
    return tf.matmul(x, kernel), gradient


@keras.saving.register_keras_serializable(package="tfcourse")
class Conv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D whose bias is added as a 1-D vector (faster filter gradient on CPU)."""

    def call(self, inputs):
        if not self.use_bias or self.data_format != "channels_last":
            return super().call(inputs)
        outputs = self.convolution_op(inputs, self.kernel) + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="tfcourse")
class Dense(keras.layers.Dense):
    """keras.layers.Dense whose gradient for its input is an einsum (faster on CPU)."""

    def call(self, inputs, training=None):
        if len(inputs.shape) != 2 or self.lora_enabled or self.quantization_mode:
            return super().call(inputs, training=training)
        outputs = matmul(inputs, tf.convert_to_tensor(self.kernel))
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs
