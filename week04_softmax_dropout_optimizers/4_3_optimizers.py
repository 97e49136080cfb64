"""Lesson 4-3 优化器 — optimizers compared.

Three parts, in the lesson's order:
1. The lesson's run: lesson 4-1's model (784 -> 10 softmax, zero-initialised, cross-entropy,
   batches of 100) trained with Adam, learning rate 1e-2, for 21 epochs. It prints, like the video:
       Iter 0,Testing Accuracy 0.9165        (teacher's saved output; Iter 20: 0.9316)
2. The comparison the lesson talks about: SGD, Momentum, NAG (Nesterov), Adagrad, RMSprop,
   Adadelta and Adam train the same model on the same batches (same seed) for --compare-epochs
   epochs. `optimizers_mnist.png` shows their training loss and test accuracy; a table ranks them.
3. The pictures the lesson shows: each optimizer's path on a long narrow valley
   (f = x^2/20 + 2 y^2, start (-9, 1.5)) and on a saddle (f = x^2 - y^2, start (1, 0.001), the
   gradient across the saddle almost zero): `paths_valley.png`, `paths_saddle.png` and animated
   `paths_valley.gif`, `paths_saddle.gif`, with a table of steps each needs to get down.
   Compare both tables with the rankings in the notes (the README says where they agree).

Run:
    python week04_softmax_dropout_optimizers/4_3_optimizers.py
    python week04_softmax_dropout_optimizers/4_3_optimizers.py --compare-epochs 0   # lesson run only
    python week04_softmax_dropout_optimizers/4_3_optimizers.py --quick --data synthetic --no-gif

Learning rates: each optimizer gets a usual value for it (printed in the tables): SGD 0.2 (the
lesson's gradient descent), Momentum/NAG 0.05 with momentum 0.9, Adagrad 0.2, RMSprop 1e-3,
Adadelta 1.0 (Keras's default 1e-3 barely moves; 1.0 is the paper's), Adam 1e-2 (the lesson's).
Rankings depend on these choices; change the MNIST ones with --lr-<name>, e.g. --lr-adagrad 0.5
(the two surfaces have their own rates, set in SURFACES below and printed in their tables).

Differences from the course code (TensorFlow 1.x):
  - `tf.train.AdamOptimizer` and friends are `tf.keras.optimizers.*` (NAG = SGD(nesterov=True)).
  - Loss on the logits, not after a second softmax (see 4-1). For this run that costs accuracy:
    with Adam 1e-2 the fixed loss reaches about 0.919 at Iter 20, while the course's bounded
    double-softmax loss keeps the weights small and reaches about 0.932 (the teacher's 0.9316);
    `--double-softmax` reproduces the video's run. Adam 1e-3 with the fixed loss gives about 0.928;
    no setting tried reaches 0.93 with it (bench/bench_week04_fixed_loss_ceiling.py).
  - The images stay in one tensor; a whole epoch runs inside one `tf.function` that gathers each
    batch from a fresh random order (faster than feed_dict; see 4-1 and the bench).
"""
import json
import os

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=21, batch_size=100, lr=1e-2, mnist=True)
parser.add_argument("--compare-epochs", type=int, default=5,
                    help="epochs for each optimizer in the comparison (default 5; 0 skips parts 2 and 3)")
parser.add_argument("--no-gif", action="store_true", help="skip the animated GIFs (PNG paths only)")
parser.add_argument("--double-softmax", action="store_true",
                    help="the lesson's run with the course's loss (softmax applied twice), as in the video")
OPTIMIZERS = {  # name -> (Keras optimizer class, keyword arguments, learning rate on MNIST)
    "SGD": (tf.keras.optimizers.SGD, {}, 0.2),
    "Momentum": (tf.keras.optimizers.SGD, {"momentum": 0.9}, 0.05),
    "NAG": (tf.keras.optimizers.SGD, {"momentum": 0.9, "nesterov": True}, 0.05),
    "Adagrad": (tf.keras.optimizers.Adagrad, {}, 0.2),
    "RMSprop": (tf.keras.optimizers.RMSprop, {}, 1e-3),
    "Adadelta": (tf.keras.optimizers.Adadelta, {}, 1.0),
    "Adam": (tf.keras.optimizers.Adam, {}, 1e-2),
}
for _name, (_, _, _lr) in OPTIMIZERS.items():
    parser.add_argument(f"--lr-{_name.lower()}", type=float, default=_lr, help=f"{_name} learning rate on MNIST")
