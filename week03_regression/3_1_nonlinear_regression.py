"""Lesson 3-1 非线性回归 — non-linear regression with a tiny network.

本课用一个很小的神经网络做非线性回归：200 个点 y = x² + 噪声，网络 1-10-1，两层都用 tanh，
二次代价函数，梯度下降（学习率 0.1）训练 2000 步，最后画出数据点（蓝点）和网络的曲线（红线）。
与视频的不同：没有 placeholder 和 Session，权重是 tf.Variable，每 200 步在一个 tf.function 里
完成；视频不打印，这里每 200 步打印一次 loss；图保存为 PNG（没有屏幕也能用）。

200 points on y = x^2 + noise (x in [-0.5, 0.5], noise N(0, 0.02)); a 1-10-1 network with tanh on
both layers, quadratic loss, gradient descent with learning rate 0.1, 2000 steps; then a plot of
the points (blue dots) and the network's curve (red line), as in the video.

Run:
    python week03_regression/3_1_nonlinear_regression.py            # plot: runs/.../fit.png
    python week03_regression/3_1_nonlinear_regression.py --show      # also opens the window
    python week03_regression/3_1_nonlinear_regression.py --quick     # 600 steps

Differences from the course code:
  - No placeholders/Session: the weights are `tf.Variable`s, and each 200 steps run inside one
    `tf.function` call (a `tf.range` loop in the graph): all 2000 take well under a second.
  - The course printed nothing; we print the loss every 200 steps so you can watch it fall, and
    the plot is saved as a PNG (works without a screen).
  - Weights start from `tf.random.normal` as in the lesson, with a seed (`--seed`).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import numpy as np
import tensorflow as tf

parser = tfcourse.parser(__doc__, steps=2000, lr=0.1, quick=dict(steps=600))
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick")
run = tfcourse.start(args, "week03_regression/3_1_nonlinear_regression.py")

# %% [markdown]
# ## Data
# 200 points of a parabola with noise, each a column vector: shape (200, 1).

# %%
x_data = np.linspace(-0.5, 0.5, 200, dtype=np.float32)[:, np.newaxis]
noise = np.random.default_rng(args.seed).normal(0, 0.02, x_data.shape).astype(np.float32)
y_data = np.square(x_data) + noise

# %% [markdown]
# ## Model
# 1 -> 10 (tanh) -> 1 (tanh), weights from `tf.random.normal` as in the lesson.

# %%
Weights_L1 = tf.Variable(tf.random.normal([1, 10]))
biases_L1 = tf.Variable(tf.zeros([1, 10]))
Weights_L2 = tf.Variable(tf.random.normal([10, 1]))
biases_L2 = tf.Variable(tf.zeros([1, 1]))
variables = [Weights_L1, biases_L1, Weights_L2, biases_L2]


def model(x):
    L1 = tf.nn.tanh(tf.matmul(x, Weights_L1) + biases_L1)     # -> (200, 10)
    return tf.nn.tanh(tf.matmul(L1, Weights_L2) + biases_L2)  # prediction -> (200, 1)


# %% [markdown]
# ## Loss and optimizer
# The quadratic loss on all 200 points, plain gradient descent.

# %%
def loss_fn():
    return tf.reduce_mean(tf.square(y_data - model(x_data)))


optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

# %% [markdown]
# ## Training
# One graph call runs up to 200 steps (a `tf.range` loop inside the graph), then we print.

# %%
@tf.function
def train(n_steps):
    for _ in tf.range(n_steps):
        with tf.GradientTape() as tape:
            loss = loss_fn()
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss_fn()


report_every = 200
loss = float(loss_fn())
print(f"step 0, loss {loss:.6f}")
done = 0
while done < args.steps:
    n_steps = min(report_every, args.steps - done)
    loss = float(train(tf.constant(n_steps)))
    done += n_steps
    print(f"step {done}, loss {loss:.6f}")
    run.check_finite(loss, f"step {done}")
    run.log(step=done, loss=loss)

# %% [markdown]
# ## Pictures
# The data (blue dots) and the network's curve (red line): `fit.png` in the run folder.

# %%
import matplotlib.pyplot as plt

prediction_value = model(x_data).numpy()
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(x_data, y_data, s=10, label="data: y = x² + noise")
ax.plot(x_data, prediction_value, "r-", lw=3, label="network 1-10-1 (tanh)")
ax.set(xlabel="x", ylabel="y", title=f"Lesson 3-1: fit after {args.steps} steps (loss {loss:.5f})")
ax.legend()
tfcourse.save_figure(fig, run.path("fit.png"), show=args.show)
run.finish(loss=f"{loss:.6f}")
