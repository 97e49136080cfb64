"""Lesson 8-2 载入模型 — Restore a saved model.

本课重新搭建 4-1 的模型，先打印未训练时的测试准确率（W、b 全为零，约 0.098），再载入 8-1 保存的
参数，打印载入后的准确率：正好是 8-1 最后打印的值。--api v1 用课程的 Saver.restore，默认的 --api v2
用 tf.train.Checkpoint。与视频的不同：载入前先核对检查点里的变量（名字、形状、数值有限），
别的模型的、损坏的或缺失的检查点都只给一条说明，并给出重新生成它的 8-1 命令；默认找 8-1 最新
一次完成的运行。--image 我写的7.jpg …：载入的模型识别你自己手写数字的照片（每张一个数字），
先把照片变成 MNIST 的样子（白字黑底、20x20 的框、按重心居中、笔画加粗到 MNIST 的粗细）。

Prints the test accuracy of the rebuilt 4-1 model before and after restoring 8-1's weights:
    0.098                                  (W = b = 0: every image is called a 0)
    Restoring parameters from net/my_net.ckpt
    0.9169                                 (teacher's saved output; here: exactly 8-1's last value)

Run lesson 8-1 first, with the same --api (8-2 reads 8-1's newest finished run, or --model-dir):
    python week08_save_inception/8_1_saver_save.py
    python week08_save_inception/8_2_saver_restore.py
  --api v1: `Saver().restore(sess, "net/my_net.ckpt")` in a tf.compat.v1 Session, by name: W, b.
  --api v2: `tf.train.Checkpoint(W=W, b=b).restore(path)`, by the attribute names W= and b=.

Your own handwritten digits: `--image my7.jpg [more.png ...]` (or a folder of them), a photo or
scan of one digit each (dark on light paper, or light on dark). Each becomes a picture as
MNIST's were made: white on black, the strokes thickened to MNIST's (about a seventh of the
digit's height; a pen's line on a page is far thinner), scaled into a 20x20 box and centred by
its centre of mass in 28x28. The restored model names the digit of each; the pictures it saw go
to your_digits.png.
    python week08_save_inception/8_2_saver_restore.py --image my7.jpg my2.png
    python week08_save_inception/8_2_saver_restore.py --image my_digits

Differences from the course code (TensorFlow 1.x):
  - The checkpoint's variables are compared with the model's first: another model's checkpoint
    is refused naming every variable that does not match, a damaged one (or one holding NaN) is
    reported as such, never half-loaded, instead of TensorFlow's NotFoundError traceback.
  - 8-1's run folder is only read: this run writes its own log and record elsewhere.
"""
# %%
import io
import shlex
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

LESSON_8_1 = "week08_save_inception/8_1_saver_save.py"
FOLDERS = {"v1": "net", "v2": "net_tf2"}  # where 8-1 puts each kind of checkpoint
PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}

parser = tfcourse.parser(__doc__, mnist=True)
parser.add_argument("--api", choices=["v1", "v2"], default="v2",
                    help="v1: the course's Saver; v2 (default): tf.train.Checkpoint")
