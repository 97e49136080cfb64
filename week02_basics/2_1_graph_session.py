"""Lesson 2-1 创建图，启动图 — create a graph, launch it in a session.

本课讲 TensorFlow 1.x 的两个阶段：先建图（op 只是图里的节点，不计算），再在会话（Session）里运行图。
两个常量矩阵相乘 [[3, 3]] x [[2], [3]] = [[15]]。与视频的不同：TF1 写法通过 tf.compat.v1 演示；
旁边给出 TF2 写法：默认立即执行（eager），需要图时用 tf.function 把 Python 函数变成图。

Two constant matrices and their product: [[3, 3]] x [[2], [3]] = [[15]]. The lesson's point is
TensorFlow 1.x's two phases: first build a graph of ops (nothing is computed), then run it in a
Session. We show that way through `tf.compat.v1`, and the TensorFlow 2 way beside it: ops run at
once (eager), and `tf.function` traces Python into a graph when you want one.

Run:
    python week02_basics/2_1_graph_session.py

Differences from the course code:
  - `tf.Session()` is `tf.compat.v1.Session()` and needs a graph of its own (`tf.Graph()`),
    because TF2 runs eagerly by default.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__)
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--seed 1")
run = tfcourse.start(args, "week02_basics/2_1_graph_session.py")

# %% [markdown]
# ## TF1: build a graph, then run it in a Session
# An op is only a node of the graph: printing it shows a Tensor without a value. The value
# exists once a Session runs the graph. `tf.compat.v1` keeps this way of working in TF2.

# %%
print("## TF1: build a graph, then run it in a Session (tf.compat.v1)")
graph = tf.Graph()
with graph.as_default():
    m1 = tf.constant([[3, 3]])      # a 1x2 matrix
    m2 = tf.constant([[2], [3]])    # a 2x1 matrix
    product = tf.matmul(m1, m2)     # an op in the graph: nothing computed yet
    print(product)                  # Tensor("MatMul:0", shape=(1, 1), dtype=int32)

with tf.compat.v1.Session(graph=graph) as sess:
    result = sess.run(product)      # now the graph runs
    print(result)                   # [[15]]

# %% [markdown]
# ## TF2: eager execution
# Every op runs as soon as it is called, so the value is there at once.

# %%
print("## TF2: eager, the value is there at once")
m1 = tf.constant([[3, 3]])
m2 = tf.constant([[2], [3]])
product = tf.matmul(m1, m2)
print(product.numpy())              # [[15]]

# %% [markdown]
# ## TF2: a graph when you want one
# `tf.function` traces the Python function once into a graph (the TF1 graph, without the
# Session) and runs that graph on every call.

# %%
print("## TF2: tf.function turns Python into a graph (the TF1 graph, without the Session)")


@tf.function
def matmul_graph(a, b):
    return tf.matmul(a, b)


print(matmul_graph(m1, m2).numpy())  # [[15]]
ops = [op.type for op in matmul_graph.get_concrete_function(m1, m2).graph.get_operations()]
print("ops in the traced graph:", ops)
run.finish(product=int(result[0, 0]))
