"""Lesson 8-2 载入模型 — Restore a saved model.

Builds the 4-1 model again (784 -> 10 softmax, W and b at zero), prints its test accuracy before
restoring (untrained: every image is called a 0, so about 0.098), restores the weights lesson 8-1
saved, and prints the test accuracy again: exactly the value 8-1 printed last.

    0.098
    Restoring parameters from net/my_net.ckpt
    0.9169                                 (teacher's saved output)

Run lesson 8-1 first, with the same --api:
    python week08_save_inception/8_1_saver_save.py && python week08_save_inception/8_2_saver_restore.py
    python week08_save_inception/8_2_saver_restore.py --api v1      # the course's Saver.restore
    python week08_save_inception/8_2_saver_restore.py --from runs/my_8_1_run   # 8-1 run with --out
  --api v1: a tf.compat.v1 graph and Session, `Saver().restore(sess, "net/my_net.ckpt")`;
            variables are matched by their names ("W", "b").
  --api v2: `tf.train.Checkpoint(W=W, b=b).restore(manager.latest_checkpoint)`; variables are
            matched by the attribute names of the objects that hold them.

Before restoring, the checkpoint's variables are compared with the model's: a checkpoint of
another model is refused with a message naming every variable that does not match, and an
incomplete or damaged checkpoint is reported as such, never half-loaded.

Differences from the course code (TensorFlow 1.x):
  - The course restores into a graph it rebuilt with softmax before the cross-entropy; the loss
    does not matter here (nothing is trained), the accuracy is computed the same way.
  - The checkpoint's contents are checked first, so a mismatch gives a clear message instead of
    TensorFlow's NotFoundError / InvalidArgumentError traceback.
"""
from pathlib import Path

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf
from tfcourse.cli import default_run_folder

LESSON_8_1 = "week08_save_inception/8_1_saver_save.py"
EXPECTED = {"W": (784, 10), "b": (10,)}  # the model's variables and their shapes
FOLDERS = {"v1": "net", "v2": "net_tf2"}  # where 8-1 put each kind of checkpoint

parser = tfcourse.make_parser(__doc__, mnist=True)
parser.add_argument("--api", choices=["v1", "v2"], default="v2",
                    help="v1: tf.compat.v1 Session and Saver (the course); v2: tf.train.Checkpoint (default)")
parser.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                    help="the run folder of lesson 8-1 (default: its default run folder)")


def find_checkpoint(args, source):
    """The newest checkpoint 8-1 wrote for --api, or a CourseError that says how to make one."""
    folder = source / FOLDERS[args.api]
    path = tf.train.latest_checkpoint(str(folder))
    if path is not None:
        # The index file may hold the absolute path of where 8-1 ran; the run folder may have moved.
        path = str(folder / Path(path).name)
        if not Path(path + ".index").is_file():
            raise tfcourse.CourseError(f"{folder / 'checkpoint'} names {Path(path).name}, but "
                                       f"{Path(path).name}.index is not in {folder}: the checkpoint is incomplete.\n"
                                       f"Remedy: run lesson 8-1 again (python {LESSON_8_1} --api {args.api}).")
        return path
    command = f"python {LESSON_8_1} --api {args.api}"
    command += f" --out {source}" if args.source else ""
    command += (" --quick" if args.quick else "") + (" --data synthetic" if args.data == "synthetic" else "")
    other = "v1" if args.api == "v2" else "v2"
    hint = ""
    if tf.train.latest_checkpoint(str(source / FOLDERS[other])):
        hint = f"\n(There is a checkpoint of 8-1 run with --api {other}: add --api {other} to restore that one.)"
    raise tfcourse.CourseError(
        f"No checkpoint in {source / FOLDERS[args.api]}: lesson 8-1 has not saved one there yet.\n"
        f"Remedy: run lesson 8-1 first:\n  {command}{hint}")


def check_variables(path):
    """Compare the checkpoint's variables with EXPECTED; raise a CourseError listing mismatches."""
    try:
        listed = tf.train.list_variables(path)
    except (tf.errors.OpError, ValueError) as error:
        raise tfcourse.CourseError(f"The checkpoint {path} cannot be read: it is incomplete or damaged "
                                   f"({short_reason(error)}).\n"
                                   f"Remedy: run lesson 8-1 again (python {LESSON_8_1}).") from None
    found = {}
    for name, shape in listed:  # v2 keys look like "W/.ATTRIBUTES/VARIABLE_VALUE"
        if name == "_CHECKPOINTABLE_OBJECT_GRAPH" or name.startswith("save_counter/"):
            continue
        found[name.replace("/.ATTRIBUTES/VARIABLE_VALUE", "")] = tuple(shape)
    problems = [f"  {name}: shape {found[name]} in the checkpoint, {shape} in this model"
                for name, shape in EXPECTED.items() if name in found and found[name] != shape]
    problems += [f"  {name}: missing from the checkpoint" for name in EXPECTED if name not in found]
    problems += [f"  {name}: in the checkpoint, not in this model" for name in sorted(found) if name not in EXPECTED]
    if problems:
        raise tfcourse.CourseError(
            f"The checkpoint {path} is of another model; these variables do not match:\n"
            + "\n".join(problems) + "\n"
            f"Remedy: restore a checkpoint written by lesson 8-1 (python {LESSON_8_1}), "
            f"or pass that run's folder with --from DIR.")


def short_reason(error):
    """The one informative line of a TensorFlow error (its message also lists graph nodes)."""
    lines = [line.strip() for line in str(getattr(error, "message", error)).splitlines()]
    useful = [line for line in lines if line and not line.startswith(
        ("Graph execution error", "Detected at", "File ", "Node:", "[[", "{{"))]
    return useful[0] if useful else type(error).__name__


def restore_failed(path, error):
    return tfcourse.CourseError(f"Restoring {path} failed: the checkpoint is incomplete or damaged "
                                f"({short_reason(error)}).\n"
                                f"Remedy: run lesson 8-1 again (python {LESSON_8_1}).")


def restore_v1(path, mnist):
    """The course's program: rebuild the graph, Session, print, Saver.restore, print."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
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
            raise restore_failed(path, error) from None
        after = float(sess.run(accuracy, feed_dict=feed))
        print(round(after, 4))
    return before, after


def restore_v2(path, mnist):
    """Today's program: variables, a Checkpoint that names them, restore, check all matched."""
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")

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
        raise restore_failed(path, error) from None
    after = float(accuracy(mnist.x_test, mnist.y_test))
    print(round(after, 4))
    return before, after


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    source = args.source or default_run_folder(Path(__file__).with_name("8_1_saver_save.py"))
    path = find_checkpoint(args, source)
    check_variables(path)
    mnist = tfcourse.load_mnist(args, one_hot=True)

    before, after = (restore_v1 if args.api == "v1" else restore_v2)(path, mnist)
    print(f"device: {run.device}; test accuracy {before:.4f} before restoring, {after:.4f} after"
          + (" (SYNTHETIC digits)" if mnist.synthetic else ""))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