parser.add_argument("--model-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="the run folder of lesson 8-1 (default: its newest finished run with "
                         "this --api)")
parser.add_argument("--image", nargs="+", type=Path, default=[], metavar="FILE",
                    help="pictures of your own handwritten digits, one digit each, for the "
                         "restored model to read (files, or a folder of them)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--api v1")
images = []  # --image: files, or a folder of them (Windows' cmd leaves *.jpg unexpanded)
for given in args.image:
    if given.is_dir():
        found = sorted(p for p in given.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES)
        if not found:
            raise tfcourse.CourseError(f"--image {given}: the folder holds no pictures (.jpg, "
                                       ".png, ...).\nRemedy: put your photos in it, or name them.")
        images += found
    elif not given.is_file():
        raise tfcourse.CourseError(f"--image {given}: no such file or folder.\nRemedy: name "
                                   "picture files, or the folder that holds them (--image "
                                   "my_digits).")
    else:
        images.append(given)
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
# Your own digits (--image), made the way MNIST's were: white on black; the strokes as thick as
# MNIST's (a seventh of the digit's height: a pen's line on a page is far thinner, and shrunk to
# 20 pixels it would fade away); the digit scaled into a 20x20 box, then placed in 28x28 so that
# its centre of mass is the centre.

# %%
def read_photo(path):
    """A picture file as grey values 0-255, as a viewer shows it (tfcourse.as_shown: upright, a
    transparent background on white paper)."""
    try:
        with Image.open(io.BytesIO(tfcourse.as_shown(path.read_bytes()))) as image:
            if image.mode.startswith(("I", "F")):  # 16-bit or 32-bit grey: scaled to 0-255
                grey = np.asarray(image, np.float32)
                grey = grey * (255 / max(grey.max(), 1))
            else:
                grey = np.asarray(image.convert("L"), np.float32)
    except (OSError, UnidentifiedImageError) as error:
        raise tfcourse.CourseError(f"--image {path}: cannot read it as a picture ({error}).\n"
                                   "Remedy: pass a JPEG or PNG photo of one digit.") from None
    return grey


def shrunk(image, longest):
    """`image` shrunk to about `longest` pixels a side, each block keeping its brightest pixel,
    so that a thin line stays."""
    k = -(-max(image.shape) // longest)
    if k == 1:
        return image
    image = np.pad(image, ((0, -len(image) % k), (0, -image.shape[1] % k)))
    return image.reshape(len(image) // k, k, -1, k).max(axis=(1, 3))


def box(image):
    """The smallest rectangle of `image` that holds all its non-zero pixels."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def as_mnist(grey, path):
    """A photo of one digit (grey values) -> 28x28 values in [0, 1], as MNIST's were made."""
    edge = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(edge) > 127:  # dark ink on light paper: turn it into MNIST's light on dark
        grey, edge = 255 - grey, 255 - edge
    ink = np.clip(grey - np.median(edge), 0, None)  # 0 where the paper is
    ink = shrunk(ink, 1000)  # a phone's photo: 1000 pixels a side are enough
    if ink.max() < 40:  # nearly one shade: no ink at all
        ink[:] = 0
    else:
        ink = np.where(ink > 0.25 * ink.max(), ink / ink.max(), 0)  # the paper's grain goes
        on = ink > 0  # a speck (dust, noise in a dark corner) has fewer than two inked neighbours
        neighbours = sum(np.roll(on, (dy, dx), axis=(0, 1))
                         for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        ink = np.where(neighbours - on >= 2, ink, 0)
    if not ink.any():
        raise tfcourse.CourseError(f"--image {path}: no digit found, the picture is nearly one "
                                   "shade.\nRemedy: a photo of a digit written darker (or "
                                   "lighter) than its paper, filling a good part of the picture.")
    digit = box(ink)
    if np.mean(ink > 0) > 0.4:  # a digit's strokes cover far less of a picture
        print(f"注意 Note: {path.name}: {np.mean(ink > 0):.0%} of it stands out from its edges, "
              "as if the paper's edge or a shadow were in the photo; crop it to the paper "
              "around the digit.")
    elif digit.shape[1] > 1.5 * digit.shape[0]:
        print(f"注意 Note: {path.name}: what is written is wider than one digit; the model reads "
              "one digit a picture: crop it to one.")
    digit = shrunk(digit, 160)  # a big digit: about 160 pixels are enough to measure its strokes
    solid = digit > 0.5
    inside = (solid & np.roll(solid, 1, 0) & np.roll(solid, -1, 0)
              & np.roll(solid, 1, 1) & np.roll(solid, -1, 1))
    stroke = 2 * solid.sum() / max((solid & ~inside).sum(), 1)  # area / half the outline
    grow = int(max(digit.shape) / 7 - stroke)  # MNIST's strokes: a seventh of the digit
    if grow >= 2:
        size = grow // 2 * 2 + 1  # MaxFilter widens a stroke by size - 1 pixels
        wide = Image.fromarray(np.pad(digit * 255, size).astype(np.uint8))
        digit = box(np.asarray(wide.filter(ImageFilter.MaxFilter(size)), np.float32) / 255)
    height, width = digit.shape
    scale = 20 / max(height, width)  # the longer side becomes 20 pixels
    small = Image.fromarray(digit).resize((max(1, round(width * scale)),
                                           max(1, round(height * scale))), Image.BOX)
    small = np.asarray(small)
    small = small / small.max()
    ys, xs = np.indices(small.shape)
    centre_y, centre_x = (ys * small).sum() / small.sum(), (xs * small).sum() / small.sum()
    top = int(np.clip(round(14 - centre_y), 0, 28 - small.shape[0]))
    left = int(np.clip(round(14 - centre_x), 0, 28 - small.shape[1]))
    picture = np.zeros((28, 28), np.float32)
    picture[top:top + small.shape[0], left:left + small.shape[1]] = small
    return picture


photos = [read_photo(path) for path in images]
own = np.zeros((len(photos), 28, 28), np.float32)  # none without --image
for i, (grey, image_path) in enumerate(zip(photos, images)):  # `path` is the checkpoint's
    own[i] = as_mnist(grey, image_path)
own_x = own.reshape(-1, 784)  # as the model reads them: 784 values each

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
        own_prediction = sess.run(prediction, feed_dict={x: own_x})  # your digits, fed to x

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
    own_prediction = tf.nn.softmax(tf.matmul(own_x, W) + b).numpy()  # your digits

# %% [markdown]
# ## Evaluation
# After restoring: exactly the number 8-1 printed last (teacher: 0.9169).

# %%
print(round(after, 4))
run.log(before=before, after=after)

# %% [markdown]
# ## Your own digits: what the restored model reads in each picture, and the pictures it saw

# %%
for image_path, p in zip(images, own_prediction):
    first, second = np.argsort(p)[::-1][:2]
    print(f"{image_path.name}: {first} (probability {p[first]:.2f}; next {second}, "
          f"{p[second]:.2f})")
    run.log(image=image_path.name, digit=int(first), probability=float(p[first]))
if images:
    shown = list(zip(images, photos, own, own_prediction))[:12]  # all are printed above
    fig, axes = plt.subplots(2, len(shown), figsize=(1.6 * len(shown) + 0.4, 3.6), squeeze=False)
    for (image_path, photo, picture, p), photo_ax, mnist_ax in zip(shown, axes[0], axes[1]):
        step = -(-max(photo.shape) // 400)  # a phone's photo: a thumbnail is enough to show
        photo_ax.imshow(photo[::step, ::step], cmap="gray", vmin=0, vmax=255)  # as read, upright
        name = image_path.name
        photo_ax.set_title(name if len(name) < 16 else name[:14] + "…", fontsize=8)
        mnist_ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
        mnist_ax.set_title(f"-> {p.argmax()} ({p.max():.2f})", fontsize=9)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("your picture")
    axes[1, 0].set_ylabel("as MNIST")
    tfcourse.save_figure(fig, run.path("your_digits.png"), show=args.show)
run.finish(test_accuracy=after)
