"""Lesson 4-2 Dropout防止过拟合 — dropout against overfitting.

本课故意用一个很大的网络 784-2000-2000-1000-10（tanh，约 760 万个权重）训练 55000 张图片，
它会把训练集背下来：训练准确率超过测试准确率，这就是过拟合。Dropout 训练时每个隐藏单元以
keep_prob（0.7）的概率保留，测试时 keep_prob 为 1.0。与视频的不同：损失函数用 logits
（视频做了两次 softmax，见 4-1）；keep_prob 不再用 placeholder 传入，而是
model(..., training=True/False)；另外画出有、无 dropout 的训练/测试准确率和两者之差
（dropout_accuracy.png）。

784-2000-2000-1000-10 tanh, gradient descent 0.2, batches of 100, 31 epochs (slow on a CPU).
Dropout keeps each hidden unit with probability keep_prob, so none can rely on a few others.
Like the video:

    Iter 30,Testing Accuracy 0.971,Training Accuracy 0.977219     (teacher, keep_prob 0.7)
    Iter 30,Testing Accuracy 0.9722,Training Accuracy 0.995782    (teacher, keep_prob 1.0)

Each run saves `history_keep<p>.json` and `dropout_accuracy.png` in its run folder. Run:
    python week04_softmax_dropout_optimizers/4_2_dropout.py                    # keep_prob 0.7
    python week04_softmax_dropout_optimizers/4_2_dropout.py --compare          # and 1.0, one plot
    python week04_softmax_dropout_optimizers/4_2_dropout.py --quick --data synthetic --compare
    python week04_softmax_dropout_optimizers/4_2_dropout.py --plot-only --out runs/.../<run>

--plot-only trains nothing: it redraws `dropout_accuracy.png` from every history_keep*.json in a
finished run folder (--out DIR, else 4-2's newest finished run), e.g. after you trained
--keep-prob 0.7 and --keep-prob 1.0 into the same --out DIR. That run's log.txt and
metrics.json stay as they are.

Differences from the course code (TensorFlow 1.x):
  - The loss is computed on the logits, not on `prediction = softmax(logits)` (see 4-1). The
    gradients are larger, so without dropout the network fits the training set sooner.
  - No placeholder/feed_dict for keep_prob: `tf.nn.dropout(h, rate=1 - keep_prob)` runs only
    when the model is called with `training=True`.
  - Batches come from `tf.data` (its autotuner off, as in 5-1); one `tf.function` runs a whole
    epoch.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import json

import tensorflow as tf

LESSON = "week04_softmax_dropout_optimizers/4_2_dropout.py"
parser = tfcourse.parser(__doc__, epochs=31, batch_size=100, lr=0.2, mnist=True,
                         quick=dict(epochs=2))
parser.add_argument("--keep-prob", type=tfcourse.probability, default=0.7,
                    help="probability of keeping a hidden unit in training, in (0, 1] "
                         "(lesson: 0.7; 1 = no dropout)")
parser.add_argument("--compare", action="store_true",
                    help="train with --keep-prob and with 1 (no dropout), plot both")
parser.add_argument("--plot-only", action="store_true",
                    help="train nothing: redraw the curves of a finished run (--out DIR, else "
                         "4-2's newest) beside them; its log.txt and metrics.json stay as they are")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --compare")
if args.compare and args.keep_prob == 1:
    raise tfcourse.CourseError("--compare trains --keep-prob and 1 (no dropout): with "
                               "--keep-prob 1 that is one network twice.\n"
                               "Remedy: a --keep-prob below 1 (the lesson's 0.7), or no --compare.")
if args.compare and args.plot_only:
    raise tfcourse.CourseError("--compare trains two networks; --plot-only trains none.\n"
                               "Remedy: first train with --compare --out DIR, then redraw with "
                               "--plot-only --out DIR.")
if args.plot_only:  # a finished run is read, not started again: its record stays as it is
    run, keep_probs = None, []
    folder = args.out or tfcourse.latest_run(LESSON)
    if folder is None:
        raise tfcourse.CourseError(f"--plot-only found no finished run of 4-2 to redraw.\n"
                                   f"Remedy: train first (python {LESSON} --compare), or name "
                                   f"a run folder with --out DIR.")
else:
    run = tfcourse.start(args, LESSON)
    folder = run.out
    keep_probs = [args.keep_prob, 1.0] if args.compare else [args.keep_prob]

# %% [markdown]
# ## Data
# Images as 784-vectors in [0, 1], labels one-hot. (--plot-only needs no data.)

# %%
if keep_probs:
    mnist = tfcourse.load_mnist(args, one_hot=True)


def batches():
    """550 batches of 100 in a new order every epoch; a fresh pipeline repeats the same orders.
    tf.data's autotuner is off: on 2 cores its tuning stalled some epochs (bench/README.md)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
            .shuffle(len(mnist.x_train), seed=args.seed)
            .batch(args.batch_size, drop_remainder=True)
            .prefetch(1)
            .with_options(options))


