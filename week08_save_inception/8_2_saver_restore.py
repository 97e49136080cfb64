"""Lesson 8-2 载入模型 — Restore a saved model.

本课重新搭建 4-1 的模型，先打印未训练时的测试准确率（W、b 全为零，约 0.098），再载入 8-1 保存的
参数，打印载入后的准确率：正好是 8-1 最后打印的值。--api v1 用课程的 Saver.restore，默认的 --api v2
用 tf.train.Checkpoint。与视频的不同：载入前先核对检查点里的变量（名字、形状、数值有限），
别的模型的、损坏的或缺失的检查点都只给一条说明，并给出重新生成它的 8-1 命令；默认找 8-1 最新
一次完成的运行。

Prints the test accuracy of the rebuilt 4-1 model before and after restoring 8-1's weights:
    0.098                                  (W = b = 0: every image is called a 0)
    Restoring parameters from net/my_net.ckpt
    0.9169                                 (teacher's saved output; here: exactly 8-1's last value)

Run lesson 8-1 first, with the same --api (8-2 reads 8-1's newest finished run, or --model-dir):
    python week08_save_inception/8_1_saver_save.py
    python week08_save_inception/8_2_saver_restore.py
  --api v1: `Saver().restore(sess, "net/my_net.ckpt")` in a tf.compat.v1 Session, by name: W, b.
  --api v2: `tf.train.Checkpoint(W=W, b=b).restore(path)`, by the attribute names W= and b=.

Differences from the course code (TensorFlow 1.x):
  - The checkpoint's variables are compared with the model's first: another model's checkpoint
    is refused naming every variable that does not match, a damaged one (or one holding NaN) is
    reported as such, never half-loaded, instead of TensorFlow's NotFoundError traceback.
  - 8-1's run folder is only read: this run writes its own log and record elsewhere.
"""
# %%
import shlex
from pathlib import Path

import numpy as np

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

LESSON_8_1 = "week08_save_inception/8_1_saver_save.py"
FOLDERS = {"v1": "net", "v2": "net_tf2"}  # where 8-1 puts each kind of checkpoint

parser = tfcourse.parser(__doc__, mnist=True)
parser.add_argument("--api", choices=["v1", "v2"], default="v2",
                    help="v1: the course's Saver; v2 (default): tf.train.Checkpoint")
