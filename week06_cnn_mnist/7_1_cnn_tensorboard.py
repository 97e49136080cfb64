"""Lesson 7-1 CNN与TensorBoard可视化（第六周作业） — The CNN in TensorBoard (week 6 homework).

The 6-1 network written out in name scopes (input, Conv1, Conv2, fc1, fc2, loss, accuracy), so
TensorBoard's graph shows its structure, and trained for 1001 iterations of 100 images with
keep_prob 0.5 while writing summaries after every iteration: loss and accuracy of the training
batch to `logs/train`, of a test batch to `logs/test`, plus mean/stddev/max/min/histogram of every
weight and bias (the lesson's `variable_summaries`). Every 100 iterations it prints, like the video:

    Iter 1000, Testing Accuracy= 0.9629, Training Accuracy= 0.9602     (teacher's saved output)

(the training accuracy is measured on the first 10000 training images, as in the lesson).
Then look at the curves, histograms and the graph:

    tensorboard --logdir runs/week06_cnn_mnist/7_1_cnn_tensorboard/logs

Run:
    python week06_cnn_mnist/7_1_cnn_tensorboard.py
    python week06_cnn_mnist/7_1_cnn_tensorboard.py --quick --data synthetic   # 31 iterations

Differences from the course code (TensorFlow 1.x):
  - `tf.summary.FileWriter` + `merged` + `sess.run(merged, feed_dict)` become
    `tf.summary.create_file_writer` and `tf.summary.scalar/histogram` calls inside a
    `tf.function`; the graph is exported with `tf.summary.trace_on/trace_export`.
  - The weights are `tf.Variable`s created in `tf.name_scope` blocks, as in the lesson (6-1 shows
    the same network with Keras layers). The loss is computed on the logits (the course applied
    softmax twice).
  - Old event files in the run folder's `logs/` are removed first, so curves of two runs do not mix.
"""
import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

import shutil

from tensorflow.python.eager import context as tf_context  # only to end graph collection, see below

