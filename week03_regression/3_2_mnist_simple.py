"""Lesson 3-2 MNIST数据集分类简单版本 — MNIST, the simple version.

One layer, 784 pixels -> 10 classes: prediction = softmax(x W + b), W and b start at zero, the
quadratic loss mean((y - prediction)^2), plain gradient descent with learning rate 0.2, batches of
100, 21 epochs. After each epoch it prints the test accuracy exactly like the video:

    Iter 0,Testing Accuracy 0.8304        (teacher's saved output; Iter 20: 0.9134)

Run:
    python week03_regression/3_2_mnist_simple.py                      # downloads MNIST once
    python week03_regression/3_2_mnist_simple.py --data-dir MNIST_data  # the course's folder
    python week03_regression/3_2_mnist_simple.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - `tensorflow.examples.tutorials.mnist.input_data` is gone: `tfcourse.load_mnist` gives the
    same 55000/5000/10000 split, downloads with checksums, and reads the course's MNIST_data/.
  - No placeholder/Session: the weights are `tf.Variable`s and a whole epoch (550 shuffled
    batches) runs inside one graph (`tfcourse.epoch_runner`), faster than the course's feed_dict
    loop (`python bench/bench_week03_mnist_simple.py` measures both).
  - Same model, loss, optimizer and schedule, so the numbers land close to the teacher's.
"""
import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

parser = tfcourse.make_parser(__doc__, epochs=21, batch_size=100, lr=0.2, mnist=True)


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs

    # ## Data: images as 784-vectors in [0, 1], labels one-hot (as input_data's one_hot=True)
    mnist = tfcourse.load_mnist(args, one_hot=True)
    n_batch = len(mnist.x_train) // args.batch_size  # 550 batches per epoch, like the course

    # ## Model: a single softmax layer, zero-initialised as in the lesson
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")

    def model(x):
        return tf.nn.softmax(tf.matmul(x, W) + b)  # prediction

    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            prediction = model(x)
            loss = tf.reduce_mean(tf.square(y - prediction))  # the lesson's quadratic loss
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        return loss

    # ## Training: one graph runs a whole epoch (550 shuffled batches) without returning to Python
    train_epoch = tfcourse.epoch_runner(train_step, mnist.x_train, mnist.y_train, args.batch_size)

    @tf.function
    def accuracy(x, y):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x), 1))
        return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    history = []
    for epoch in range(epochs):
        train_epoch()
        acc = float(accuracy(mnist.x_test, mnist.y_test))
        history.append(acc)
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))

    print(f"{n_batch} batches of {args.batch_size} per epoch; device: {run.device}; "
          f"final test accuracy {history[-1]:.4f}" + (" on SYNTHETIC digits" if mnist.synthetic else ""))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
