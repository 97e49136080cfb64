"""Lesson 4-3b 优化器比较 — seven optimizers race: on MNIST, in a long valley, at a saddle.

本课是 4-3 的第二部分：课上比较的七种优化器 SGD、Momentum、NAG、Adagrad、RMSprop、Adadelta、Adam。
先在 MNIST 上各训练一份同样的模型（784 -> 10 softmax，同样的批次），画出训练损失，打印测试准确率；
再看它们在“长峡谷”f = x²/20 + 2y² 和“鞍点”f = x² − y² 上走的路径（PNG 和 GIF 动画），
并列出每种优化器需要多少步。与视频的不同：视频只放了动画（来自网上的图），这里由程序真正算出来；
每种优化器用一个常用的学习率（表里会打印），排名取决于这些学习率。

The seven race on MNIST, down a long valley and off a saddle, at the learning rates in OPTIMIZERS. Run:
    python week04_softmax_dropout_optimizers/4_3b_optimizer_race.py    # --quick --data synthetic: seconds

Differences from the course code: the races are computed, with `tf.keras.optimizers.*` (NAG =
SGD(momentum=0.9, nesterov=True)); Keras's Adadelta gets lr 1.0 (its first steps are ~sqrt(epsilon)).
"""
import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from matplotlib.animation import FuncAnimation, PillowWriter

parser = tfcourse.make_parser(__doc__, epochs=5, batch_size=100, mnist=True, quick=dict(epochs=1))
parser.add_argument("--no-gif", action="store_true", help="skip the animated GIFs (PNG paths only)")
OPTIMIZERS = {  # name: (Keras optimizer for a learning rate, lr on MNIST, in the valley, at the saddle)
    "SGD": (lambda lr: tf.keras.optimizers.SGD(lr), 0.2, 0.2, 0.05),
    "Momentum": (lambda lr: tf.keras.optimizers.SGD(lr, momentum=0.9), 0.05, 0.05, 0.05),
    "NAG": (lambda lr: tf.keras.optimizers.SGD(lr, momentum=0.9, nesterov=True), 0.05, 0.05, 0.05),
    "Adagrad": (lambda lr: tf.keras.optimizers.Adagrad(lr), 0.2, 1.0, 0.5),
    "RMSprop": (lambda lr: tf.keras.optimizers.RMSprop(lr), 1e-3, 0.1, 0.05),
    "Adadelta": (lambda lr: tf.keras.optimizers.Adadelta(lr), 1.0, 1.0, 1.0),
    "Adam": (lambda lr: tf.keras.optimizers.Adam(lr), 1e-2, 0.3, 0.1),
}
for _name, (_, _lr, _, _) in OPTIMIZERS.items():
    parser.add_argument(f"--lr-{_name.lower()}", type=tfcourse.positive_float, default=_lr,
                        help=f"{_name} learning rate on MNIST (default {_lr:g})")
COLOURS = dict(zip(OPTIMIZERS, ["black"] + [f"tab:{c}" for c in "blue green orange red purple brown".split()]))
# surface: (f, start, its lr column in OPTIMIZERS, picture box, goal of the ranking, its meaning)
SURFACES = {"valley": (lambda x, y: x ** 2 / 20 + 2 * y ** 2,  # steep across (y), almost flat along (x)
                       (-9.0, 1.5), 2, (-10, 2, -2, 2), 0.01, "f <= 0.01 (near the minimum)"),
            "saddle": (lambda x, y: x ** 2 - y ** 2,  # at (1, 0.001) the gradient across is almost 0
                       (1.0, 1e-3), 3, (-1.5, 1.5, -1.5, 1.5), -1.0, "f <= -1 (off the saddle)")}
SURFACE_STEPS = 200


