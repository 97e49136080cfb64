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
    python week09_gpu_transfer/9_1_test_retrained.py --model-dir runs/my_retrain --data-dir a.jpg b.png --top-k 3

Before classifying, the SavedModel is checked: a damaged one, or one written by another program
(without retrain's `serving_default` signature and its labels), gets one message naming the folder,
what it holds, and the command that writes the right one.

Differences from the course code (TensorFlow 1.x):
  - TF1 read `output_graph.pb` into a GraphDef, imported it and ran `sess.run('final_result:0',
    {'DecodeJpeg/contents:0': image_data})`. TF2 loads the SavedModel with `tf.saved_model.load`
    and calls its `serving_default` signature with the file contents: no graph, no Session.
  - The lesson showed each picture with `plt.show()`; here they go into one saved PNG.
"""
from pathlib import Path

import numpy as np

import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf
from _images import IMAGE_EXTENSIONS, read_image  # this week's shared helper, beside the lessons

RETRAIN = "week09_gpu_transfer/9_1_retrain.py"

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--model-dir", type=Path, default=None, metavar="DIR",
                    help="retrain's run folder, or its output_model/ (default: retrain's newest finished run)")
parser.add_argument("--labels", type=Path, default=None, help="output_labels.txt (default: beside output_model/)")
parser.add_argument("--data-dir", type=Path, nargs="+", default=[Path("images")], metavar="PATH",
                    help="picture files and/or folders of pictures (lesson: images/)")
parser.add_argument("--top-k", type=tfcourse.positive_int, default=None,
                    help="classes to print per picture (default: all, as the lesson)")


def load_retrained(args):
    """(serving_default signature, labels) of retrain's SavedModel, or one clear CourseError."""
    found = args.model_dir or tfcourse.latest_run(RETRAIN, need="output_model")
    folder = found / "output_model" if found and (found / "output_model").is_dir() else found
    remedy = f"Remedy: run python {RETRAIN} (it writes output_model/ and output_labels.txt), or pass its run folder " \
             "with --model-dir DIR."
    if folder is None or not (folder / "saved_model.pb").is_file():
        raise tfcourse.CourseError(f"No retrained model in {folder or 'runs/' + RETRAIN[:-3] + '/'}.\n{remedy}")
    try:
        model = tf.saved_model.load(str(folder))
    except Exception as error:  # OSError, DecodeError, OpError...: a cut or damaged saved_model.pb
        reason = str(error).strip().splitlines()[0][:200]
        raise tfcourse.CourseError(f"{folder} holds a damaged SavedModel ({type(error).__name__}: {reason}).\n"
                                   + remedy) from None
    classify = model.signatures.get("serving_default")
    inputs = classify.structured_input_signature[1] if classify is not None else {}
    if classify is None or list(inputs) != ["images"] or "final_result" not in classify.structured_outputs \
            or not hasattr(model, "labels"):
        holds = ", ".join(f"{key}({', '.join(f.structured_input_signature[1])}) -> "
                          f"{', '.join(f.structured_outputs)}" for key, f in model.signatures.items()) or "no signature"
        raise tfcourse.CourseError(f"{folder} holds a SavedModel of another program, not one written by 9-retrain "
                                   f"(its signatures: {holds}; retrain's is serving_default(images) -> "
                                   f"final_result, with its labels).\n{remedy}")
    saved_labels = [s.decode("utf-8") for s in model.labels.numpy()]
    labels_file = args.labels or folder.parent / "output_labels.txt"
    try:
        labels = [line.strip() for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as error:
        raise tfcourse.CourseError(f"Cannot read the labels {labels_file}: {error.strerror}.\n"
                                   "Remedy: pass --labels FILE: the output_labels.txt written with it.") from None
    if saved_labels != labels:
        raise tfcourse.CourseError(f"{labels_file} does not belong to {folder}: it lists {labels}, the model was "
                                   f"trained on {saved_labels}.\nRemedy: use the labels written with the model.")
    return classify, labels


def find_pictures(paths):
    """[(path, bytes)] for the pictures among `paths` (folders are searched), [(path, reason)] skipped."""
    found, skipped = [], []
    for given in paths:
        if not given.exists():
            raise tfcourse.CourseError(f"{given} does not exist.\nRemedy: pass picture files or a folder "
                                       "of pictures with --data-dir.")
        for path in sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]:
            if path.name.startswith("."):
                continue
            if given.is_dir() and path.suffix.lower() not in IMAGE_EXTENSIONS:
                skipped.append((path, f"not an image file ({path.suffix or 'no extension'})"))
                continue
            try:
                found.append((path, read_image(path)[0]))
            except ValueError as error:
                skipped.append((path, str(error)))
    return found, skipped


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    classify, labels = load_retrained(args)
    pictures, skipped = find_pictures(args.data_dir)
    for path, reason in skipped:
        print(f"WARNING: skipped {path}: {reason}")
    if not pictures:
        raise tfcourse.CourseError("No pictures to classify.\nRemedy: pass JPEG/PNG/GIF/BMP files or a folder "
                                   "of them with --data-dir.")

    # ## Classify: one picture at a time, as the lesson, so a damaged one is skipped on its own
    shown = []
    for path, data in pictures:
        try:
            with tfcourse.quiet_stderr():  # libjpeg writes its complaints straight to stderr
                predictions = np.squeeze(classify(images=tf.constant([data]))["final_result"].numpy())
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
            print(f"WARNING: skipped {path}: cannot be decoded (a damaged or truncated image)")
            continue
        print(path)
        for node_id in predictions.argsort()[::-1][:args.top_k or len(labels)]:
            print("%s (score = %.5f)" % (labels[node_id], predictions[node_id]))
        print()
        best = int(predictions.argmax())
        run.record(picture=path.name, best=labels[best], score=float(predictions[best]))
        shown.append((path, data, labels[best], float(predictions[best])))

    # ## One picture of them all, each titled with its best class
    import matplotlib.pyplot as plt
    columns = max(1, min(len(shown), 5))
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (path, data, label, score) in zip(axes.ravel(), shown):
        ax.imshow(tf.io.decode_image(data, channels=3, expand_animations=False).numpy())
        ax.set_title(f"{path.parent.name}/{path.name}\n{label} {score:.2f}", fontsize=8)
    tfcourse.save_figure(fig, run.path("predictions.png"), show=args.show)
    run.finish(pictures=len(shown))
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