COLOURS = dict(zip(OPTIMIZERS, ["black", "tab:blue", "tab:green", "tab:orange", "tab:red", "tab:purple", "tab:brown"]))
# The two surfaces: (f, start, learning rates, steps); each surface has its own rates, shown in its table
SURFACES = {
    "valley": (lambda p: p[0] ** 2 / 20 + 2 * p[1] ** 2, (-9.0, 1.5),
               {"SGD": 0.2, "Momentum": 0.05, "NAG": 0.05, "Adagrad": 1.0, "RMSprop": 0.1,
                "Adadelta": 1.0, "Adam": 0.3}, 200),
    "saddle": (lambda p: p[0] ** 2 - p[1] ** 2, (1.0, 1e-3),
               {"SGD": 0.05, "Momentum": 0.05, "NAG": 0.05, "Adagrad": 0.5, "RMSprop": 0.05,
                "Adadelta": 1.0, "Adam": 0.1}, 200),
}


def make_optimizer(name, learning_rate):
    cls, kwargs, _ = OPTIMIZERS[name]
    return cls(learning_rate=learning_rate, **kwargs)


def train_mnist(args, mnist, optimizer, epochs, print_progress=False, double_softmax=False):
    """784 -> 10 softmax with cross-entropy; returns (loss of every step, test accuracy per epoch)."""
    x_train, y_train = tf.constant(mnist.x_train), tf.constant(mnist.y_train)  # (55000, 784), (55000, 10)
    n_batch = len(mnist.x_train) // args.batch_size
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    optimizer.build([W, b])  # create its slots (momenta, accumulators) before tracing

    @tf.function
    def train_epoch(epoch):
        # a fresh order each epoch (like next_batch); stateless, so every optimizer sees the same batches
        order = tf.random.experimental.stateless_shuffle(tf.range(len(mnist.x_train)), seed=[args.seed, epoch])
        losses = tf.TensorArray(tf.float32, size=n_batch)
        for batch in tf.range(n_batch):
            index = order[batch * args.batch_size:(batch + 1) * args.batch_size]
            x, y = tf.gather(x_train, index), tf.gather(y_train, index)  # -> (100, 784), (100, 10)
            with tf.GradientTape() as tape:
                logits = tf.matmul(x, W) + b
                if double_softmax:  # the course's bug: probabilities passed where logits belong
                    logits = tf.nn.softmax(logits)
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
            losses = losses.write(batch, loss)
        return losses.stack()

    @tf.function
    def accuracy(x, y):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(tf.matmul(x, W) + b, 1))
        return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    step_losses, accuracies = [], []
    for epoch in range(epochs):
        step_losses.extend(train_epoch(tf.constant(epoch)).numpy().tolist())
        accuracies.append(float(accuracy(mnist.x_test, mnist.y_test)))
        if print_progress:
            print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(accuracies[-1], 4)))
    return np.array(step_losses), accuracies