parser.add_argument("--model-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="the run folder of lesson 8-1 (default: its newest finished run with "
                         "this --api)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--api v1")
if args.model_dir and args.out and args.out.resolve() == args.model_dir.resolve():
    raise tfcourse.CourseError(f"--out {args.out} is 8-1's run folder: this run's log and record "
                               "would replace 8-1's.\nRemedy: leave out --out, or name another "
                               "folder.")
run = tfcourse.start(args, "week08_save_inception/8_2_saver_restore.py")

# %% [markdown]
# ## The checkpoint
# Found in 8-1's run folder; every problem names the file and the 8-1 command that makes it again.

# %%
same_data = ["--quick"] if args.quick else []  # 8-1 must see the test images this run sees
same_data += ["--data", "synthetic"] if args.data == "synthetic" else []
record = tfcourse.read_record(args.model_dir) if args.model_dir else None
if record and record.get("script") not in (None, LESSON_8_1):
    fresh = shlex.join(["python", LESSON_8_1, "--api", args.api] + same_data)
    raise tfcourse.CourseError(f"{args.model_dir} is a run of lesson {record.get('lesson')}, not "
                               "of lesson 8-1: it holds no checkpoint of 8-1.\nRemedy: run lesson "
                               f"8-1 first:\n  {fresh}\nthen pass its run folder with "
                               "--model-dir DIR.")
command = ["python", LESSON_8_1, "--api", args.api]
command += ["--out", str(args.model_dir)] if args.model_dir else []  # where this run looks
command += same_data
remedy = f"Remedy: run lesson 8-1 (again):\n  {shlex.join(command)}"

source = args.model_dir or tfcourse.latest_run(LESSON_8_1, need=FOLDERS[args.api])
if source is None:
    raise tfcourse.CourseError(f"No checkpoint: no finished run of 8-1 with --api {args.api} in "
                               f"runs/{LESSON_8_1[:-3]}/.\n{remedy}")
folder = source / FOLDERS[args.api]
# `checkpoint` is a small text file naming the newest save; TensorFlow ignores a damaged one
state = tf.train.get_checkpoint_state(str(folder)) if folder.is_dir() else None
if state is None and (folder / "checkpoint").is_file():
    raise tfcourse.CourseError(f"{folder / 'checkpoint'} is damaged: it names no checkpoint."
                               f"\n{remedy}")
if state is None:
    other = "v1" if args.api == "v2" else "v2"
    hint = (f" (it holds {FOLDERS[other]}/: that run of 8-1 used --api {other})"
            if (source / FOLDERS[other]).is_dir() else "")
    raise tfcourse.CourseError(f"No checkpoint of lesson 8-1 in {folder}{hint}.\n{remedy}")
path = str(folder / Path(state.model_checkpoint_path).name)  # by name: the folder may have moved
if not Path(path + ".index").is_file():
    raise tfcourse.CourseError(f"{folder / 'checkpoint'} names {Path(path).name}, which is not in "
                               f"{folder}: the checkpoint is incomplete.\n{remedy}")

# %% [markdown]
# ## What the checkpoint holds
# `tf.train.list_variables` reads the index: names and shapes. v1 keys are the variables' names
# (W, b); v2 keys are paths of attributes (W/.ATTRIBUTES/VARIABLE_VALUE). Each value must be the
# shape this model has, and finite.

# %%
EXPECTED = {"W": (784, 10), "b": (10,)}  # the model's variables and their shapes


def damaged(error):
    lines = [line.strip() for line in str(getattr(error, "message", error)).splitlines()]
    reason = next((line for line in lines if line and not line.startswith(
        ("Graph execution error", "Detected at", "File ", "Node:", "[[", "{{"))),
        type(error).__name__)
    return tfcourse.CourseError(f"The checkpoint {path} is incomplete or damaged ({reason}).\n"
                                f"{remedy}")


try:
    reader = tf.train.load_checkpoint(path)
    keys = {key.replace("/.ATTRIBUTES/VARIABLE_VALUE", ""): key
            for key in reader.get_variable_to_shape_map()
            if key != "_CHECKPOINTABLE_OBJECT_GRAPH" and not key.startswith("save_counter/")}
    found = {name: tuple(reader.get_tensor(key).shape) for name, key in keys.items()}
    not_finite = [name for name in EXPECTED if name in keys
                  and not np.isfinite(reader.get_tensor(keys[name])).all()]
except (tf.errors.OpError, ValueError, IndexError) as error:
    raise damaged(error) from None
print("checkpoint holds: " + ", ".join(f"{name} {shape}" for name, shape in sorted(found.items())))
problems = [f"  {name}: shape {found[name]} in the checkpoint, {shape} in this model"
            for name, shape in EXPECTED.items() if name in found and found[name] != shape]
problems += [f"  {name}: missing from the checkpoint" for name in EXPECTED if name not in found]
problems += [f"  {name}: in the checkpoint, not in this model"
             for name in sorted(found) if name not in EXPECTED]
if problems:
    raise tfcourse.CourseError(f"The checkpoint {path} is of another model; these variables do "
                               "not match:\n" + "\n".join(problems) + "\nRemedy: restore a "
                               f"checkpoint written by lesson 8-1:\n  {shlex.join(command)}\n"
                               "(or pass such a run folder with --model-dir DIR)")
if not_finite:
    raise tfcourse.CourseError(f"The checkpoint {path} holds NaN or infinite values in "
                               f"{', '.join(not_finite)}: the training it saved diverged.\n"
                               f"{remedy}")

# %% [markdown]
# ## Data
# The same test images as 8-1 (the same --data, --data-dir and --quick).

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)

# %% [markdown]
# ## --api v1: the course's program
# Rebuild the graph with the same variable names, print the accuracy of W = b = 0, restore, print.

# %%
if args.api == "v1":
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 784])
        y = v1.placeholder(tf.float32, [None, 10])
        W = tf.Variable(tf.zeros([784, 10]), name="W")  # the same names as in 8-1: W and b
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
            raise damaged(error) from None
        after = float(sess.run(accuracy, feed_dict=feed))

# %% [markdown]
# ## --api v2 (default): today's program
# Variables, a Checkpoint that names them as 8-1's did (W=, b=), restore, check all matched.

# %%
if args.api == "v2":
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")

    @tf.function
    def accuracy(x, y):
        prediction = tf.nn.softmax(tf.matmul(x, W) + b)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    before = float(accuracy(mnist.x_test, mnist.y_test))
    print(round(before, 4))
    print(f"Restoring parameters from {path}")
    try:
        tf.train.Checkpoint(W=W, b=b).restore(path).assert_existing_objects_matched()
    except Exception as error:  # OpError, AssertionError, or IndexError from a cut file
        raise damaged(error) from None
    after = float(accuracy(mnist.x_test, mnist.y_test))

# %% [markdown]
# ## Evaluation
# After restoring: exactly the number 8-1 printed last (teacher: 0.9169).

# %%
print(round(after, 4))
run.log(before=before, after=after)
run.finish(test_accuracy=after)