# %% [markdown]
# ## Model
# 784 -> 2000 -> 2000 -> 1000 -> 10, tanh, weights truncated_normal(0.1), biases 0.1. Dropout
# after each hidden layer, only when the model is called with `training=True`.

# %%
LAYERS = [784, 2000, 2000, 1000, 10]


def new_weights():
    """A new network's weights: one (W, b) pair per layer."""
    weights = []
    for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:]):
        W = tf.Variable(tf.random.truncated_normal([n_in, n_out], stddev=0.1), name="W")
        b = tf.Variable(tf.zeros([n_out]) + 0.1, name="b")
        weights.append((W, b))
    return weights


def model(weights, x, keep_prob, training=False):
    h = x                                                 # (batch, 784)
    for W, b in weights[:-1]:                             # the three hidden layers
        h = tf.nn.tanh(tf.matmul(h, W) + b)               # -> 2000, 2000, 1000
        if training and keep_prob < 1:
            h = tf.nn.dropout(h, rate=1 - keep_prob)      # kept units are scaled by 1/keep_prob
    W, b = weights[-1]
    return tf.matmul(h, W) + b                            # logits -> (batch, 10)


n_weights = sum((n_in + 1) * n_out for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:]))
print(f"network {'-'.join(map(str, LAYERS))} (tanh): {n_weights:,} weights")

# %% [markdown]
# ## Loss and training
# Cross-entropy on the logits, gradient descent 0.2, one graph call per epoch. After each epoch
# the accuracy on the test set and on the whole training set (dropout off), in slices of 5000.
# Each network's curves are saved as history_keep<p>.json.

# %%
def train(keep_prob):
    """Train a new network with `keep_prob`; print the lesson's line per epoch; save the
    history."""
    tf.keras.utils.set_random_seed(args.seed)  # every network: the same start, the same batches
    weights = new_weights()
    variables = [v for W_and_b in weights for v in W_and_b]
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)
    train_data = batches()

    @tf.function
    def train_epoch():
        loss = tf.constant(0.0)
        for x, y in train_data:
            with tf.GradientTape() as tape:
                logits = model(weights, x, keep_prob, training=True)  # dropout on
                loss = tf.reduce_mean(
                    tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss  # the last batch's

    @tf.function
    def correct(dataset):  # slices of 5000 keep the 2000-wide activations small
        count = tf.constant(0.0)
        for x, y in dataset:
            logits = model(weights, x, keep_prob)  # dropout off
            count += tf.reduce_sum(tf.cast(tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1)),
                                           tf.float32))
        return count

    test_set = tf.data.Dataset.from_tensor_slices((mnist.x_test, mnist.y_test)).batch(5000)
    train_set = tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train)).batch(5000)
    history = {"keep_prob": keep_prob, "test": [], "train": []}
    print(f"-- keep_prob {keep_prob} --")
    for epoch in range(args.epochs):
        run.check_finite(train_epoch(), f"epoch {epoch} (keep_prob {keep_prob})")
        test_acc = float(correct(test_set)) / len(mnist.x_test)
        train_acc = float(correct(train_set)) / len(mnist.x_train)
        history["test"].append(test_acc)
        history["train"].append(train_acc)
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(test_acc, 4)) +
              ",Training Accuracy " + str(round(train_acc, 6)))
        run.log(epoch=epoch, keep_prob=keep_prob, test_accuracy=test_acc, train_accuracy=train_acc)
    tfcourse.atomic_write(run.path(f"history_keep{keep_prob:g}.json"), json.dumps(history))
    return history


