"""Bench: how far 4-3's model (784 -> 10 softmax) gets with the fixed loss, against the course's bug.

Lesson 4-3's video run (Adam 1e-2, 21 epochs) reached 0.9316 with the course's double softmax.
With the loss fixed (on the logits) our run ends lower. This asks whether any usual optimizer
setting gets the fixed loss to 0.93: it trains the lesson's model with 4-3's own `train_mnist`
(same batches per seed, tf.data shuffled with the seed) for each setting and seed, and prints the test accuracy at Iter 20 and the
best of all 21 epochs, then the same for the course's loss at the lesson's Adam 1e-2.

    python bench/bench_week04_fixed_loss_ceiling.py --data-dir ../shared/data/mnist   # ~3 min on 2 cores
    python bench/bench_week04_fixed_loss_ceiling.py --data-dir MNIST_data --seeds 1 --epochs 5
"""
import argparse
import runpy
from pathlib import Path

import tfcourse  # quiet TensorFlow import
import tensorflow as tf

ROOT = Path(__file__).resolve().parent.parent
tf.get_logger().setLevel("ERROR")  # each run traces its own tf.functions: no retracing warnings
lesson = runpy.run_path(str(ROOT / "week04_softmax_dropout_optimizers" / "4_3_optimizers.py"), run_name="bench")
SETTINGS = {  # name -> (optimizer factory, course's double softmax?)
    "Adam 1e-2 (the lesson's)": (lambda: tf.keras.optimizers.Adam(1e-2), False),
    "Adam 1e-2, epsilon 1e-8 (TF1's)": (lambda: tf.keras.optimizers.Adam(1e-2, epsilon=1e-8), False),
    "Adam 3e-3": (lambda: tf.keras.optimizers.Adam(3e-3), False),
    "Adam 1e-3": (lambda: tf.keras.optimizers.Adam(1e-3), False),
    "Adam 3e-4": (lambda: tf.keras.optimizers.Adam(3e-4), False),
    "SGD 0.2 (4-1's)": (lambda: tf.keras.optimizers.SGD(0.2), False),
    "SGD 0.5": (lambda: tf.keras.optimizers.SGD(0.5), False),
    "Adam 1e-2, course's double softmax": (lambda: tf.keras.optimizers.Adam(1e-2), True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder with the four MNIST .gz files")
    parser.add_argument("--settings", default=None,
                        help="comma-separated numbers of the settings to run (1-8, default all)")
    parser.add_argument("--seeds", type=tfcourse.positive_int, default=3, help="seeds 0..N-1 (each its own batch order)")
    parser.add_argument("--epochs", type=tfcourse.positive_int, default=21)
    options = parser.parse_args()
    args = lesson["parser"].parse_args(["--data-dir", options.data_dir])
    mnist = tfcourse.load_mnist(args, one_hot=True, flatten=True)

    print(f"784 -> 10 softmax, batches of 100, {options.epochs} epochs; test accuracy at the last "
          "epoch / best epoch, per seed")
    print(f"{'setting':36s} {'loss':14s} " + "  ".join(f"seed {s:<11d}" for s in range(options.seeds))
          + "  best of all")
    chosen = [int(n) for n in options.settings.split(",")] if options.settings else range(1, len(SETTINGS) + 1)
    for number, (name, (make_optimizer, double_softmax)) in enumerate(SETTINGS.items(), 1):
        if number not in chosen:
            continue
        results = []
        for seed in range(options.seeds):
            args.seed, args.epochs = seed, options.epochs  # train_mnist seeds itself from args.seed
            accuracies = lesson["train_mnist"](args, mnist, make_optimizer(), double_softmax=double_softmax)
            results.append((accuracies[-1], max(accuracies)))
        loss = "double softmax" if double_softmax else "fixed (logits)"
        print(f"{name:36s} {loss:14s} " + "  ".join(f"{last:.4f} / {best:.4f}" for last, best in results)
              + f"  {max(best for _, best in results):.4f}", flush=True)


if __name__ == "__main__":
    main()
