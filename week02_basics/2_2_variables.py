"""Lesson 2-2 变量 — variables.

本课讲变量：x = [1, 2] 是变量，a = [3, 3] 是常量，sub = x - a = [-2 -1]，add = x + sub = [-1 1]；
再用 assign 让计数器变量自增 5 次，打印 0 到 5。与视频的不同：TF1 写法（图、Session、
global_variables_initializer、tf.assign）通过 tf.compat.v1 演示；旁边是 TF2 写法：
tf.Variable 创建后立即有值，不需要初始化 op，用 assign_add 改变它的值。

x = [1, 2] is a variable, a = [3, 3] a constant: sub = x - a = [-2 -1], and add = x + sub
= [-1 1], as in the course's `sub = tf.subtract(x, a); add = tf.add(x, sub)`. Then a counter
variable that an `assign` op increments five times, printing 0, 1, 2, 3, 4, 5.
TF1 way (graph, Session, `global_variables_initializer`, `tf.assign`) through `tf.compat.v1`,
and the TF2 way beside it (`tf.Variable` is ready at once; `assign_add`).

Run:
    python week02_basics/2_2_variables.py

Differences from the course code:
  - `tf.assign(state, new_value)` is `tf.compat.v1.assign`; in TF2 it is `state.assign(...)`.
  - In TF2 variables need no initializer op: they hold their value from creation.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__)
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--seed 1")
run = tfcourse.start(args, "week02_basics/2_2_variables.py")

# %% [markdown]
# ## TF1: variables live in the graph
# A variable has no value until the Session runs its initializer op.

# %%
print("## TF1: variables live in the graph and must be initialised in the Session")
with tf.Graph().as_default():
    x = tf.Variable([1, 2])
    a = tf.constant([3, 3])
    sub = tf.subtract(x, a)
    add = tf.add(x, sub)
    init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session() as sess:
        sess.run(init)
        print(sess.run(sub))         # [-2 -1]
        print(sess.run(add))         # [-1  1]

# %% [markdown]
# ## TF1: a counter that an assign op increments
# `assign` is an op too: each `sess.run(update)` adds 1 to the variable.

# %%
with tf.Graph().as_default():
    state = tf.Variable(0, name="counter")
    new_value = tf.add(state, 1)
    update = tf.compat.v1.assign(state, new_value)  # the course's tf.assign
    init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session() as sess:
        sess.run(init)
        print(sess.run(state))       # 0
        for _ in range(5):
            sess.run(update)
            print(sess.run(state))   # 1 2 3 4 5

# %% [markdown]
# ## TF2: a Variable holds its value at once
# No initializer and no Session; `assign_add` changes the value in place.

# %%
print("## TF2: a Variable holds its value at once; assign_add changes it")
x = tf.Variable([1, 2])
a = tf.constant([3, 3])
sub = x - a
add = x + sub
print(sub.numpy())                   # [-2 -1]
print(add.numpy())                   # [-1  1]

state = tf.Variable(0, name="counter")
print(state.numpy())                 # 0
for _ in range(5):
    state.assign_add(1)
    print(state.numpy())             # 1 2 3 4 5
run.finish(add=str(add.numpy()), counter=int(state.numpy()))
