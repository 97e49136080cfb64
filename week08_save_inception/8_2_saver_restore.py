"""Lesson 8-2 载入模型 — Restore a saved model.

本课重新搭建 4-1 的模型，先打印未训练时的测试准确率（W、b 全为零，约 0.098），再载入 8-1 保存的
参数，打印载入后的准确率：正好是 8-1 最后打印的值。--api v1 用课程的 Saver.restore，默认的 --api v2
用 tf.train.Checkpoint。与视频的不同：载入前先核对检查点里的变量，别的模型的检查点会被拒绝，
并说明用哪个命令生成正确的检查点；默认找 8-1 最新一次完成的运行。

Prints the test accuracy of the rebuilt 4-1 model before and after restoring 8-1's weights:
    0.098                                  (W = b = 0: every image is called a 0)
    Restoring parameters from net/my_net.ckpt
    0.9169                                 (teacher's saved output; here: exactly 8-1's last value)

Run lesson 8-1 first, with the same --api (8-2 reads 8-1's newest finished run, or --model-dir):
    python week08_save_inception/8_1_saver_save.py && python week08_save_inception/8_2_saver_restore.py
  --api v1: `Saver().restore(sess, "net/my_net.ckpt")` in a tf.compat.v1 Session: matched by name, W and b.
  --api v2: `tf.train.Checkpoint(W=W, b=b).restore(path)`: matched by the attribute names W= and b=.

Differences from the course code (TensorFlow 1.x):
  - The checkpoint's variables are compared with the model's first: another model's checkpoint is
    refused naming every variable that does not match, a damaged one is reported as such (never
    half-loaded), instead of TensorFlow's NotFoundError / InvalidArgumentError traceback.
"""
import shlex
from pathlib import Path

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

LESSON_8_1 = "week08_save_inception/8_1_saver_save.py"
EXPECTED = {"W": (784, 10), "b": (10,)}  # the model's variables and their shapes
FOLDERS = {"v1": "net", "v2": "net_tf2"}  # where 8-1 put each kind of checkpoint

parser = tfcourse.make_parser(__doc__, mnist=True)
parser.add_argument("--api", choices=["v1", "v2"], default="v2", help="v1 or v2 (default): see below")
parser.add_argument("--model-dir", type=Path, default=None, metavar="DIR",
                    help="the run folder of lesson 8-1 (default: its newest finished run with this --api)")


def make_command(args):
    """The 8-1 command that writes the checkpoint this run looks for."""
    command = ["python", LESSON_8_1, "--api", args.api] + (["--out", str(args.model_dir)] if args.model_dir else [])
    command += (["--quick"] if args.quick else []) + (["--data", "synthetic"] if args.data == "synthetic" else [])
    return shlex.join(command)


def find_checkpoint(args):
    """The newest checkpoint 8-1 wrote for --api, or a CourseError that says how to make one."""
    source = args.model_dir or tfcourse.latest_run(LESSON_8_1, need=FOLDERS[args.api])
    folder = source / FOLDERS[args.api] if source else None
    state = tf.train.get_checkpoint_state(str(folder)) if folder and folder.is_dir() else None  # reads `checkpoint`
    if state is None:
        where = folder or f"runs/{LESSON_8_1[:-3]}/ (no finished run of 8-1 with --api {args.api})"
        raise tfcourse.CourseError(f"No checkpoint of lesson 8-1 in {where}.\n"
                                   f"Remedy: run lesson 8-1 first:\n  {make_command(args)}")
    path = str(folder / Path(state.model_checkpoint_path).name)  # by name: the folder may have moved since
    if not Path(path + ".index").is_file():
        raise tfcourse.CourseError(f"{folder / 'checkpoint'} names {Path(path).name}, which is not in {folder}: the "
                                   f"checkpoint is incomplete.\nRemedy: run lesson 8-1 again:\n  {make_command(args)}")
    return path


def check_variables(path, args):
    """Compare the checkpoint's variables with EXPECTED; a CourseError lists every mismatch."""
    try:
        listed = tf.train.list_variables(path)
    except (tf.errors.OpError, ValueError) as error:
        raise damaged(path, error, args) from None
    found = {name.replace("/.ATTRIBUTES/VARIABLE_VALUE", ""): tuple(shape) for name, shape in listed
             if name != "_CHECKPOINTABLE_OBJECT_GRAPH" and not name.startswith("save_counter/")}  # v2 keys: W/.ATTR..
    problems = [f"  {name}: shape {found[name]} in the checkpoint, {shape} in this model"
                for name, shape in EXPECTED.items() if name in found and found[name] != shape]
    problems += [f"  {name}: missing from the checkpoint" for name in EXPECTED if name not in found]
    problems += [f"  {name}: in the checkpoint, not in this model" for name in sorted(found) if name not in EXPECTED]
    if problems:
        raise tfcourse.CourseError(f"The checkpoint {path} is of another model; these variables do not match:\n"
                                   + "\n".join(problems) + "\nRemedy: restore a checkpoint written by lesson 8-1:\n  "
                                   + make_command(args) + "\n(or pass such a run folder with --model-dir DIR)")


def damaged(path, error, args):
    lines = [line.strip() for line in str(getattr(error, "message", error)).splitlines()]
    reason = next((line for line in lines if line and not line.startswith(
        ("Graph execution error", "Detected at", "File ", "Node:", "[[", "{{"))), type(error).__name__)
    return tfcourse.CourseError(f"The checkpoint {path} is incomplete or damaged ({reason}).\n"
                                f"Remedy: run lesson 8-1 again:\n  {make_command(args)}")


def restore_v1(path, mnist, args):
    """The course's program: rebuild the graph, Session, print, Saver.restore, print."""
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        W = tf.Variable(tf.zeros([784, 10]), name="W")  # same names as in 8-1: "W" and "b"
        b = tf.Variable(tf.zeros([10]), name="b")
        prediction = tf.nn.softmax(tf.matmul(x, W) + b)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        saver = v1.train.Saver()
    feed = {x: mnist.x_test, y: mnist.y_test}
    with v1.Session(graph=graph) as sess:
        sess.run(v1.global_variables_initializer())
        before = float(sess.run(accuracy, feed_dict=feed))
        print(round(before, 4))
        print(f"Restoring parameters from {path}")
        try:
            saver.restore(sess, path)
        except Exception as error:  # OpError, or IndexError/ValueError from a cut file
            raise damaged(path, error, args) from None
        return before, float(sess.run(accuracy, feed_dict=feed))


def restore_v2(path, mnist, args):
    """Today's program: variables, a Checkpoint that names them, restore, check all matched."""
    W, b = tf.Variable(tf.zeros([784, 10]), name="W"), tf.Variable(tf.zeros([10]), name="b")

    @tf.function
    def accuracy(x, y):
        prediction = tf.nn.softmax(tf.matmul(x, W) + b)
        return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1)), tf.float32))

    before = float(accuracy(mnist.x_test, mnist.y_test))
    print(round(before, 4))
    print(f"Restoring parameters from {path}")
    try:
        tf.train.Checkpoint(W=W, b=b).restore(path).assert_existing_objects_matched()
    except Exception as error:  # OpError, AssertionError, or IndexError from a cut file
        raise damaged(path, error, args) from None
    return before, float(accuracy(mnist.x_test, mnist.y_test))


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    path = find_checkpoint(args)
    check_variables(path, args)
    mnist = tfcourse.load_mnist(args, one_hot=True)

    before, after = (restore_v1 if args.api == "v1" else restore_v2)(path, mnist, args)
    print(round(after, 4))
    run.record(before=before, after=after)
    run.finish(test_accuracy=after)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
