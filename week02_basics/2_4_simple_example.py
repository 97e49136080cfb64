"""Lesson 2-4 TensorFlow简单示例 — fit a straight line with gradient descent.

本课用梯度下降拟合直线：100 个随机点 y = 0.1x + 0.2，模型 y = kx + b 从 k = b = 0 开始，二次代价
函数，学习率 0.2，训练 201 步，每 20 步打印 `step [k, b]`，k 最终接近 0.1、b 接近 0.2。
与视频的不同：TF1 写法（GradientDescentOptimizer.minimize + Session）通过 tf.compat.v1 演示，
然后在同样的点上用 TF2 写法（tf.function 里的 GradientTape + Keras SGD）；随机点有固定种子
（--seed），两次运行打印相同的数；另外画出数据点和两条拟合直线 fit.png。

100 random points on y = 0.1 x + 0.2; a model y = k x + b starting from k = b = 0; quadratic loss,
gradient descent with learning rate 0.2, 201 steps; every 20 steps it prints `step [k, b]`
as in the video, e.g. `0 [0.052266765, 0.099572934]` ... `200 [0.10001322, 0.19999304]`
(the exact numbers depend on the random points; k ends near 0.1 and b near 0.2).
TF1 way (graph, `GradientDescentOptimizer.minimize`, Session) through `tf.compat.v1`; then the
TF2 way (GradientTape in a `tf.function`, a Keras SGD optimizer) on the same points.

Run:
    python week02_basics/2_4_simple_example.py [--steps 201] [--lr 0.2] [--seed 0]
    python week02_basics/2_4_simple_example.py --quick        # 41 steps

Differences from the course code:
  - The points come from a seeded generator (`--seed`), so two runs print the same numbers.
  - Also draws the points and both fitted lines: `fit.png` in the run folder
    (runs/week02_basics/2_4_simple_example/<date-time>/).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import numpy as np
import tensorflow as tf

parser = tfcourse.parser(__doc__, steps=201, lr=0.2, quick=dict(steps=41))
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --steps 61")
run = tfcourse.start(args, "week02_basics/2_4_simple_example.py")


def as_list(values):
    """[0.052266765, 0.099572934], as TF1 printed float32 lists (NumPy 2 adds np.float32(...))."""
    return "[" + ", ".join(str(v) for v in values) + "]"


# %% [markdown]
# ## Data
# 100 random points on y = 0.1 x + 0.2, from a seeded generator (`--seed`).

# %%
x_data = np.random.default_rng(args.seed).random(100).astype(np.float32)
y_data = x_data * 0.1 + 0.2

# %% [markdown]
# ## TF1: model, loss and training in one graph
# `minimize` adds the gradient and update ops to the graph; each `sess.run(train)` is one step.

# %%
print("## TF1: graph + GradientDescentOptimizer + Session (tf.compat.v1)")
with tf.Graph().as_default():
    b = tf.Variable(0.)
    k = tf.Variable(0.)
    y = k * x_data + b
    loss = tf.reduce_mean(tf.square(y_data - y))
    optimizer = tf.compat.v1.train.GradientDescentOptimizer(args.lr)
    train = optimizer.minimize(loss)
    init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session() as sess:
        sess.run(init)
        for step in range(args.steps):
            sess.run(train)
            if step % 20 == 0:
                print(step, as_list(sess.run([k, b])))
                run.check_finite(sess.run(loss), f"step {step} (TF1)")
        k_tf1, b_tf1 = sess.run([k, b])

# %% [markdown]
# ## TF2: model
# The same line y = k x + b: two variables that hold their values at once.

# %%
print("## TF2: GradientTape in a tf.function, Keras SGD")
k = tf.Variable(0.)
b = tf.Variable(0.)


def model(x):
    return k * x + b


# %% [markdown]
# ## TF2: loss and optimizer
# The quadratic loss and plain gradient descent, as in TF1.

# %%
def loss_fn():
    return tf.reduce_mean(tf.square(y_data - model(x_data)))


optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

# %% [markdown]
# ## TF2: training
# The tape records the forward pass; its gradients go to the optimizer. Same start, same points,
# same steps: TF2 prints the very numbers TF1 printed.

# %%
@tf.function
def train_step():
    with tf.GradientTape() as tape:
        loss = loss_fn()
    optimizer.apply_gradients(zip(tape.gradient(loss, [k, b]), [k, b]))
    return loss


for step in range(args.steps):
    loss = train_step()
    if step % 20 == 0:
        print(step, as_list([k.numpy(), b.numpy()]))
        run.check_finite(loss, f"step {step}")
        run.log(step=step, k=k.numpy(), b=b.numpy(), loss=loss)

# %% [markdown]
# ## Evaluation
# Both fits against the true line.

# %%
print(f"TF1 fit k={k_tf1:.5f} b={b_tf1:.5f}; TF2 fit k={k.numpy():.5f} b={b.numpy():.5f}; "
      "true k=0.1 b=0.2")

# %% [markdown]
# ## Pictures
# The points and both fitted lines: `fit.png` in the run folder.

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(x_data, y_data, s=12, label="data: y = 0.1x + 0.2")
line = np.array([0.0, 1.0])
ax.plot(line, k_tf1 * line + b_tf1, "r-", label=f"TF1 fit: y = {k_tf1:.4f}x + {b_tf1:.4f}")
ax.plot(line, model(line).numpy(), "g--",
        label=f"TF2 fit: y = {k.numpy():.4f}x + {b.numpy():.4f}")
ax.set(xlabel="x", ylabel="y", title=f"Lesson 2-4: linear fit after {args.steps} steps")
ax.legend()
tfcourse.save_figure(fig, run.path("fit.png"), show=args.show)
run.finish(k=float(k.numpy()), b=float(b.numpy()), loss=f"{float(loss):.2e}")
