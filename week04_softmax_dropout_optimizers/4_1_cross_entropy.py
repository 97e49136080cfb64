"""Lesson 4-1 交叉熵 — the cross-entropy loss.

Lesson 3-2's model (784 -> 10 softmax, W and b start at zero, gradient descent 0.2, batches of 100,
21 epochs) with the quadratic loss replaced by the cross-entropy
    loss = -mean(sum(y * log(softmax(logits))))
which suits a softmax output: its gradient is (softmax(logits) - y), large when the model is
confidently wrong, so it learns faster than the quadratic loss. It prints, like the video:

    Iter 0,Testing Accuracy 0.8246        (learner's rerun in the notes; Iter 20: 0.9217)

Run:
    python week04_softmax_dropout_optimizers/4_1_cross_entropy.py
    python week04_softmax_dropout_optimizers/4_1_cross_entropy.py --double-softmax   # the course's bug
    python week04_softmax_dropout_optimizers/4_1_cross_entropy.py --quick --data synthetic

Why the default differs from the video: the course computes `prediction = softmax(x W + b)` and then
`softmax_cross_entropy_with_logits(labels=y, logits=prediction)`, which applies softmax a SECOND
time inside the loss (the notes point this out). Probabilities in [0, 1] are poor logits: the
second softmax can never be confident, so the loss can never fall below log(1 + 9/e) = 1.4612
even for perfect predictions, and its gradients are several times smaller. Here the loss is
computed on the logits, as TensorFlow's documentation requires. `--double-softmax` trains the
course's version and then the fixed one on the same batches, and prints what changed: the
loss values each version minimised, the real cross-entropy of their predictions, the size of the
gradients and the test accuracy at the same epochs (also saved as `double_softmax.json`).

Differences from the course code (TensorFlow 1.x):
  - Loss on logits (above); `--double-softmax` restores the course's loss.
  - No placeholder/Session/next_batch: the training images stay in one tensor and a whole epoch
    runs inside one `tf.function` that gathers each batch from a fresh random order. That is
    3-4x faster than the course's feed_dict loop here, while a `tf.data` pipeline that shuffles
    55000 examples was slower than it on a busy 2-core machine (`bench/bench_week04_lessons.py`).
"""
import json
import math
import os

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=21, batch_size=100, lr=0.2, mnist=True)
parser.add_argument("--double-softmax", action="store_true",
                    help="use the course's loss (softmax applied twice), then compare with the fixed loss")
FLOOR = math.log(1 + 9 / math.e)  # lowest value of the double-softmax loss with 10 classes: 1.4612


def cross_entropy(y, logits, double_softmax=False):
    """The lesson's loss, per example. double_softmax=True is the course's version."""
    if double_softmax:
        prediction = tf.nn.softmax(logits)  # the course passes probabilities where logits belong
        return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction)
    return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)


def train(args, mnist, double_softmax, epochs):
    """Train the 784 -> 10 softmax model; print the lesson's line per epoch; return the history."""
    # the images stay in one tensor; each epoch gathers its batches from a fresh random order
    x_train, y_train = tf.constant(mnist.x_train), tf.constant(mnist.y_train)  # (55000, 784), (55000, 10)
    n_batch = len(mnist.x_train) // args.batch_size  # 550 batches of 100

    # ## Model: a single softmax layer, zero-initialised as in the lesson
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    # ## Training: one tf.function runs a whole epoch (550 steps); it returns the epoch's mean
    # loss (as the optimizer saw it) and mean gradient norm, to compare the two losses by value
    @tf.function
    def train_epoch(epoch):
        # like next_batch: a new order every epoch; stateless, so both versions see the same batches
        order = tf.random.experimental.stateless_shuffle(tf.range(len(mnist.x_train)), seed=[args.seed, epoch])
        total_loss, total_grad, steps = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
        for batch in tf.range(n_batch):
            index = order[batch * args.batch_size:(batch + 1) * args.batch_size]
            x, y = tf.gather(x_train, index), tf.gather(y_train, index)  # -> (100, 784), (100, 10)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(cross_entropy(y, tf.matmul(x, W) + b, double_softmax))
            grads = tape.gradient(loss, [W, b])
            optimizer.apply_gradients(zip(grads, [W, b]))
            total_loss += loss
            total_grad += tf.linalg.global_norm(grads)
            steps += 1.0
        return total_loss / steps, total_grad / steps

    @tf.function
    def evaluate(x, y):
        logits = tf.matmul(x, W) + b
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        true_loss = tf.reduce_mean(cross_entropy(y, logits))  # -mean log p(label), p = softmax once
        return accuracy, true_loss

    history = {"double_softmax": double_softmax, "loss": [], "test_cross_entropy": [],
               "grad_norm": [], "test_accuracy": []}
    for epoch in range(epochs):
        loss, grad_norm = train_epoch(tf.constant(epoch))
        acc, true_loss = evaluate(mnist.x_test, mnist.y_test)
        history["loss"].append(float(loss))
        history["grad_norm"].append(float(grad_norm))
        history["test_accuracy"].append(float(acc))
        history["test_cross_entropy"].append(float(true_loss))
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(float(acc), 4)))
    return history


def mean(values):
    return sum(values) / len(values)


def report(run, course, fixed):
    """Print, value by value, what the second softmax changed; save the numbers as JSON."""
    last = len(course["loss"]) - 1
    shown = sorted({0, last // 2, last})
    rows = [("loss minimised (train)", "loss"), ("cross-entropy (test)", "test_cross_entropy"),
            ("gradient norm per step", "grad_norm"), ("test accuracy", "test_accuracy")]
    print("\nWhat --double-softmax changed (same data, same batches, same seed):")
    print(f"{'':42s}" + "".join(f"{'Iter ' + str(e):>10s}" for e in shown))
    for title, key in rows:
        for name, history in (("course (2x softmax)", course), ("fixed (on logits)", fixed)):
            print(f"{title:23s}{name:19s}" + "".join(f"{history[key][e]:10.4f}" for e in shown))
            title = ""
    print(f"The course's loss cannot go below log(1 + 9/e) = {FLOOR:.4f}, even for perfect predictions; "
          f"at Iter {last} it is {course['loss'][last]:.4f} against {fixed['loss'][last]:.4f} for the fixed loss.")
    print(f"Mean gradient norm over the run: {mean(course['grad_norm']):.4f} (course) vs "
          f"{mean(fixed['grad_norm']):.4f} (fixed); test accuracy at Iter {last}: "
          f"{course['test_accuracy'][last]:.4f} vs {fixed['test_accuracy'][last]:.4f}.")
    path = run.path("double_softmax.json")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"floor": FLOOR, "course": course, "fixed": fixed}, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    print(f"saved: {path}")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs

    # ## Data: images as 784-vectors in [0, 1], labels one-hot (as input_data's one_hot=True)
    mnist = tfcourse.load_mnist(args, one_hot=True)

    if not args.double_softmax:
        history = train(args, mnist, False, epochs)
    else:
        print("-- the course's loss: softmax, then softmax_cross_entropy_with_logits (softmax twice) --")
        history = train(args, mnist, True, epochs)
        tfcourse.cli.seed_everything(args.seed)  # the fixed run sees the very same batches
        print("-- for comparison, the fixed loss (on the logits) --")
        report(run, history, train(args, mnist, False, epochs))
    print(f"device: {run.device}; final test accuracy {history['test_accuracy'][-1]:.4f}"
          + (" on SYNTHETIC digits" if mnist.synthetic else ""))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