def compare_mnist(args, run, mnist, epochs):
    import matplotlib.pyplot as plt
    results = {}
    for name in OPTIMIZERS:
        lr = getattr(args, f"lr_{name.lower()}")
        tfcourse.cli.seed_everything(args.seed)
        losses, accuracies = train_mnist(args, mnist, make_optimizer(name, lr), epochs)
        results[name] = (lr, losses, accuracies)
        print(f"  {name:9s} lr {lr:<6g} epoch-1 loss {losses[:len(losses) // epochs].mean():.4f}, "
              f"last-epoch loss {losses[-(len(losses) // epochs):].mean():.4f}, test accuracy {accuracies[-1]:.4f}")

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(13, 5))
    window = max(1, min(20, len(next(iter(results.values()))[1]) // 20))
    for name, (lr, losses, accuracies) in results.items():
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")  # moving mean of `window` steps
        ax_loss.plot(np.arange(len(smooth)) + window, smooth, color=COLOURS[name], label=f"{name} (lr {lr:g})")
        ax_acc.plot(range(1, epochs + 1), accuracies, "o-", color=COLOURS[name], label=name)
    ax_loss.set(xlabel="training step (log scale: the first steps are where they differ)",
                ylabel=f"training loss (mean of {window} steps)", xscale="log", yscale="log",
                title="cross-entropy during training")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy after each epoch",
               xticks=range(1, epochs + 1))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("4-3: seven optimizers, same model (784 -> 10 softmax), same batches")
    tfcourse.save_figure(fig, run.path("optimizers_mnist.png"), show=args.show)

    ranked = sorted(results, key=lambda n: results[n][1][-(len(results[n][1]) // epochs):].mean())
    print(f"\nRanking on MNIST after {epochs} epochs (lower final loss first):")
    print(f"{'rank':>4s}  {'optimizer':9s} {'lr':>7s} {'loss epoch 1':>13s} {'final loss':>11s} {'test acc':>9s}")
    for rank, name in enumerate(ranked, 1):
        lr, losses, accuracies = results[name]
        per_epoch = len(losses) // epochs
        print(f"{rank:4d}  {name:9s} {lr:7g} {losses[:per_epoch].mean():13.4f} "
              f"{losses[-per_epoch:].mean():11.4f} {accuracies[-1]:9.4f}")
    return results


def surface_paths(surface):
    """Run every optimizer on the 2-D surface; return {name: (n, 2) array of positions}.

    One tf.function moves all seven points together, step by step; a path is cut where it leaves
    the picture, since f = x^2 - y^2 falls without end once off the saddle."""
    f, start, rates, steps = SURFACES[surface]
    f_graph = tf.autograph.experimental.do_not_convert(f)  # plain arithmetic: nothing to convert
    points = {name: tf.Variable(start, dtype=tf.float32) for name in OPTIMIZERS}
    optimizers = {name: make_optimizer(name, rates[name]) for name in OPTIMIZERS}
    for name in OPTIMIZERS:
        optimizers[name].build([points[name]])

    @tf.function
    def run_steps():
        track = tf.TensorArray(tf.float32, size=steps + 1).write(0, tf.stack(list(points.values())))
        for i in tf.range(steps):
            for name, p in points.items():  # a Python loop: unrolled, one update per optimizer
                with tf.GradientTape() as tape:
                    value = f_graph(p)
                optimizers[name].apply_gradients([(tape.gradient(value, p), p)])
            track = track.write(i + 1, tf.stack([p.read_value() for p in points.values()]))
        return track.stack()  # -> (steps + 1, 7, 2)

    track = run_steps().numpy()
    paths = {}
    for k, name in enumerate(OPTIMIZERS):
        path = track[:, k]
        outside = np.nonzero(~(np.abs(path).max(axis=1) <= 12))[0]  # also catches inf/nan
        paths[name] = path[:outside[0] + 1] if len(outside) else path
        paths[name] = paths[name][np.isfinite(paths[name]).all(axis=1)]
    return paths


def steps_to(path, f, goal):
    values = np.array([f(point) for point in path])
    hits = np.nonzero(values <= goal)[0]
    return int(hits[0]) if len(hits) else None


def plot_surface(args, run, surface, paths, quick):
    import matplotlib.pyplot as plt
    f, start, rates, steps = SURFACES[surface]
    box = (-10, 2, -2, 2) if surface == "valley" else (-1.5, 1.5, -1.5, 1.5)
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], 200), np.linspace(box[2], box[3], 200))
    fig, ax = plt.subplots(figsize=(9, 5) if surface == "valley" else (7, 6))
    ax.contour(gx, gy, f((gx, gy)), levels=30, cmap="Greys", linewidths=0.6)
    lines = {}
    for name, path in paths.items():
        lines[name], = ax.plot(path[:, 0], path[:, 1], "-", color=COLOURS[name], lw=1.5,
                               label=f"{name} (lr {rates[name]:g})")
    ax.plot(*start, "k*", markersize=12)
    ax.set(xlim=box[:2], ylim=box[2:], xlabel="x", ylabel="y",
           title=("long narrow valley f = x²/20 + 2y²" if surface == "valley" else "saddle f = x² − y²")
           + f", {steps} steps from ★")
    ax.legend(loc="lower left" if surface == "saddle" else "lower right", fontsize=8)
    tfcourse.save_figure(fig, run.path(f"paths_{surface}.png"), show=False)
    if args.no_gif:
        return
    from matplotlib.animation import FuncAnimation, PillowWriter
    fig, ax = plt.subplots(figsize=(7, 4) if surface == "valley" else (5.5, 5))
    ax.contour(gx, gy, f((gx, gy)), levels=30, cmap="Greys", linewidths=0.6)
    ax.set(xlim=box[:2], ylim=box[2:], title=f"4-3 optimizers: {surface}")
    for name in paths:
        lines[name], = ax.plot([], [], "-", color=COLOURS[name], lw=1.5, label=name)
    ax.legend(loc="upper right", fontsize=7)
    longest = max(len(path) for path in paths.values())  # off-saddle paths end early: stop there
    frames = np.unique(np.linspace(1, longest, 12 if quick else 60).astype(int))

    def draw(n):
        for name, path in paths.items():
            lines[name].set_data(path[:n, 0], path[:n, 1])
        return list(lines.values())
    target = run.path(f"paths_{surface}.gif")
    tmp = target.with_name(target.stem + ".tmp.gif")
    FuncAnimation(fig, draw, frames=frames, blit=True).save(tmp, writer=PillowWriter(fps=12), dpi=70)
    tmp.replace(target)
    plt.close(fig)
    print(f"saved animation: {target}")


def compare_surfaces(args, run, quick):
    summary = {}
    for surface, goal, meaning in (("valley", 0.01, "f <= 0.01 (near the minimum)"),
                                   ("saddle", -1.0, "f <= -1 (off the saddle)")):
        f, start, rates, steps = SURFACES[surface]
        paths = surface_paths(surface)
        plot_surface(args, run, surface, paths, quick)
        reached = {name: steps_to(path, f, goal) for name, path in paths.items()}
        ranked = sorted(paths, key=lambda n: (reached[n] is None, reached[n] or 0, f(paths[n][-1])))
        print(f"\nRanking on the {surface}: steps until {meaning}, out of {steps}:")
        for rank, name in enumerate(ranked, 1):
            got = f"{reached[name]:4d} steps" if reached[name] is not None else "not reached"
            print(f"{rank:4d}  {name:9s} lr {rates[name]:<5g} {got:>12s}   final f = {f(paths[name][-1]):.4g}")
        summary[surface] = {name: {"lr": rates[name], "steps_to_goal": reached[name], "start_f": f(start),
                                   "final_f": float(f(paths[name][-1]))} for name in paths}
    return summary


def save_json(run, data):
    path = run.path("optimizers.json")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    print(f"saved: {path}")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs
    compare_epochs = min(args.compare_epochs, 2) if args.quick else args.compare_epochs

    # ## Data: images as 784-vectors in [0, 1], labels one-hot
    mnist = tfcourse.load_mnist(args, one_hot=True)

    # ## 1. The lesson's run: Adam, learning rate 1e-2
    _, history = train_mnist(args, mnist, tf.keras.optimizers.Adam(learning_rate=args.lr), epochs,
                             print_progress=True, double_softmax=args.double_softmax)
    if compare_epochs > 0:
        # ## 2. Seven optimizers on the same model and batches
        print(f"\nComparing optimizers on the same model, {compare_epochs} epochs each:")
        results = compare_mnist(args, run, mnist, compare_epochs)
        # ## 3. Their paths on a narrow valley and a saddle
        surfaces = compare_surfaces(args, run, args.quick)
        per_epoch = len(next(iter(results.values()))[1]) // compare_epochs
        save_json(run, {"mnist": {name: {"lr": lr, "first_steps_loss": float(losses[:10].mean()),
                                         "last_epoch_loss": float(losses[-per_epoch:].mean()),
                                         "test_accuracy": accuracies}
                                  for name, (lr, losses, accuracies) in results.items()},
                        "surfaces": surfaces})
    print(f"\ndevice: {run.device}; the lesson's run (Adam {args.lr:g}"
          + (", course's double softmax" if args.double_softmax else ", loss on logits")
          + f"): final test accuracy {history[-1]:.4f}, best {max(history):.4f}"
          + (" on SYNTHETIC digits" if mnist.synthetic else ""))
    if not args.double_softmax:
        print("(the video's 0.9316 came from the course's double softmax: --double-softmax reproduces it; "
              "with the fixed loss this model stayed below 0.93 in every setting tried, "
              "see bench/bench_week04_fixed_loss_ceiling.py)")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