def race_mnist(args, run, mnist):
    """Seven copies of 784 -> 10 softmax, one per optimizer, trained on the same batches."""
    rates = {name: getattr(args, f"lr_{name.lower()}") for name in OPTIMIZERS}
    models = {name: (tf.Variable(tf.zeros([784, 10])), tf.Variable(tf.zeros([10]))) for name in OPTIMIZERS}
    optimizers = {name: OPTIMIZERS[name][0](rates[name]) for name in OPTIMIZERS}
    train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed).batch(args.batch_size, drop_remainder=True))

    @tf.function
    def train_step(x, y):
        step_losses = []
        for name, (W, b) in models.items():  # a Python loop: unrolled, one update per optimizer
            with tf.GradientTape() as tape:
                logits = tf.matmul(x, W) + b
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizers[name].apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
            step_losses.append(loss)
        return tf.stack(step_losses)  # -> (7,): this batch's loss for each optimizer

    losses, digits = [], np.argmax(mnist.y_test, 1)
    for epoch in range(args.epochs):
        losses += [train_step(x, y).numpy() for x, y in train_data]  # 550 steps of 100
        run.check_finite(np.mean(losses), f"epoch {epoch}")
        test_accuracy = {name: np.mean(np.argmax(tf.matmul(mnist.x_test, W) + b, 1) == digits)
                         for name, (W, b) in models.items()}
        print(f"Iter {epoch}, Testing Accuracy " + "  ".join(f"{n} {a:.4f}" for n, a in test_accuracy.items()))
    losses = np.array(losses)  # -> (steps, 7 optimizers)
    window, last_epoch = max(1, min(20, len(losses) // 20)), losses[-(len(losses) // args.epochs):]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    print(f"\nRanking on MNIST, {args.epochs} epoch(s), lowest last-epoch loss first:")
    for rank, i in enumerate(np.argsort(last_epoch.mean(axis=0)), 1):
        name = list(OPTIMIZERS)[i]
        mean = np.convolve(losses[:, i], np.ones(window) / window, mode="valid")  # of `window` steps each
        ax.plot(range(window, len(losses) + 1), mean, color=COLOURS[name], label=f"{name} (lr {rates[name]:g})")
        result = dict(lr=rates[name], first_steps_loss=losses[:10, i].mean(),
                      last_epoch_loss=last_epoch[:, i].mean(), test_accuracy=test_accuracy[name])
        print(f"{rank:4d}  {name:9s} " + "  ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in result.items()))
        run.record(race="mnist", rank=rank, optimizer=name, **result)
    ax.set(xlabel="training step (log scale: the first steps are where they differ)", xscale="log",
           ylabel=f"training loss (mean of {window} steps)", yscale="log",
           title="4-3b: seven optimizers, same model (784 -> 10 softmax), same batches")
    ax.grid(alpha=0.3)
    ax.legend()  # ranked: best last-epoch loss first
    tfcourse.save_figure(fig, run.path("optimizers_mnist.png"), show=args.show)
    return [float(a) for a in test_accuracy.values()]


def race_surface(args, run, surface):
    """Every optimizer walks down the 2-D surface from the same start; draw and rank the paths."""
    f, start, column, box, goal, meaning = SURFACES[surface]
    rates = {name: spec[column] for name, spec in OPTIMIZERS.items()}
    points = {name: tf.Variable(start, dtype=tf.float32) for name in OPTIMIZERS}
    optimizers = {name: OPTIMIZERS[name][0](rate) for name, rate in rates.items()}

    @tf.function  # 200 steps of all seven in one graph
    def walk():
        track = tf.TensorArray(tf.float32, size=SURFACE_STEPS + 1).write(0, tf.stack(list(points.values())))
        for i in tf.range(SURFACE_STEPS):
            for name, p in points.items():
                with tf.GradientTape() as tape:
                    value = f(p[0], p[1])
                optimizers[name].apply_gradients([(tape.gradient(value, p), p)])
            track = track.write(i + 1, tf.stack([p.read_value() for p in points.values()]))
        return track.stack()  # -> (201 positions, 7 optimizers, 2)

    track = walk().numpy()  # keep the points inside the picture: off the saddle, x² − y² falls for ever
    paths = {name: track[np.abs(track[:, k]).max(axis=1) <= 12, k] for k, name in enumerate(OPTIMIZERS)}
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], 200), np.linspace(box[2], box[3], 200))
    fig, ax = plt.subplots(figsize=(9, 5) if surface == "valley" else (7, 6))
    ax.contour(gx, gy, f(gx, gy), levels=30, cmap="Greys", linewidths=0.6)
    lines = {name: ax.plot(*path.T, color=COLOURS[name], lw=1.5, label=f"{name} (lr {rates[name]:g})")[0]
             for name, path in paths.items()}
    ax.plot(*start, "k*", markersize=12)
    ax.set(xlim=box[:2], ylim=box[2:], xlabel="x", ylabel="y", title=f"{surface}: {SURFACE_STEPS} steps from ★")
    ax.legend(loc="lower left" if surface == "saddle" else "lower right", fontsize=8)
    if not args.no_gif:  # the picture drawn step by step; its last frame shows the whole paths
        def draw(n):  # the first n positions of every path
            for name, path in paths.items():
                lines[name].set_data(*path[:n].T)
        frames = np.unique(np.linspace(1, max(map(len, paths.values())), 12 if args.quick else 60).astype(int))
        with tfcourse.atomic_path(run.path(f"paths_{surface}.gif")) as tmp:
            FuncAnimation(fig, draw, frames=frames).save(tmp, writer=PillowWriter(fps=12), dpi=70)
        print(f"saved animation: {run.path(f'paths_{surface}.gif')}")
    tfcourse.save_figure(fig, run.path(f"paths_{surface}.png"))
    final_f = {name: float(f(*path[-1])) for name, path in paths.items()}
    reached = {name: next((i for i, v in enumerate(f(*p.T)) if v <= goal), None) for name, p in paths.items()}
    ranked = sorted(paths, key=lambda n: (reached[n] is None, reached[n] or 0, final_f[n]))  # never: last
    print(f"\nRanking on the {surface}: steps until {meaning}, out of {SURFACE_STEPS}:")
    for rank, name in enumerate(ranked, 1):
        got = f"{reached[name]:4d} steps" if reached[name] is not None else "not reached"
        print(f"{rank:4d}  {name:9s} lr {rates[name]:<5g} {got:>12s}   final f = {final_f[name]:.4g}")
        run.record(race=surface, rank=rank, optimizer=name, lr=rates[name], steps_to_goal=reached[name],
                   start_f=f(*start), final_f=final_f[name])


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    accuracy = race_mnist(args, run, tfcourse.load_mnist(args, one_hot=True))  # one per optimizer
    for surface in SURFACES:  # the valley, then the saddle
        race_surface(args, run, surface)
    run.finish(best_test_accuracy=max(accuracy), worst_test_accuracy=min(accuracy))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