histories = [train(keep_prob) for keep_prob in keep_probs]

# %% [markdown]
# ## Evaluation
# The overfitting gap, training minus test accuracy, after the last epoch. --plot-only reads
# the curves of every history_keep*.json in the run folder instead, checking each.

# %%
def read_history(path):
    """A history_keep*.json as 4-2 writes it, or one message naming the file."""
    try:
        history = json.loads(path.read_text(encoding="utf-8"))
        test, train = history["test"], history["train"]
        ok = (0 < history["keep_prob"] <= 1 and len(test) == len(train) > 0
              and all(0 <= value <= 1 for value in test + train))  # NaN fails this too
    except (OSError, UnicodeError, ValueError, TypeError, KeyError) as error:
        ok, why = False, str(error)
    else:
        why = "it needs a keep_prob in (0, 1] and equally long test and train accuracies in [0, 1]"
    if not ok:
        raise tfcourse.CourseError(f"{path} is not a history that 4-2 writes ({why}).\n"
                                   f"Remedy: delete it (the other histories still plot), or "
                                   f"train again: python {LESSON} --compare")
    return history


if args.plot_only:
    histories = [read_history(path) for path in sorted(folder.glob("history_keep*.json"))]
    if not histories:
        raise tfcourse.CourseError(f"No history_keep*.json in {folder}: nothing to redraw.\n"
                                   f"Remedy: train first: python {LESSON} --compare --out "
                                   f"{folder}; or name another run folder with --out DIR.")
    histories.sort(key=lambda history: history["keep_prob"])
for history in histories:
    test_acc, train_acc = history["test"][-1], history["train"][-1]
    print(f"keep_prob {history['keep_prob']:g}: Iter {len(history['test']) - 1} test "
          f"{test_acc:.4f}, training {train_acc:.4f}, gap {train_acc - test_acc:+.4f}")

# %% [markdown]
# ## Pictures
# Training (solid) and test (dashed) accuracy per epoch, and the gap between them:
# dropout_accuracy.png in the run folder.

# %%
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(13, 5))
for colour, history in zip(["tab:blue", "tab:red", "tab:green", "tab:purple"], histories):
    epochs = range(len(history["test"]))
    label = f"keep_prob {history['keep_prob']:g}"
    if history["keep_prob"] == 1:
        label += " (no dropout)"
    ax.plot(epochs, history["train"], "o-", color=colour, markersize=3, label=f"{label}: training")
    ax.plot(epochs, history["test"], "o--", color=colour, markersize=3, label=f"{label}: test")
    gap = [train - test for train, test in zip(history["train"], history["test"])]
    ax_gap.plot(epochs, gap, "o-", color=colour, markersize=3, label=label)
    ax_gap.annotate(f"{gap[-1]:+.4f}", (epochs[-1], gap[-1]), color=colour,
                    textcoords="offset points", xytext=(0, 6), ha="right")  # above the point
ax.set(xlabel="epoch (Iter)", ylabel="accuracy",
       title="training (solid) and test (dashed) accuracy")
ax_gap.set(xlabel="epoch (Iter)", ylabel="training − test accuracy", title="the overfitting gap",
           ymargin=0.15)  # room above the highest point for its label
n_epochs = max(len(history["test"]) for history in histories)
for axis in (ax, ax_gap):
    axis.set_xlim(-0.5, n_epochs - 0.5)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs
    axis.grid(alpha=0.3)
    axis.legend(loc="best")  # clear of the curves and labels
fig.suptitle("4-2 dropout: 784-2000-2000-1000-10 tanh, gradient descent 0.2")
try:
    tfcourse.save_figure(fig, folder / "dropout_accuracy.png", show=args.show)
except OSError as error:  # --plot-only on a folder you may read but not write
    raise tfcourse.CourseError(f"Cannot write dropout_accuracy.png into {folder}: "
                               f"{error.strerror}.\nRemedy: copy the run folder somewhere you "
                               "can write, and pass that copy with --out.") from None
if run is None:
    print(f"redrawn from {folder}; its log.txt and metrics.json are unchanged")
else:
    final = histories[0]  # the --keep-prob network
    run.finish(keep_prob=final["keep_prob"], test_accuracy=final["test"][-1],
               train_accuracy=final["train"][-1])
