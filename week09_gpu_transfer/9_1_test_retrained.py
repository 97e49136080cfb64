"""Lesson 9-1 测试训练好的模型 — Classify pictures with the retrained model.

本课载入 9-retrain 训练好的模型，把 images/ 里的每张图片（如 animal1.jpg、flower2.jpg）以原始字节
喂进去，按视频的格式打印路径和每一类的得分（从高到低）。与视频的不同：模型是 SavedModel
（output_model/，旁边有 output_labels.txt），不是 output_graph.pb；JPEG、PNG、GIF、BMP 都可以；
不是图片的文件被跳过并列出；所有图片和它们的最佳类别存成一张 predictions.png。

    images/flower1.jpg
    flower (score = 0.97312)
    plane (score = 0.01204)
    ...

Run (after 9_1_retrain.py; its newest finished run is found without flags):
    python week09_gpu_transfer/9_1_test_retrained.py --data-dir images/
    python week09_gpu_transfer/9_1_test_retrained.py --model-dir runs/my_retrain \\
        --data-dir a.jpg b.png --top-k 3

Before classifying, the SavedModel and its labels are checked: a missing or damaged one, or one
written by another program (without retrain's `serving_default` signature and its labels), gets
one message naming the file and the command that writes the right one.

Differences from the course code (TensorFlow 1.x):
  - TF1 read `output_graph.pb` into a GraphDef, imported it and ran `sess.run('final_result:0',
    {'DecodeJpeg/contents:0': image_data})`. TF2 loads the SavedModel with `tf.saved_model.load`
    and calls its `serving_default` signature with the file contents: no graph, no Session.
  - The lesson showed each picture with `plt.show()`; here they go into one saved PNG.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week09_gpu_transfer"))  # also in a notebook
from _images import why_not_a_picture  # this week's picture plumbing, beside the lessons

RETRAIN = "week09_gpu_transfer/9_1_retrain.py"
parser = tfcourse.parser(__doc__)
parser.add_argument("--model-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="retrain's run folder, or its output_model/ "
                         "(default: retrain's newest finished run)")
parser.add_argument("--labels", type=tfcourse.existing_file, default=None, metavar="FILE",
                    help="output_labels.txt (default: the one beside output_model/)")
parser.add_argument("--data-dir", type=Path, nargs="+", default=[Path("images")], metavar="PATH",
                    help="picture files and/or folders of pictures (lesson: images/)")
parser.add_argument("--top-k", type=tfcourse.positive_int, default=None,
                    help="classes to print per picture (default: all, as the lesson)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--data-dir images")
run = tfcourse.start(args, "week09_gpu_transfer/9_1_test_retrained.py")

# %% [markdown]
# ## The retrained model: a SavedModel written by 9-retrain, checked before it is used
# Any folder could be handed to us: a missing, damaged or foreign model gets one message.

# %%
found = args.model_dir or tfcourse.latest_run(RETRAIN, need="output_model")
model_dir = found / "output_model" if found and (found / "output_model").is_dir() else found
remedy = (f"Remedy: run lesson 9-retrain, python {RETRAIN} (it writes output_model/ and "
          "output_labels.txt), or pass its run folder with --model-dir DIR.")
if model_dir is None or not (model_dir / "saved_model.pb").is_file():
    where = model_dir or "runs/week09_gpu_transfer/9_1_retrain/ (no finished run)"
    raise tfcourse.CourseError(f"No retrained model in {where}.\n{remedy}")
try:
    model = tf.saved_model.load(str(model_dir))
except Exception as error:  # OSError, DecodeError, OpError...: a cut or damaged saved_model.pb
    reason = (str(error).strip().splitlines() or ["?"])[0][:200]
    raise tfcourse.CourseError(f"{model_dir} holds a damaged SavedModel "
                               f"({type(error).__name__}: {reason}).\n{remedy}") from None
classify = model.signatures.get("serving_default")
inputs = list(classify.structured_input_signature[1]) if classify is not None else []
if (inputs != ["images"] or "final_result" not in classify.structured_outputs
        or not isinstance(getattr(model, "labels", None), tf.Variable)):
    holds = ", ".join(f"{key}({', '.join(f.structured_input_signature[1])}) -> "
                      f"{', '.join(f.structured_outputs)}" for key, f in model.signatures.items())
    raise tfcourse.CourseError(
        f"{model_dir} holds a SavedModel of another program, not one written by 9-retrain (its "
        f"signatures: {holds or 'none'}; retrain's is serving_default(images) -> final_result, "
        f"with its labels).\n{remedy}")

# %% [markdown]
# ## The labels: output_labels.txt, one class a line, in the model's order

# %%
labels_file = args.labels or model_dir.parent / "output_labels.txt"
try:
    text = labels_file.read_text(encoding="utf-8")
except OSError as error:
    raise tfcourse.CourseError(f"Cannot read the labels {labels_file}: {error.strerror}.\n"
                               f"{remedy}") from None
except UnicodeDecodeError:
    raise tfcourse.CourseError(f"The labels {labels_file} are not UTF-8 text: not a file of "
                               f"9-retrain.\n{remedy}") from None
labels = [line.strip() for line in text.splitlines() if line.strip()]
saved_labels = [name.decode("utf-8") for name in model.labels.numpy()]
if labels != saved_labels:
    raise tfcourse.CourseError(
        f"{labels_file} does not belong to {model_dir}: it lists {labels[:10]}, the model was "
        f"trained on {saved_labels[:10]}.\nRemedy: use the output_labels.txt written with the "
        f"model (--labels FILE), or run python {RETRAIN} again.")
print(f"Model {model_dir}: {len(labels)} classes ({', '.join(labels)})")

# %% [markdown]
# ## The pictures: files and folders given with --data-dir

# %%
pictures = []
for given in args.data_dir:
    if not given.exists():
        raise tfcourse.CourseError(f"{given} does not exist.\nRemedy: pass picture files or a "
                                   "folder of pictures with --data-dir.")
    paths = sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]
    for path in paths:
        if path.name.startswith("."):
            continue
        reason = why_not_a_picture(path)
        if reason:
            print(f"WARNING: skipped {path}: {reason}")
        else:
            pictures.append(path)
if not pictures:
    raise tfcourse.CourseError("No pictures to classify.\nRemedy: pass JPEG/PNG/GIF/BMP files "
                               "or a folder of them with --data-dir.")

# %% [markdown]
# ## Classify: one picture at a time, as the lesson, so a damaged one is skipped on its own

# %%
shown = []  # (path, bytes, best class, its score) for the picture below
for path in pictures:
    image_data = tfcourse.as_shown(path.read_bytes())  # as shown: upright, on white
    try:
        with tfcourse.quiet_stderr(replay=False):  # libjpeg's complaints: said below
            result = classify(images=tf.constant([image_data]))
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
        print(f"WARNING: skipped {path}: cannot be decoded (a damaged or truncated image)")
        continue
    predictions = np.squeeze(result["final_result"].numpy())  # -> (classes,)
    print(path)
    for node_id in predictions.argsort()[::-1][:args.top_k or len(labels)]:
        print("%s (score = %.5f)" % (labels[node_id], predictions[node_id]))
    print()
    best = int(predictions.argmax())
    run.log(picture=path.name, best=labels[best], score=float(predictions[best]))
    shown.append((path, image_data, labels[best], float(predictions[best])))

# %% [markdown]
# ## Pictures: all of them in one figure, each titled with its best class

# %%
columns = max(1, min(len(shown), 5))
rows = max(1, -(-len(shown) // columns))
fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.9 * rows), squeeze=False)
for ax in axes.ravel():
    ax.axis("off")
for ax, (path, image_data, label, score) in zip(axes.ravel(), shown):
    ax.imshow(tf.io.decode_image(image_data, channels=3, expand_animations=False).numpy())
    ax.set_title(f"{path.parent.name}/{path.name}\n{label} {score:.2f}", fontsize=8)
tfcourse.save_figure(fig, run.path("predictions.png"), show=args.show)
run.finish(pictures=len(shown))
