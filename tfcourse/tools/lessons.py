"""`python -m tfcourse lessons`: the lesson map in the videos' order (9-retrain makes the model
9-1 tests), titles read from each docstring's first line without running anything:

    Lesson 3-2 MNIST数据集分类简单版本 — MNIST, the simple version.
"""
import ast
import re
from pathlib import Path

from tfcourse.cli import PROJECT_ROOT

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
    return sorted(p.relative_to(root).as_posix() for p in root.glob("week[0-9][0-9]_*/[!_]*.py"))


def read_header(script):
    """(number, Chinese title, English title) from a script's docstring, or None."""
    doc = ast.get_docstring(ast.parse(Path(script).read_text(encoding="utf-8"))) or ""
    match = HEADER.match(doc.strip().splitlines()[0] if doc.strip() else "")
    return (match["number"], match["title"], match["english"]) if match else None


def lessons(root=PROJECT_ROOT):
    """[(number, script path, Chinese title, English title)] in course order, of the scripts on
    disk; one missing from COURSE_ORDER comes last (a test fails then)."""
    on_disk, found = lesson_files(root), []
    for path in [p for p in COURSE_ORDER if p in on_disk] + sorted(set(on_disk) - {*COURSE_ORDER}):
        header = read_header(root / path)
        if header is None:
            raise ValueError(f"{path}: its docstring must start with "
                             "'Lesson <number> <中文标题> — <English title>.'")
        found.append((header[0], path, *header[1:]))
    return found


def main(argv=()):
    for number, path, title, _ in lessons():
        print(f"{number}\t{path}\t{title}")
    return 0
