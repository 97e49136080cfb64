"""Lesson 9-1 测试训练好的模型 — Classify pictures with the retrained model.

After `9_1_retrain.py`, the lesson loads the retrained graph, feeds each picture in `images/`
(e.g. animal1.jpg, flower2.jpg, plane3.jpg) as raw bytes and prints its path and then every
class, best first, exactly as the video does:

    images/flower1.jpg
    flower (score = 0.97312)
    plane (score = 0.01204)
    ...

Here the retrained model is the SavedModel `output_model/` with `output_labels.txt` beside it;
it takes the raw file bytes (JPEG, PNG, GIF or BMP) and returns `final_result`. A picture of all
images with their best class is saved as `predictions.png` in the run folder.

Run:
    python week09_gpu_transfer/9_1_test_retrained.py --images images/
    python week09_gpu_transfer/9_1_test_retrained.py --model runs/week09_gpu_transfer/9_1_retrain/output_model \\
        --images images/animal1.jpg images/plane2.jpg --top-k 3

Differences from the course code (TensorFlow 1.x):
  - TF1 read `output_graph.pb` into a GraphDef, imported it and ran `sess.run('final_result:0',
    {'DecodeJpeg/contents:0': image_data})`. TF2 loads the SavedModel with `tf.saved_model.load`
    and calls its `serving_default` signature with a batch of file contents: no graph, no Session.
  - The lesson showed each picture with `plt.show()`; here they go into one saved PNG.
  - Files that are not pictures are skipped and listed instead of stopping the run.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

from pathlib import Path

import numpy as np

from _images import IMAGE_EXTENSIONS, read_image, use_cjk_font  # this week's shared helper, beside the lessons
from tfcourse.cli import default_run_folder  # noqa: E402

RETRAIN_OUT = default_run_folder(Path(__file__).with_name("9_1_retrain.py"))

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--model", type=Path, default=RETRAIN_OUT / "output_model",
                    help="the SavedModel written by 9_1_retrain.py (default: its run folder's output_model)")
parser.add_argument("--labels", type=Path, default=None,
                    help="output_labels.txt (default: beside --model)")
parser.add_argument("--images", type=Path, nargs="+", default=[Path("images")],
                    help="picture files and/or folders of pictures (lesson: images/)")
parser.add_argument("--top-k", type=int, default=0, help="classes to print per picture (default: all, as the lesson)")


def find_pictures(paths):
    """[(path, bytes)] for the pictures among `paths` (folders are searched), [(path, reason)] skipped."""
    found, skipped = [], []
    for given in paths:
        if not given.exists():
            raise tfcourse.CourseError(f"{given} does not exist.\nRemedy: pass picture files or a folder "
                                       "of pictures with --images.")
        files = sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]
        for path in files:
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

    # ## The retrained model and its labels
    labels_file = args.labels or args.model.parent / "output_labels.txt"
    if not (args.model / "saved_model.pb").is_file():
        raise tfcourse.CourseError(f"No retrained model in {args.model}.\n"
                                   "Remedy: run week09_gpu_transfer/9_1_retrain.py first, or pass --model DIR.")
    try:
        labels = [line.strip() for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as error:
        raise tfcourse.CourseError(f"Cannot read the labels {labels_file}: {error.strerror}.\n"
                                   "Remedy: pass --labels output_labels.txt (written by 9_1_retrain.py).") from None
    model = tf.saved_model.load(str(args.model))
    classify = model.signatures["serving_default"]
    saved_labels = [s.decode("utf-8") for s in model.labels.numpy()]
    if saved_labels != labels:
        raise tfcourse.CourseError(f"{labels_file} does not belong to {args.model}: it lists {labels}, "
                                   f"the model was trained on {saved_labels}.\nRemedy: use the labels file "
                                   "written together with the model.")

    # ## The pictures (non-pictures are reported, not fatal)
    pictures, skipped = find_pictures(args.images)
    for path, reason in skipped:
        print(f"WARNING: skipped {path}: {reason}")
    if not pictures:
        raise tfcourse.CourseError("No pictures to classify.\nRemedy: pass JPEG/PNG/GIF files or a folder "
                                   "of them with --images.")

    # ## Classify: one picture at a time, as the lesson, so a damaged one is skipped on its own
    top_k = args.top_k if args.top_k > 0 else len(labels)
    shown = []
    for path, data in pictures:
        with tfcourse.quiet_stderr():  # libjpeg writes its complaints straight to stderr
            try:
                predictions = np.squeeze(classify(tf.constant([data]))["final_result"].numpy())
            except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
                predictions = None
        if predictions is None:
            print(f"WARNING: skipped {path}: cannot be decoded (a damaged or truncated image)")
            continue
        print(path)
        for node_id in predictions.argsort()[::-1][:top_k]:
            print("%s (score = %.5f)" % (labels[node_id], predictions[node_id]))
        print()
        shown.append((path, data, labels[int(predictions.argmax())], float(predictions.max())))

    # ## One picture of them all, each titled with its best class
    import matplotlib.pyplot as plt
    use_cjk_font()
    columns = min(len(shown), 5)
    rows = max(1, -(-len(shown) // max(columns, 1)))
    fig, axes = plt.subplots(rows, max(columns, 1), figsize=(2.6 * max(columns, 1), 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (path, data, label, score) in zip(axes.ravel(), shown):
        ax.imshow(tf.io.decode_image(data, channels=3, expand_animations=False).numpy())
        ax.set_title(f"{path.parent.name}/{path.name}\n{label} {score:.2f}", fontsize=8)
    tfcourse.save_figure(fig, run.path("predictions.png"), show=args.show)
    print(f"Classified {len(shown)} picture(s) with {args.model}; device: {run.device}")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
