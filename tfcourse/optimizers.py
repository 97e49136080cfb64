"""Keras's Adam, computed by the one fused kernel that the course's `tf.train.AdamOptimizer` used.

Keras 3 updates each variable with about ten separate element-wise ops (m, v, their corrections,
the step), each a pass over memory; TensorFlow's `ResourceApplyAdam` kernel does the same update
in one pass. For lesson 6-1, whose 3.2M fc1 weights dominate the update, the step took 25.6 ms
instead of 29.1 ms on 2 CPU cores (bench/bench_week06_cnn.py), and about 1 ms less than with
Keras's update compiled by XLA. The maths is Keras's Adam (same epsilon, same schedule).
"""
import tensorflow as tf
import keras  # Keras 3, the same classes as tf.keras (which lacks keras.saving)


@keras.saving.register_keras_serializable(package="tfcourse")
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
            var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
            beta1_power=beta_1 ** step, beta2_power=beta_2 ** step, lr=tf.cast(learning_rate, dtype),
            beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype))
