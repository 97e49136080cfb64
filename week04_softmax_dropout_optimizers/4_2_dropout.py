"""Lesson 4-2 Dropout防止过拟合 — dropout against overfitting.

本课故意用一个很大的网络 784-2000-2000-1000-10（tanh，约 760 万个权重）训练 55000 张图片，
它会把训练集背下来：训练准确率超过测试准确率，这就是过拟合。Dropout 训练时每个隐藏单元以
keep_prob（0.7）的概率保留，测试时 keep_prob 为 1.0。与视频的不同：损失函数用 logits（视频做了
两次 softmax，见 4-1）；keep_prob 不再用 placeholder 传入，而是 model(x, training=True/False)；
另外画出有、无 dropout 的训练/测试准确率和两者之差（dropout_accuracy.png）。

784-2000-2000-1000-10 tanh, gradient descent 0.2, batches of 100, 31 epochs (slow on a CPU). Dropout
keeps each hidden unit with probability keep_prob, so none can rely on a few others. Like the video:

    Iter 30,Testing Accuracy 0.971,Training Accuracy 0.977219     (teacher, keep_prob 0.7)
    Iter 30,Testing Accuracy 0.9722,Training Accuracy 0.995782    (teacher, keep_prob 1.0)

Each run saves `history_keep<p>.json`; `dropout_accuracy.png` plots every one in the run folder. Run:
    python week04_softmax_dropout_optimizers/4_2_dropout.py                    # keep_prob 0.7
    python week04_softmax_dropout_optimizers/4_2_dropout.py --compare          # and 1.0, one plot
    python week04_softmax_dropout_optimizers/4_2_dropout.py --quick --data synthetic --compare

Differences from the course code (TensorFlow 1.x):
  - The loss is computed on the logits, not on `prediction = softmax(logits)` (see 4-1). The
    gradients are larger, so without dropout the network fits the training set sooner.
  - No placeholder/feed_dict for keep_prob: `tf.nn.dropout(h, rate=1 - keep_prob)` runs only when
    the model is called with `training=True`.
  - Batches come from `tf.data` (its autotuner off, as in 5-1); one `tf.function` runs a whole epoch.
"""
import json

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=31, batch_size=100, lr=0.2, mnist=True, quick=dict(epochs=2))
parser.add_argument("--keep-prob", type=tfcourse.probability, default=0.7,
                    help="probability of keeping a hidden unit in training (lesson: 0.7; 1.0 = no dropout)")
parser.add_argument("--compare", action="store_true", help="train with --keep-prob and with 1.0, plot both")
parser.add_argument("--plot-only", action="store_true", help="no training: replot --out's history_keep*.json")
LAYERS = [784, 2000, 2000, 1000, 10]


def build_model(keep_prob, seed=0):
    """The lesson's network; returns (model, variables). model(x, training) -> logits (batch, 10)."""
    tf.random.set_seed(seed)
    variables = []
    for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:]):
        variables += [tf.Variable(tf.random.truncated_normal([n_in, n_out], stddev=0.1), name="W"),
                      tf.Variable(tf.zeros([n_out]) + 0.1, name="b")]

    def model(x, training=False):
        h = x                                                                 # (batch, 784)
        for W, b in zip(variables[:-2:2], variables[1:-2:2]):
            h = tf.nn.tanh(tf.matmul(h, W) + b)                               # -> 2000, 2000, 1000
            if training and keep_prob < 1.0:
                h = tf.nn.dropout(h, rate=1.0 - keep_prob)  # kept units are scaled by 1/keep_prob
        return tf.matmul(h, variables[-2]) + variables[-1]                    # logits -> (batch, 10)
    return model, variables


