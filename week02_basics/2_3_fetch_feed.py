"""Lesson 2-3 Fetch和Feed — fetch several results at once, feed values into placeholders.

本课讲 Fetch（一次 sess.run 取回多个 op 的结果：[21.0, 7.0]）和 Feed（placeholder 在运行图时才由
feed_dict 给值：[8.] x [2.] = [16.]）。与视频的不同：TF1 写法通过 tf.compat.v1 演示；TF2 里
函数的返回值就是 fetch，函数的参数就是 feed（placeholder 已不存在）；tf.mul 改名为 tf.multiply。

Fetch: run two ops in one `sess.run([mul, add])` -> [21.0, 7.0] (input1=3, input2=2, input3=5:
add = 2 + 5 = 7, mul = 3 * 7 = 21). Feed: placeholders get their values only when the graph runs:
`sess.run(output, feed_dict={input1: [8.], input2: [2.]})` -> [16.].
TF1 way through `tf.compat.v1`, and the TF2 way beside it: a Python function returns several
values (fetch), and its arguments are the placeholders (feed).

Run:
    python week02_basics/2_3_fetch_feed.py

Differences from the course code:
  - `tf.placeholder` is `tf.compat.v1.placeholder` (graph mode only); `tf.mul` became `tf.multiply`.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__)
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--seed 1")
run = tfcourse.start(args, "week02_basics/2_3_fetch_feed.py")

# %% [markdown]
# ## TF1 fetch: several results from one `sess.run`
# add = 2 + 5 = 7, mul = 3 * 7 = 21: one run of the graph returns both.

# %%
print("## TF1 fetch: several ops in one sess.run")
with tf.Graph().as_default():
    input1 = tf.constant(3.0)
    input2 = tf.constant(2.0)
    input3 = tf.constant(5.0)
    add = tf.add(input2, input3)
    mul = tf.multiply(input1, add)
    with tf.compat.v1.Session() as sess:
        result = sess.run([mul, add])
        print([float(v) for v in result])  # [21.0, 7.0]

# %% [markdown]
# ## TF1 feed: placeholders get their values when the graph runs
# `feed_dict` gives each placeholder its value for this one run.

# %%
print("## TF1 feed: placeholders get their values at run time")
with tf.Graph().as_default():
    input1 = tf.compat.v1.placeholder(tf.float32)
    input2 = tf.compat.v1.placeholder(tf.float32)
    output = tf.multiply(input1, input2)
    with tf.compat.v1.Session() as sess:
        print(sess.run(output, feed_dict={input1: [8.], input2: [2.]}))  # [16.]

# %% [markdown]
# ## TF2: return values are the fetch, arguments the feed
# Placeholders are gone: a (traced) function takes its inputs as arguments and returns as many
# results as you like.

# %%
print("## TF2: a function's return values are the fetch, its arguments the feed")


@tf.function
def mul_and_add(input1, input2, input3):
    add = input2 + input3
    return input1 * add, add


mul, add = mul_and_add(tf.constant(3.0), tf.constant(2.0), tf.constant(5.0))
print([float(mul), float(add)])                            # [21.0, 7.0]
output = tf.multiply(tf.constant([8.]), tf.constant([2.]))
print(output.numpy())                                      # [16.]
run.finish(fetch=str([float(mul), float(add)]), feed=str(output.numpy()))