parser = tfcourse.make_parser(__doc__, batch_size=100, lr=1e-4, mnist=True)
parser.add_argument("--iterations", type=int, default=1001, help="training iterations (lesson: 1001)")
parser.add_argument("--keep-prob", type=float, default=0.5, help="dropout keep probability (lesson: 0.5)")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    iterations = 31 if args.quick else args.iterations
    print_every = 30 if args.quick else 100
    if iterations < 1:
        raise tfcourse.CourseError(f"--iterations must be at least 1, not {iterations}.")

    # ## Data: 28x28x1 images, one-hot labels; an endless shuffled stream of training batches
    mnist = tfcourse.load_mnist(args, one_hot=True, flatten=False)
    train_batches = iter(tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                         .shuffle(len(mnist.x_train), seed=args.seed).repeat()
                         .batch(args.batch_size).prefetch(tf.data.AUTOTUNE))
    test_batches = iter(tf.data.Dataset.from_tensor_slices((mnist.x_test, mnist.y_test))
                        .shuffle(len(mnist.x_test), seed=args.seed).repeat().batch(args.batch_size))

    # ## Model: the lesson's variables, each layer in its own name scope
    def weight_variable(shape, name):
        return tf.Variable(tf.random.truncated_normal(shape, stddev=0.1), name=name)

    def bias_variable(shape, name):
        return tf.Variable(tf.constant(0.1, shape=shape), name=name)

    with tf.name_scope("Conv1"):
        W_conv1 = weight_variable([5, 5, 1, 32], "W_conv1")  # 5x5 window, 1 channel in, 32 filters
        b_conv1 = bias_variable([32], "b_conv1")
    with tf.name_scope("Conv2"):
        W_conv2 = weight_variable([5, 5, 32, 64], "W_conv2")
        b_conv2 = bias_variable([64], "b_conv2")
    with tf.name_scope("fc1"):
        W_fc1 = weight_variable([7 * 7 * 64, 1024], "W_fc1")
        b_fc1 = bias_variable([1024], "b_fc1")
    with tf.name_scope("fc2"):
        W_fc2 = weight_variable([1024, 10], "W_fc2")
        b_fc2 = bias_variable([10], "b_fc2")
    variables = [W_conv1, b_conv1, W_conv2, b_conv2, W_fc1, b_fc1, W_fc2, b_fc2]

    def conv2d(x, W):
        return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")

    def max_pool_2x2(x):
        return tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    def model(x, keep_prob):
        with tf.name_scope("Conv1"):
            h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x, W_conv1) + b_conv1))        # -> (14, 14, 32)
        with tf.name_scope("Conv2"):
            h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2))  # -> (7, 7, 64)
        with tf.name_scope("fc1"):
            h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])                    # -> (3136,)
            h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)              # -> (1024,)
            h_fc1_drop = tf.nn.dropout(h_fc1, rate=1 - keep_prob)
        with tf.name_scope("fc2"):
            return tf.matmul(h_fc1_drop, W_fc2) + b_fc2                             # logits -> (10,)

    def loss_and_accuracy(x, y, keep_prob):
        prediction = model(x, keep_prob)
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction))
        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        return loss, accuracy

    optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

    @tf.function
    def train_step(x, y):
        with tf.name_scope("train"), tf.GradientTape() as tape:
            loss, _ = loss_and_accuracy(x, y, args.keep_prob)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    # ## Summaries: the lesson's variable_summaries, loss and accuracy, one writer per folder
    logs = run.out / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    train_writer = tf.summary.create_file_writer(str(run.path("logs", "train")))
    test_writer = tf.summary.create_file_writer(str(run.path("logs", "test")))

    def variable_summaries(var):
        name = var.name.split(":")[0]
        with tf.name_scope(name):
            mean = tf.reduce_mean(var)
            tf.summary.scalar("mean", mean)
            tf.summary.scalar("stddev", tf.sqrt(tf.reduce_mean(tf.square(var - mean))))
            tf.summary.scalar("max", tf.reduce_max(var))
            tf.summary.scalar("min", tf.reduce_min(var))
            tf.summary.histogram("histogram", var)

    @tf.function
    def write_summaries(writer, x, y, step, with_variables):
        loss, accuracy = loss_and_accuracy(x, y, 1.0)  # keep_prob 1.0 when measuring
        with writer.as_default(step=step):
            tf.summary.scalar("loss", loss)
            tf.summary.scalar("accuracy", accuracy)
            if with_variables:
                for var in variables:
                    variable_summaries(var)

    @tf.function
    def count_correct(x, y):
        _, accuracy = loss_and_accuracy(x, y, 1.0)
        return accuracy * tf.cast(tf.shape(x)[0], tf.float32)

    def accuracy_on(images, labels):
        data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(1000)
        return sum(float(count_correct(x, y)) for x, y in data) / len(images)

    # ## Training: one step, then the summaries of that batch and of a test batch, every iteration
    for i in range(iterations):
        x, y = next(train_batches)
        if i == 0:
            tf.summary.trace_on(graph=True)  # record the graph of the first step for TensorBoard
        train_step(x, y)
        if i == 0:
            with train_writer.as_default():
                tf.summary.trace_export(name="train_step", step=0)
            # TF 2.21 leaves graph collection on after trace_export: every later function would keep
            # its graph in memory (and a later trace in this process would export them all)
            tf_context.context().disable_graph_collection()
        step = tf.constant(i, tf.int64)
        write_summaries(train_writer, x, y, step, True)
        write_summaries(test_writer, *next(test_batches), step, False)
        if i % print_every == 0:
            test_acc = accuracy_on(mnist.x_test, mnist.y_test)
            train_acc = accuracy_on(mnist.x_train[:10000], mnist.y_train[:10000])
            print("Iter " + str(i) + ", Testing Accuracy= " + str(round(test_acc, 4))
                  + ", Training Accuracy= " + str(round(train_acc, 4)), flush=True)
    train_writer.close()
    test_writer.close()

    print(f"TensorBoard logs: {run.path('logs', 'train')} and {run.path('logs', 'test')}\n"
          f"  view them with: tensorboard --logdir {logs}"
          + ("\n(trained on SYNTHETIC digits)" if mnist.synthetic else ""))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