def train(args, run, mnist, keep_prob):
    """Train one network with `keep_prob`; print the lesson's line per epoch; return the history."""
    model, variables = build_model(keep_prob, args.seed)
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)
    options = tf.data.Options()
    options.autotune.enabled = False  # on 2 cores its tuning stalled some epochs (bench/README.md)
    train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed)
                  .batch(args.batch_size, drop_remainder=True).prefetch(1).with_options(options))  # 550 of 100

    @tf.function
    def train_epoch():
        loss = tf.constant(0.0)
        for x, y in train_data:
            with tf.GradientTape() as tape:
                logits = model(x, training=True)  # dropout on
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss  # the last batch's

    @tf.function
    def accuracy(dataset):  # in slices of 5000: keeps the 2000-wide activations small
        correct = tf.constant(0.0)
        for x, y in dataset:
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x, training=False), 1))
            correct += tf.reduce_sum(tf.cast(correct_prediction, tf.float32))
        return correct

    test_set = tf.data.Dataset.from_tensor_slices((mnist.x_test, mnist.y_test)).batch(5000)
    train_set = tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train)).batch(5000)
    history = {"keep_prob": keep_prob, "test": [], "train": []}
    print(f"-- keep_prob {keep_prob} --")
    for epoch in range(args.epochs):
        run.check_finite(train_epoch(), f"epoch {epoch} (keep_prob {keep_prob})")
        history["test"].append(float(accuracy(test_set)) / len(mnist.x_test))
        history["train"].append(float(accuracy(train_set)) / len(mnist.x_train))
        test_acc, train_acc = history["test"][-1], history["train"][-1]
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(test_acc, 4)) +
              ",Training Accuracy " + str(round(train_acc, 6)))
        run.record(epoch=epoch, keep_prob=keep_prob, test_accuracy=test_acc, train_accuracy=train_acc)
    return history


def plot(run, args, histories):
    import matplotlib.pyplot as plt
    fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(13, 5))
    for colour, history in zip(["tab:blue", "tab:red", "tab:green", "tab:purple"], histories):
        epochs = range(len(history["test"]))
        label = f"keep_prob {history['keep_prob']:g}" + (" (no dropout)" if history["keep_prob"] >= 1 else "")
        ax.plot(epochs, history["train"], "-", color=colour, label=f"{label}: training")
        ax.plot(epochs, history["test"], "--", color=colour, label=f"{label}: test")
        gap = [train - test for train, test in zip(history["train"], history["test"])]
        ax_gap.plot(epochs, gap, "o-", color=colour, markersize=3, label=label)
        ax_gap.annotate(f"{gap[-1]:+.4f}", (epochs[-1], gap[-1]), color=colour,
                        textcoords="offset points", xytext=(0, 6), ha="right")  # ends above the point
    ax.set(xlabel="epoch (Iter)", ylabel="accuracy", title="training (solid) and test (dashed) accuracy")
    ax_gap.set(xlabel="epoch (Iter)", ylabel="training − test accuracy", title="the overfitting gap",
               ymargin=0.15)  # room above the highest point for its label
    for axis, corner in ((ax, "lower right"), (ax_gap, "best")):  # "best": clear of curves and labels
        axis.grid(alpha=0.3)
        axis.legend(loc=corner)
    fig.suptitle("4-2 dropout: 784-2000-2000-1000-10 tanh, gradient descent 0.2")
    tfcourse.save_figure(fig, run.path("dropout_accuracy.png"), show=args.show)


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    if not args.plot_only:
        mnist = tfcourse.load_mnist(args, one_hot=True)  # 784-vectors in [0, 1], one-hot labels
        for keep_prob in [args.keep_prob] + ([1.0] if args.compare and args.keep_prob != 1.0 else []):
            history = train(args, run, mnist, keep_prob)
            tfcourse.atomic_write(run.path(f"history_keep{keep_prob:g}.json"), json.dumps(history))

    # ## Plot every keep_prob whose curves are in the run folder (e.g. an earlier --keep-prob 1.0 run)
    histories = [json.loads(path.read_text(encoding="utf-8")) for path in run.out.glob("history_keep*.json")]
    histories = sorted((h for h in histories if len(h["test"]) == args.epochs), key=lambda h: h["keep_prob"])
    if not histories:
        raise tfcourse.CourseError(f"No history_keep*.json of {args.epochs} epochs in {run.out}.\n"
                                   "Remedy: train first (without --plot-only), same --out and --epochs.")
    plot(run, args, histories)
    for history in histories:
        test_acc, train_acc = history["test"][-1], history["train"][-1]
        print(f"keep_prob {history['keep_prob']:g}: Iter {args.epochs - 1} test {test_acc:.4f}, "
              f"training {train_acc:.4f}, gap {train_acc - test_acc:+.4f}")
    final = next((h for h in histories if h["keep_prob"] == args.keep_prob), histories[0])
    run.finish(keep_prob=final["keep_prob"], test_accuracy=final["test"][-1],
               train_accuracy=final["train"][-1])
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
