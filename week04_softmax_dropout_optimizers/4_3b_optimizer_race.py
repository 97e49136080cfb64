"""Lesson 4-3b 优化器比较 — seven optimizers race: on MNIST, in a long valley, at a saddle.

本课是 4-3 的第二部分：课上比较的七种优化器 SGD、Momentum、NAG、Adagrad、RMSprop、Adadelta、Adam。
先在 MNIST 上各训练一份同样的模型（784 -> 10 softmax，同样的批次），画出训练损失，
打印测试准确率；再看它们在“长峡谷”f = x²/20 + 2y² 和“鞍点”f = x² − y² 上走的路径
（PNG 和 GIF 动画），并列出每种优化器需要多少步。与视频的不同：视频只放了动画（来自网上的图），
这里由程序真正算出来；每种优化器用一个常用的学习率（表里会打印），排名取决于这些学习率。

The seven race on MNIST, down a long valley and off a saddle, each at the learning rate that
LEARNING_RATES gives it for that race (the MNIST ones are flags). Run:
    python week04_softmax_dropout_optimizers/4_3b_optimizer_race.py
    python week04_softmax_dropout_optimizers/4_3b_optimizer_race.py --quick --data synthetic

Differences from the course code: the races are computed, with `tf.keras.optimizers.*` (NAG =
SGD(momentum=0.9, nesterov=True)); Keras's Adadelta gets lr 1.0 (its first steps are
~sqrt(epsilon)).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import numpy as np
import tensorflow as tf

# Each optimizer's learning rate in each race: a usual value for it (the rankings depend on them).
LEARNING_RATES = {
    "SGD": {"mnist": 0.2, "valley": 0.2, "saddle": 0.05},
    "Momentum": {"mnist": 0.05, "valley": 0.05, "saddle": 0.05},
    "NAG": {"mnist": 0.05, "valley": 0.05, "saddle": 0.05},
    "Adagrad": {"mnist": 0.2, "valley": 1.0, "saddle": 0.5},
    "RMSprop": {"mnist": 1e-3, "valley": 0.1, "saddle": 0.05},
    "Adadelta": {"mnist": 1.0, "valley": 1.0, "saddle": 1.0},
    "Adam": {"mnist": 1e-2, "valley": 0.3, "saddle": 0.1},
}
NAMES = list(LEARNING_RATES)
COLOURS = {"SGD": "black", "Momentum": "tab:blue", "NAG": "tab:green", "Adagrad": "tab:orange",
           "RMSprop": "tab:red", "Adadelta": "tab:purple", "Adam": "tab:brown"}

parser = tfcourse.parser(__doc__, epochs=5, batch_size=100, mnist=True, quick=dict(epochs=1))
parser.add_argument("--no-gif", action="store_true", help="skip the animated GIFs (PNG paths only)")
for name, rates in LEARNING_RATES.items():
    parser.add_argument(f"--lr-{name.lower()}", type=tfcourse.positive_float,
                        default=rates["mnist"],
                        help=f"{name} learning rate on MNIST (default {rates['mnist']:g})")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --no-gif")
run = tfcourse.start(args, "week04_softmax_dropout_optimizers/4_3b_optimizer_race.py")

# %% [markdown]
# ## Data
# MNIST as in 4-3: 784-vectors in [0, 1], one-hot labels, batches of 100. All seven models see
# the same batches.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True))

# %% [markdown]
# ## Model
# Seven copies of 4-3's model (784 -> 10 softmax, zero-initialised), one per optimizer.

# %%
models = {}
for name in NAMES:
    W = tf.Variable(tf.zeros([784, 10]), name=f"W_{name}")
    b = tf.Variable(tf.zeros([10]), name=f"b_{name}")
    models[name] = (W, b)

# %% [markdown]
# ## Loss and optimizers
# Cross-entropy on the logits; the course's seven optimizers, as Keras has them.

# %%
def loss_fn(y, logits):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


def make_optimizer(name, learning_rate):
    if name == "SGD":
        return tf.keras.optimizers.SGD(learning_rate)
    if name == "Momentum":
        return tf.keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "NAG":  # momentum that looks one step ahead (Nesterov)
        return tf.keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    if name == "Adagrad":
        return tf.keras.optimizers.Adagrad(learning_rate)
    if name == "RMSprop":
        return tf.keras.optimizers.RMSprop(learning_rate)
    if name == "Adadelta":
        return tf.keras.optimizers.Adadelta(learning_rate)
    return tf.keras.optimizers.Adam(learning_rate)


rates = {name: getattr(args, f"lr_{name.lower()}") for name in NAMES}  # the --lr-* flags
optimizers = {name: make_optimizer(name, rates[name]) for name in NAMES}

# %% [markdown]
# ## Training on MNIST
# One graph step updates all seven models on the same batch and returns their seven losses.

# %%
@tf.function
def train_step(x, y):
    step_losses = []
    for name, (W, b) in models.items():  # a Python loop: unrolled, one update per optimizer
        with tf.GradientTape() as tape:
            loss = loss_fn(y, tf.matmul(x, W) + b)
        optimizers[name].apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        step_losses.append(loss)
    return tf.stack(step_losses)  # -> (7,): this batch's loss for each optimizer


losses = []
digits = np.argmax(mnist.y_test, 1)
for epoch in range(args.epochs):
    for x, y in train_data:  # 550 steps of 100
        losses.append(train_step(x, y).numpy())
    run.check_finite(np.mean(losses), f"epoch {epoch}")
    test_accuracy = {}
    for name, (W, b) in models.items():
        test_accuracy[name] = float(np.mean(np.argmax(tf.matmul(mnist.x_test, W) + b, 1) == digits))
    print(f"Iter {epoch}, Testing Accuracy "
          + "  ".join(f"{name} {acc:.4f}" for name, acc in test_accuracy.items()))
losses = np.array(losses)  # -> (steps, 7 optimizers)

# %% [markdown]
# ## Evaluation on MNIST
# Ranked by the mean training loss of the last epoch; the first 10 steps show who starts fast.

# %%
steps_per_epoch = len(losses) // args.epochs
first_steps_loss = dict(zip(NAMES, losses[:10].mean(axis=0)))
last_epoch_loss = dict(zip(NAMES, losses[-steps_per_epoch:].mean(axis=0)))
ranked = sorted(NAMES, key=last_epoch_loss.get)
print(f"\nRanking on MNIST, {args.epochs} epoch(s), lowest last-epoch loss first:")
for rank, name in enumerate(ranked, 1):
    result = dict(lr=rates[name], first_steps_loss=first_steps_loss[name],
                  last_epoch_loss=last_epoch_loss[name], test_accuracy=test_accuracy[name])
    print(f"{rank:4d}  {name:9s} "
          + "  ".join(f"{key.replace('_', ' ')} {value:.4g}" for key, value in result.items()))
    run.log(race="mnist", rank=rank, optimizer=name, **result)

# %% [markdown]
# ## Pictures: the MNIST race
# Training loss per step, smoothed, on log scales: the first steps are where they differ.
# optimizers_mnist.png in the run folder.

# %%
import matplotlib.pyplot as plt
from matplotlib.animation import FuncAnimation, PillowWriter

window = max(1, min(20, len(losses) // 20))  # steps per plotted mean
fig, ax = plt.subplots(figsize=(9, 5.5))
for name in ranked:  # the legend in ranking order
    mean = np.convolve(losses[:, NAMES.index(name)], np.ones(window) / window, mode="valid")
    ax.plot(range(window, len(losses) + 1), mean, color=COLOURS[name],
            label=f"{name} (lr {rates[name]:g})")
ax.set(xlabel="training step (log scale: the first steps are where they differ)", xscale="log",
       ylabel=f"training loss (mean of {window} steps)", yscale="log",
       title="4-3b: seven optimizers, same model (784 -> 10 softmax), same batches")
ax.grid(alpha=0.3)
ax.legend()
tfcourse.save_figure(fig, run.path("optimizers_mnist.png"), show=args.show)

# %% [markdown]
# ## A long valley and a saddle
# Two surfaces f(x, y) to walk down, each from its start ★. The valley is steep across (y) and
# almost flat along (x); at the saddle's start (1, 0.001) the slope across is almost 0.

# %%
def valley(x, y):
    return x ** 2 / 20 + 2 * y ** 2


def saddle(x, y):
    return x ** 2 - y ** 2


SURFACES = {
    "valley": dict(f=valley, start=(-9.0, 1.5), box=(-10, 2, -2, 2), goal=0.01,
                   meaning="f <= 0.01 (near the minimum)"),
    "saddle": dict(f=saddle, start=(1.0, 1e-3), box=(-1.5, 1.5, -1.5, 1.5), goal=-1.0,
                   meaning="f <= -1 (off the saddle)"),
}
SURFACE_STEPS = 200

# %% [markdown]
# ## Training on the surfaces
# Each optimizer moves its own point (x, y) down f, 200 steps of all seven in one graph.

# %%
def walk(surface):
    """The seven paths down `surface`: positions -> (201 steps, 7 optimizers, 2)."""
    f, start = SURFACES[surface]["f"], SURFACES[surface]["start"]
    points = {name: tf.Variable(start, dtype=tf.float32) for name in NAMES}
    walkers = {name: make_optimizer(name, LEARNING_RATES[name][surface]) for name in NAMES}

    @tf.function
    def steps():
        track = tf.TensorArray(tf.float32, size=SURFACE_STEPS + 1)
        track = track.write(0, tf.stack(list(points.values())))
        for i in tf.range(SURFACE_STEPS):
            for name, p in points.items():
                with tf.GradientTape() as tape:
                    value = f(p[0], p[1])
                walkers[name].apply_gradients([(tape.gradient(value, p), p)])
            track = track.write(i + 1, tf.stack([p.read_value() for p in points.values()]))
        return track.stack()

    return steps().numpy()


paths = {}
for surface in SURFACES:
    track = walk(surface)  # off the saddle, x² − y² falls for ever: keep what fits the picture
    paths[surface] = {name: track[np.abs(track[:, k]).max(axis=1) <= 12, k]
                      for k, name in enumerate(NAMES)}

# %% [markdown]
# ## Evaluation on the surfaces
# Ranked by the steps each needed to reach the goal (never reached: last, by final f).

# %%
for surface, surface_paths in paths.items():
    f, goal = SURFACES[surface]["f"], SURFACES[surface]["goal"]
    final_f = {name: float(f(*path[-1])) for name, path in surface_paths.items()}
    reached = {}
    for name, path in surface_paths.items():
        below = np.flatnonzero(f(*path.T) <= goal)
        reached[name] = int(below[0]) if len(below) else None
    order = sorted(NAMES, key=lambda name: (reached[name] is None, reached[name] or 0,
                                            final_f[name]))
    print(f"\nRanking on the {surface}: steps until {SURFACES[surface]['meaning']}, "
          f"out of {SURFACE_STEPS}:")
    for rank, name in enumerate(order, 1):
        got = "not reached" if reached[name] is None else f"{reached[name]:4d} steps"
        lr = LEARNING_RATES[name][surface]
        print(f"{rank:4d}  {name:9s} lr {lr:<5g} {got:>12s}   final f = {final_f[name]:.4g}")
        run.log(race=surface, rank=rank, optimizer=name, lr=lr, steps_to_goal=reached[name],
                start_f=f(*SURFACES[surface]["start"]), final_f=final_f[name])

# %% [markdown]
# ## Pictures: the paths
# paths_valley.png and paths_saddle.png, and the same drawn step by step as GIFs (--no-gif
# skips them).

# %%
def draw(n, surface_paths, lines):
    """One frame of the animation: the first n positions of every path."""
    for name, path in surface_paths.items():
        lines[name].set_data(*path[:n].T)


for surface, surface_paths in paths.items():
    f, start, box = (SURFACES[surface][key] for key in ("f", "start", "box"))
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], 200), np.linspace(box[2], box[3], 200))
    fig, ax = plt.subplots(figsize=(9, 5) if surface == "valley" else (7, 6))
    ax.contour(gx, gy, f(gx, gy), levels=30, cmap="Greys", linewidths=0.6)
    lines = {}
    for name, path in surface_paths.items():
        label = f"{name} (lr {LEARNING_RATES[name][surface]:g})"
        lines[name] = ax.plot(*path.T, color=COLOURS[name], lw=1.5, label=label)[0]
    ax.plot(*start, "k*", markersize=12)
    ax.set(xlim=box[:2], ylim=box[2:], xlabel="x", ylabel="y",
           title=f"{surface}: {SURFACE_STEPS} steps from ★")
    ax.legend(loc="lower left" if surface == "saddle" else "lower right", fontsize=8)
    if not args.no_gif:  # the picture drawn step by step; its last frame shows the whole paths
        longest = max(len(path) for path in surface_paths.values())
        frames = np.unique(np.linspace(1, longest, 12 if args.quick else 60).astype(int))
        gif = run.path(f"paths_{surface}.gif")
        with tfcourse.atomic_path(gif) as tmp:
            animation = FuncAnimation(fig, draw, frames=frames, fargs=(surface_paths, lines))
            animation.save(tmp, writer=PillowWriter(fps=12), dpi=70)
        print(f"saved animation: {gif}")
    tfcourse.save_figure(fig, run.path(f"paths_{surface}.png"))

accuracy = list(test_accuracy.values())  # MNIST, one per optimizer
run.finish(best_test_accuracy=max(accuracy), worst_test_accuracy=min(accuracy))
