"""The course's `variable_summaries` (lessons 5-3, 5-4, 7-1), written once with TF2 summaries.

    with writer.as_default(), tf.name_scope("layer"), tf.name_scope("weights"):
        variable_summaries(W, step=epoch)   # -> layer/weights/summaries/mean, stddev, max, min, histogram
"""
import tensorflow as tf


def variable_summaries(var, step=None):
    """Write mean, stddev, max, min and a histogram of `var` to the default writer, as the teacher's
    TF1 function did; `step=None` uses the writer's default step. Without a writer nothing is written."""
    with tf.name_scope("summaries"):
        mean = tf.reduce_mean(var)
        tf.summary.scalar("mean", mean, step=step)  # 平均值
        with tf.name_scope("stddev"):
            stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
        tf.summary.scalar("stddev", stddev, step=step)  # 标准差
        tf.summary.scalar("max", tf.reduce_max(var), step=step)  # 最大值
        tf.summary.scalar("min", tf.reduce_min(var), step=step)  # 最小值
        tf.summary.histogram("histogram", var, step=step)  # 直方图
