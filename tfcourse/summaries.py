"""The course's `variable_summaries` (lessons 5-3, 5-4, 7-1), written once.

    from tfcourse.summaries import variable_summaries

    with writer.as_default():
        with tf.name_scope("layer"):
            with tf.name_scope("weights"):
                variable_summaries(W, step=epoch)   # -> layer/weights/summaries/mean, ...

The teacher's TF1 function added five summary ops under a `summaries` name scope; this is the same
thing with TF2 summaries, which write at once to the default writer (inside `writer.as_default()`,
eagerly or inside a `tf.function`).
"""
import tensorflow as tf


def variable_summaries(var, step=None):
    """Write mean, stddev, max, min (scalars) and a histogram of `var` under `summaries/`.

    var:  a tf.Variable or tensor (any shape).
    step: the summary step (int or int64 tensor); None uses the writer's default step, as set by
          `writer.as_default(step=...)` or `tf.summary.experimental.set_step`.
    Tags are `<enclosing name scopes>/summaries/{mean,stddev,max,min,histogram}`, as in the course:
    open the scope that names the variable (`with tf.name_scope("W_fc1"):`) before calling.
    Returns nothing; with no default writer the calls write nothing (TF2 summary behaviour).
    """
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean, step=step)  # 平均值
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev, step=step)  # 标准差
        tf.summary.scalar("max", tf.reduce_max(var), step=step)  # 最大值
        tf.summary.scalar("min", tf.reduce_min(var), step=step)  # 最小值
        tf.summary.histogram("histogram", var, step=step)  # 直方图
