"""The lesson map, in course order: `python -m tfcourse lessons`.

The order is written out below (the order of the videos, not of file names: 9-retrain makes the
model that 9-1 tests). Each script's docstring opens with its header line

    Lesson 3-2 MNIST数据集分类简单版本 — MNIST, the simple version.

and the titles are read from there without importing anything (no TensorFlow), so the map is fast.
A test checks that this list and the lesson files agree.
"""
import ast
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HEADER = re.compile(r"^Lesson\s+(?P<number>\d+-[\w-]+)\s+(?P<title>.+?)\s+—\s+(?P<english>.+?)\.?$")

COURSE_ORDER = [
    "week02_basics/2_1_graph_session.py",
    "week02_basics/2_2_variables.py",
    "week02_basics/2_3_fetch_feed.py",
    "week02_basics/2_4_simple_example.py",
    "week03_regression/3_1_nonlinear_regression.py",
    "week03_regression/3_2_mnist_simple.py",
    "week04_softmax_dropout_optimizers/4_1_cross_entropy.py",
    "week04_softmax_dropout_optimizers/4_2_dropout.py",
    "week04_softmax_dropout_optimizers/4_3_optimizers.py",
    "week04_softmax_dropout_optimizers/4_3b_optimizer_race.py",
    "week04_softmax_dropout_optimizers/5_1_homework_98.py",
    "week05_tensorboard/5_2_tensorboard_graph.py",
    "week05_tensorboard/5_3_tensorboard_running.py",
    "week05_tensorboard/5_4_tensorboard_projector.py",
    "week06_cnn_mnist/6_1_cnn_mnist.py",
    "week06_cnn_mnist/7_1_cnn_tensorboard.py",
    "week07_lstm/7_2_lstm_mnist.py",
    "week08_save_inception/8_1_saver_save.py",
    "week08_save_inception/8_2_saver_restore.py",
    "week08_save_inception/8_3_download_inception.py",
    "week08_save_inception/8_4_inception_classify.py",
    "week08_save_inception/8_4b_keras_inception.py",
    "week09_gpu_transfer/9_0_check_gpu.py",
    "week09_gpu_transfer/9_1_retrain.py",
    "week09_gpu_transfer/9_1_test_retrained.py",
    "week09_gpu_transfer/9_2_images_to_tfrecord.py",
    "week09_gpu_transfer/9_2_train_own_model.py",
    "week09_gpu_transfer/9_3_distributed_cnn.py",
    "week10_captcha_tfrecord/10_1_generate_captcha.py",
    "week10_captcha_tfrecord/10_2_tfrecord.py",
    "week10_captcha_tfrecord/10_3_train.py",
    "week10_captcha_tfrecord/10_4_test.py",
    "week11_word2vec_textcnn/11_1_word2vec.py",
    "week11_word2vec_textcnn/11_2_text_cnn.py",
    "week12_textcnn_sound/12_1_text_cnn_word2vec.py",
    "week12_textcnn_sound/12_2_sound_gru.py",
]


def lesson_files(root=PROJECT_ROOT):
    """Every lesson script on disk: weekNN_*/*.py whose name does not start with `_`."""
    return sorted(p.relative_to(root).as_posix() for p in Path(root).glob("week[0-9][0-9]_*/*.py")
                  if not p.name.startswith("_"))


def read_header(script):
    """(number, Chinese title, English title) from a script's docstring, or None."""
    doc = ast.get_docstring(ast.parse(Path(script).read_text(encoding="utf-8"))) or ""
    match = HEADER.match(doc.strip().splitlines()[0] if doc.strip() else "")
    return (match["number"], match["title"], match["english"]) if match else None


def lessons(root=PROJECT_ROOT):
    """[(number, script path relative to root, Chinese title, English title)] in course order.

    Only scripts that exist are listed; one missing from COURSE_ORDER comes last (the test fails).
    """
    on_disk = lesson_files(root)
    ordered = [p for p in COURSE_ORDER if p in on_disk] + [p for p in on_disk if p not in COURSE_ORDER]
    found = []
    for path in ordered:
        header = read_header(Path(root) / path)
        if header is None:
            raise ValueError(f"{path}: its docstring must start with "
                             f"'Lesson <number> <中文标题> — <English title>.'")
        found.append((header[0], path, header[1], header[2]))
    return found


def main(argv=()):
    for number, path, title, _ in lessons():
        print(f"{number}\t{path}\t{title}")
    return 0
