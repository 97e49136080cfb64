"""Lesson 4-2 Dropout防止过拟合 — dropout against overfitting.

A deliberately big network for MNIST, 784-2000-2000-1000-10 with tanh (about 7.6 million weights
for 55000 training images), trained with the cross-entropy loss and plain gradient descent 0.2
for 31 epochs. Such a network learns the training set almost by heart: its training accuracy
runs ahead of its test accuracy (overfitting). Dropout keeps each hidden unit with probability
keep_prob (0.7) during training, so that no unit can rely on a few others; at test time
keep_prob is 1.0 and the full network is used. After each epoch it prints, like the video:

    Iter 30,Testing Accuracy 0.971,Training Accuracy 0.977219     (teacher, keep_prob 0.7)
    Iter 30,Testing Accuracy 0.9722,Training Accuracy 0.995782    (teacher, keep_prob 1.0)

and saves `dropout_accuracy.png`: training and test accuracy per epoch, with and without
dropout, so the overfitting gap (training minus test) is visible. Each run stores its curves
in `history_keep<p>.json` in the run folder; the plot draws every keep_prob found there.

Run:
    python week04_softmax_dropout_optimizers/4_2_dropout.py                    # keep_prob 0.7
    python week04_softmax_dropout_optimizers/4_2_dropout.py --keep-prob 1.0    # no dropout
    python week04_softmax_dropout_optimizers/4_2_dropout.py --compare          # both, one plot
    python week04_softmax_dropout_optimizers/4_2_dropout.py --plot-only        # redraw from the JSON
    python week04_softmax_dropout_optimizers/4_2_dropout.py --quick --data synthetic --compare

It is heavy on a CPU: 31 epochs of 550 steps through 7.6 M weights, plus an evaluation of all
55000 training images per epoch (the lesson prints the training accuracy). See the README for
the time measured on 2 cores.

Differences from the course code (TensorFlow 1.x):
  - The loss is computed on the logits: `softmax_cross_entropy_with_logits(labels=y, logits=...)`.
    The course passed `prediction = softmax(logits)` as the logits, a second softmax (see 4-1,
    which shows the effect with --double-softmax). With the fixed loss the gradients are larger,
    so the network fits the training set faster and the gap without dropout shows sooner.
  - No placeholder/feed_dict for keep_prob: the model takes `training=True/False`; dropout is
    `tf.nn.dropout(h, rate=1 - keep_prob)` only when training, and off in evaluation.
  - A whole epoch runs in one graph (`tfcourse.epoch_runner`: batches gathered from in-memory
    tensors in a fresh random order); `bench/bench_week04_lessons.py` compares it with a compat.v1
    feed_dict port. For this big network the matrix products dominate either way; the hidden
    layers use `tfcourse.layers.matmul`, tf.matmul with a faster gradient on a CPU.
"""
import json
import os

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=31, batch_size=100, lr=0.2, mnist=True)
parser.add_argument("--keep-prob", type=float, default=0.7,
                    help="probability of keeping a hidden unit in training (lesson: 0.7; 1.0 = no dropout)")
parser.add_argument("--compare", action="store_true",
                    help="train twice, with --keep-prob and with 1.0 (no dropout), and plot both")
parser.add_argument("--plot-only", action="store_true",
                    help="no training: redraw the plot from the history_keep*.json in the run folder")
LAYERS = [784, 2000, 2000, 1000, 10]


def build_model(keep_prob, seed=0):
    """The lesson's network; returns (model, variables). model(x, training) -> logits (batch, 10)."""
    tf.random.set_seed(seed)
    variables = []
    for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:]):
        W = tf.Variable(tf.random.truncated_normal([n_in, n_out], stddev=0.1), name="W")
        b = tf.Variable(tf.zeros([n_out]) + 0.1, name="b")
        variables += [W, b]

    def model(x, training=False):
        h = x                                                       # (batch, 784)
        for i in range(0, len(variables) - 2, 2):
            # tfcourse.layers.matmul = tf.matmul, with a faster gradient for these big kernels (1.1x a step)
            h = tf.nn.tanh(tfcourse.layers.matmul(h, variables[i]) + variables[i + 1])  # -> 2000, 2000, 1000
            if training and keep_prob < 1.0:
                h = tf.nn.dropout(h, rate=1.0 - keep_prob)          # kept units are scaled by 1/keep_prob
        return tf.matmul(h, variables[-2]) + variables[-1]          # logits -> (batch, 10)
    return model, variables


def train(args, mnist, keep_prob, epochs):
    """Train one network with `keep_prob`; print the lesson's line per epoch; return the history."""
    model, variables = build_model(keep_prob, args.seed)
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)  # dropout on
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    # one graph runs a whole epoch (550 shuffled batches of 100)
    train_epoch = tfcourse.epoch_runner(train_step, mnist.x_train, mnist.y_train, args.batch_size)

    def batches(x, y):  # evaluation in slices of 5000 keeps the 2000-wide activations small
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(5000)

    @tf.function
    def accuracy(dataset):
        correct, total = tf.constant(0.0), tf.constant(0.0)
        for x, y in dataset:
            hits = tf.equal(tf.argmax(y, 1), tf.argmax(model(x, training=False), 1))
            correct += tf.reduce_sum(tf.cast(hits, tf.float32))
            total += tf.cast(tf.shape(x)[0], tf.float32)
        return correct / total

    test_set, train_set = batches(mnist.x_test, mnist.y_test), batches(mnist.x_train, mnist.y_train)
    history = {"keep_prob": keep_prob, "test": [], "train": []}
    print(f"-- keep_prob {keep_prob} --")
    for epoch in range(epochs):
        train_epoch()
        test_acc, train_acc = float(accuracy(test_set)), float(accuracy(train_set))
        history["test"].append(test_acc)
        history["train"].append(train_acc)
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(test_acc, 4)) +
              ",Training Accuracy " + str(round(train_acc, 6)))
    return history


def save_history(run, history):
    path = run.path(f"history_keep{history['keep_prob']:g}.json")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(history), encoding="utf-8")
    os.replace(tmp, path)


def plot(run, args, histories):
    import matplotlib.pyplot as plt
    fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(13, 5))
    colours = ["tab:blue", "tab:red", "tab:green", "tab:purple"]
    for colour, history in zip(colours, sorted(histories, key=lambda h: h["keep_prob"])):
        epochs = range(len(history["test"]))
        label = f"keep_prob {history['keep_prob']:g}" + (" (no dropout)" if history["keep_prob"] >= 1 else "")
        ax.plot(epochs, history["train"], "-", color=colour, label=f"{label}: training")
        ax.plot(epochs, history["test"], "--", color=colour, label=f"{label}: test")
        gap = [train - test for train, test in zip(history["train"], history["test"])]
        ax_gap.plot(epochs, gap, "o-", color=colour, markersize=3, label=label)
        ax_gap.annotate(f"{gap[-1]:+.4f}", (epochs[-1], gap[-1]), color=colour,
                        textcoords="offset points", xytext=(-30, 6))
    ax.set(xlabel="epoch (Iter)", ylabel="accuracy", title="training (solid) and test (dashed) accuracy")
    ax_gap.set(xlabel="epoch (Iter)", ylabel="training accuracy − test accuracy",
               title="the overfitting gap")
    for axis in (ax, ax_gap):
        axis.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax_gap.legend(loc="lower right")
    fig.suptitle("4-2 dropout: 784-2000-2000-1000-10 tanh, gradient descent 0.2")
    tfcourse.save_figure(fig, run.path("dropout_accuracy.png"), show=args.show)


def main(argv=None):
    args = parser.parse_args(argv)
    if not 0.0 < args.keep_prob <= 1.0:
        raise tfcourse.CourseError(f"--keep-prob must be in (0, 1], not {args.keep_prob}.\n"
                                   "Remedy: 0.7 is the lesson's value, 1.0 turns dropout off.")
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs

    # ## Data: 784-vectors in [0, 1], one-hot labels
    mnist = None if args.plot_only else tfcourse.load_mnist(args, one_hot=True)

    keep_probs = [args.keep_prob] + ([1.0] if args.compare and args.keep_prob != 1.0 else [])
    for keep_prob in [] if args.plot_only else keep_probs:
        save_history(run, train(args, mnist, keep_prob, epochs))

    # ## Plot every keep_prob whose curves are in the run folder (e.g. an earlier --keep-prob 1.0 run)
    histories = []
    for path in sorted(run.out.glob("history_keep*.json")):
        history = json.loads(path.read_text(encoding="utf-8"))
        if len(history["test"]) == epochs:
            histories.append(history)
    if not histories:
        raise tfcourse.CourseError(f"No history_keep*.json of {epochs} epochs in {run.out}.\n"
                                   "Remedy: train first (without --plot-only), with the same --out and --epochs.")
    plot(run, args, histories)
    for history in histories:
        print(f"keep_prob {history['keep_prob']:g}: Iter {epochs - 1} test {history['test'][-1]:.4f}, "
              f"training {history['train'][-1]:.4f}, gap {history['train'][-1] - history['test'][-1]:+.4f}")
    if len(histories) == 1:
        print("(run again with --keep-prob 1.0, or use --compare, to add the no-dropout curves)")
    print(f"device: {run.device}" + ("; SYNTHETIC digits" if mnist is not None and mnist.synthetic else ""))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
