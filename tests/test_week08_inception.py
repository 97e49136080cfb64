"""Week 8, lessons 8-3, 8-4 and 8-4b, offline: a stand-in Inception archive served on 127.0.0.1.

`inception_standin.archive()` has the real archive's file names, the real graph's tensor names,
its old ops (BatchNormWithGlobalNormalization, Concat) and its GraphDef version 5, so the lessons
run the code path the real graph takes. Its classes 1, 2, 3 win for mostly red, green and blue
pictures, so a test can check the top label. Keras's InceptionV3 is replaced by a tiny model of the
same interface (its weights cannot be downloaded here, and building the real one costs seconds).
"""
import json
import os
import re
import sys
from pathlib import Path
import stat

import numpy as np
import pytest
from PIL import Image

import inception_standin
import tfcourse
from lesson_runner import PROJECT_ROOT, run_lesson

sys.path.insert(0, str(PROJECT_ROOT / "week08_save_inception"))
import _inception as inception  # noqa: E402  (week 8's plumbing: its URL and size are patched)

DOWNLOAD = "week08_save_inception/8_3_download_inception.py"
CLASSIFY = "week08_save_inception/8_4_inception_classify.py"
KERAS = "week08_save_inception/8_4b_keras_inception.py"
SCORE_LINE = re.compile(r"^(.*) \(score = (\d\.\d{5})\)$")


@pytest.fixture(scope="module")
def tiny():
    # 200 KB of noise makes it bigger than the downloader's blocks, so a cut can be resumed
    noise = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    return inception_standin.archive(extra_members=[("noise.bin", noise)])


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    monkeypatch.setattr(inception, "DOWNLOAD_BACKOFF", 0.0)


@pytest.fixture
def server(file_server, tiny, monkeypatch):
    """The file server as Google's URL (which 404s unless a test serves it) and the archive size."""
    monkeypatch.setattr(inception, "URL", file_server.url("/google/" + inception.ARCHIVE_NAME))
    monkeypatch.setattr(inception, "ARCHIVE_SIZE", len(tiny))
    monkeypatch.delenv(inception.ENV_URL, raising=False)
    return file_server


def write_images(folder, bad=True):
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((60, 80, 3), (230, 25, 20), np.uint8)).save(folder / "red.jpg")
    Image.fromarray(np.full((50, 50, 3), (20, 220, 30), np.uint8)).save(folder / "green.png")
    (folder / "sub").mkdir(exist_ok=True)
    Image.fromarray(np.full((40, 30, 3), (10, 30, 240), np.uint8)).save(folder / "sub" / "blue.bmp")
    if bad:
        (folder / "notes.txt").write_text("not a picture")
    return folder


def blocks(out):
    """{file name: [(label, score), ...]} from 8-4's output."""
    found, current = {}, None
    for line in out.splitlines():
        match = SCORE_LINE.match(line)
        if match and current is not None:
            found[current].append((match.group(1), float(match.group(2))))
        elif line.strip() and not match:
            current = line.strip().replace("\\", "/").rsplit("/", 1)[-1]
            found.setdefault(current, [])
    return {name: top for name, top in found.items() if top}


def leftovers(folder):
    return [p.name for p in folder.rglob("*") if re.search(r"\.part$|partial|\.tmp", p.name)]


def refused(result, phrase, code=1):
    exit_code, out, err = result
    assert exit_code == code and "Traceback" not in err, err
    assert phrase in err, err


def test_8_3_then_8_4_end_to_end_from_a_mirror_with_a_cut(server, tiny, tmp_path):
    path = "/mirror/" + inception.ARCHIVE_NAME
    server.files[path] = tiny
    server.truncate_next[path] = 150_000  # the first response breaks off
    model_dir = tmp_path / "models"
    code, out, err = run_lesson(DOWNLOAD, "--inception-url", server.url("/mirror/"),
                                "--model-dir", model_dir, "--out", tmp_path / "run3")
    assert code == 0, err
    assert "download:  inception-2015-12-05.tgz" in out
    assert "finish:  inception-2015-12-05.tgz" in out
    resumed = [int(r[6:-1]) for p, r in server.requests if p == path and r]
    assert len(resumed) == 1 and 0 < resumed[0] <= 150_000  # resumed, not restarted
    assert (model_dir / inception.ARCHIVE_NAME).read_bytes() == tiny
    extracted = model_dir / inception.FOLDER_NAME
    assert all((extracted / name).is_file() for name in inception.NEEDED_FILES)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(extracted.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700
    assert list((tmp_path / "run3" / "inception_log").glob("events.out.tfevents.*"))
    assert re.search(r"softmax:0\s+float32\s+\(1, 8\)", out) and "GraphDef version 5" in out
    assert f"tensorboard --logdir {tmp_path / 'run3' / 'inception_log'} --host 127.0.0.1" in out
    assert leftovers(tmp_path) == []

    requests_before = len(server.requests)
    images = write_images(tmp_path / "images")
    code, out, err = run_lesson(CLASSIFY, "--data-dir", images, "--model-dir", model_dir,
                                "--out", tmp_path / "run4")
    assert len(server.requests) == requests_before  # the extracted model is reused
    top = blocks(out)
    assert set(top) == {"red.jpg", "green.png", "blue.bmp"}
    assert all(len(t) == 5 for t in top.values())
    assert top["red.jpg"][0][0] == "red thing" and top["red.jpg"][0][1] > 0.5
    assert top["green.png"][0][0] == "green thing"  # PNG re-encoded as JPEG
    assert top["blue.bmp"][0][0] == "blue thing"
    scores = [score for _, score in top["red.jpg"]]
    assert scores == sorted(scores, reverse=True)
    refused((code, out, err), "notes.txt")  # not an image: reported, exit 1, the rest still done
    assert "1 of 4 files are not readable images" in err
    assert (tmp_path / "run4" / "contact_sheet.png").stat().st_size > 1000

    # The 2015 graph's BatchNormWithGlobalNormalization is refused inside a function (GraphDef
    # version 2000+): --api v2 must rewrite it, and give the Session's scores to the digit.
    (images / "notes.txt").unlink()
    code, out, err = run_lesson(CLASSIFY, "--api", "v2", "--data-dir", images,
                                "--model-dir", model_dir, "--out", tmp_path / "run4 v2")
    assert code == 0, err
    assert blocks(out) == top and "完成 Done: lesson 8-4" in out


def test_8_4_downloads_itself_from_the_mirror_in_the_environment(server, tiny, tmp_path,
                                                                  monkeypatch):
    server.files["/env/inception.tgz"] = tiny
    monkeypatch.setenv(inception.ENV_URL, server.url("/env/inception.tgz"))
    images = write_images(tmp_path / "images", bad=False)
    code, out, err = run_lesson(CLASSIFY, "--data-dir", images, "--model-dir", tmp_path / "m",
                                "--out", tmp_path / "o")
    assert code == 0, err
    assert [p for p, _ in server.requests] == ["/env/inception.tgz"]
    assert "download:  inception-2015-12-05.tgz" in out and len(blocks(out)) == 3


# ------------------------------------------------------- bad input: one message, nothing left

def test_truncated_download_is_not_kept(server, tiny, tmp_path):
    server.files["/mirror/" + inception.ARCHIVE_NAME] = tiny[:len(tiny) // 2]  # short, sent whole
    model_dir = tmp_path / "m"
    result = run_lesson(DOWNLOAD, "--inception-url", server.url("/mirror/"),
                        "--model-dir", model_dir, "--out", tmp_path / "o")
    refused(result, f"expected {len(tiny)}")
    assert "TFCOURSE_INCEPTION_URL" in result[2]  # what to do offline: a mirror, or by hand
    assert str(model_dir / inception.ARCHIVE_NAME) in result[2]
    assert list(model_dir.iterdir()) == [] and leftovers(tmp_path) == []


def test_offline_says_what_was_tried_and_where_to_put_the_file(server, dead_url, tmp_path):
    result = run_lesson(DOWNLOAD, "--inception-url", dead_url, "--model-dir", tmp_path / "m",
                        "--out", tmp_path / "o")
    refused(result, "Could not download inception-2015-12-05.tgz")
    assert dead_url in result[2] and str(tmp_path / "m" / inception.ARCHIVE_NAME) in result[2]
    assert leftovers(tmp_path) == [] and not (tmp_path / "m" / inception.FOLDER_NAME).exists()


BAD_ARCHIVES = {
    "dotdot member": (dict(extra_members=[("../evil.txt", b"outside")]), "../evil.txt"),
    "graph of version 9": (dict(producer=9),
                           "declares GraphDef version 9 but uses BatchNormWithGlobalNormalization"),
    "damaged graph": (dict(graph_bytes=b"\x0a\xff\xff not a protobuf"),
                      "is not the 2015 Inception-v3 graph (Error parsing message"),
}


@pytest.mark.parametrize("case", BAD_ARCHIVES)
def test_bad_local_archive_is_refused(server, tmp_path, monkeypatch, case):
    kwargs, phrase = BAD_ARCHIVES[case]
    data = inception_standin.archive(**kwargs)
    monkeypatch.setattr(inception, "ARCHIVE_SIZE", len(data))
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / inception.ARCHIVE_NAME).write_bytes(data)  # downloaded by hand, put there
    result = run_lesson(DOWNLOAD, "--model-dir", model_dir, "--out", tmp_path / "o")
    refused(result, phrase)
    assert "Nothing of it was kept" in result[2] and "again" in result[2]  # the remedy
    assert server.requests == []  # the file of the right size is used: nothing downloaded
    assert not list(tmp_path.rglob("evil.txt")) and leftovers(tmp_path) == []
    assert list(model_dir.iterdir()) == []  # neither the archive nor its extracted folder


def test_downloaded_archive_with_a_bad_graph_is_not_kept(server, tmp_path, monkeypatch):
    data = inception_standin.archive(producer=21)  # re-exported, still using the removed op
    monkeypatch.setattr(inception, "ARCHIVE_SIZE", len(data))
    server.files["/mirror/" + inception.ARCHIVE_NAME] = data
    model_dir = tmp_path / "m"
    result = run_lesson(DOWNLOAD, "--inception-url", server.url("/mirror/"),
                        "--model-dir", model_dir, "--out", tmp_path / "o")
    refused(result, "declares GraphDef version 21 but uses BatchNormWithGlobalNormalization")
    assert "Nothing of it was kept" in result[2]
    assert list(model_dir.iterdir()) == []  # downloaded again next time


def test_archive_of_the_wrong_size_is_named(server, tiny, tmp_path):
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / inception.ARCHIVE_NAME).write_bytes(tiny + b"\0" * 10)  # downloaded by hand
    code, out, err = run_lesson(DOWNLOAD, "--model-dir", model_dir, "--out", tmp_path / "o")
    assert re.search(rf"\b{len(tiny) + 10} bytes\b.*\b{len(tiny)}\b", out), out  # what is wrong
    refused((code, out, err), "Could not download inception-2015-12-05.tgz")  # none served here
    assert str(model_dir / inception.ARCHIVE_NAME) in err  # where to put a good one
    assert list(model_dir.iterdir()) == []  # the wrong file is not used, nor kept


@pytest.mark.parametrize("case", ["no folder", "empty folder"])
def test_8_4_without_images_says_where_to_put_them(tmp_path, case):
    folder = tmp_path / "pictures"
    if case == "empty folder":
        folder.mkdir()
        (folder / ".gitkeep").write_text("")
    result = run_lesson(CLASSIFY, "--data-dir", folder, "--out", tmp_path / "o")
    refused(result, f"{folder} holds no images")
    assert "--data-dir DIR" in result[2]
    assert not (tmp_path / "o").exists()  # a run folder with nothing of its own is removed


# ------------------------------------------------------------- the lesson's NodeLookup

@pytest.fixture
def model_with_labels(tmp_path):
    """The stand-in graph with label files the test writes: (folder, write(label_map, names))."""
    folder = inception_standin.extracted(tmp_path / "inception_model")

    def write(label_map, names):
        (folder / "imagenet_2012_challenge_label_map_proto.pbtxt").write_text(label_map)
        (folder / "imagenet_synset_to_human_label_map.txt").write_text(names)
        return folder
    return write


def test_node_lookup_reads_the_label_file_formats(tmp_path, model_with_labels):
    model_dir = model_with_labels(
        '# -*- protobuffer -*-\nentry {\n  target_class: 1\n  target_class_string: "n01440764"\n}'
        '\nentry {\n  target_class: 3\n  target_class_string: "n09999999"\n}\n',
        "n00004475\torganism, being\nn01440764\ttench, Tinca tinca\nn09999999\tsomething else\n")
    images = write_images(tmp_path / "images", bad=False)
    code, out, err = run_lesson(CLASSIFY, "--data-dir", images, "--model-dir", model_dir,
                                "--top-k", "8", "--out", tmp_path / "o")
    assert code == 0, err
    assert "2 class names" in out
    top = blocks(out)
    assert top["red.jpg"][0][0] == "tench, Tinca tinca"  # class 1 wins for red
    assert top["blue.bmp"][0][0] == "something else"  # class 3 wins for blue
    assert [name for name, _ in top["red.jpg"]].count("") == 6  # ids without a class: empty


LABEL_DAMAGE = {
    "a uid without a name": ('entry {\n  target_class: 3\n  target_class_string: "n1"\n}\n',
                             "n2\tother\n", "has no name for n1"),
    "no entries at all": ("# nothing here\n", "n1\tone\n", "has no name for any class"),
    "a class id that is not a number": ('entry {\n  target_class: three\n}\n', "n1\tone\n",
                                        "invalid literal for int()"),
}


@pytest.mark.parametrize("case", LABEL_DAMAGE)
def test_8_4_damaged_label_files_are_one_message(tmp_path, model_with_labels, case):
    label_map, names, phrase = LABEL_DAMAGE[case]
    model_dir = model_with_labels(label_map, names)
    result = run_lesson(CLASSIFY, "--data-dir", write_images(tmp_path / "images"),
                        "--model-dir", model_dir, "--out", tmp_path / "o")
    refused(result, f"The label files in {model_dir} are damaged")
    assert phrase in result[2] and "run lesson 8-3 again" in result[2]
    assert not (tmp_path / "o").exists()


GRAPH_DAMAGE = {  # the model folder's graph file -> the phrase of the lessons' message
    "cut short": (lambda good: good[:len(good) // 2], "is not a GraphDef"),
    "not a graph": (lambda good: b"\x0a\xff\xff not a protobuf", "is not a GraphDef"),
    "another model's graph": (lambda good: inception_standin.graph_def().SerializeToString()
                              .replace(b"softmax", b"softwax"), "lacks \"The name 'softmax:0'"),
}


@pytest.mark.parametrize("lesson", [DOWNLOAD, CLASSIFY])
@pytest.mark.parametrize("case", GRAPH_DAMAGE)
def test_a_damaged_graph_in_the_model_folder_is_named(tmp_path, lesson, case):
    damage, phrase = GRAPH_DAMAGE[case]
    model_dir = inception_standin.extracted(tmp_path / "inception_model")
    graph = model_dir / "classify_image_graph_def.pb"
    graph.write_bytes(damage(graph.read_bytes()))
    flags = ["--model-dir", model_dir, "--out", tmp_path / "o"]
    if lesson == CLASSIFY:  # 8-3 has no --data-dir
        flags += ["--data-dir", write_images(tmp_path / "images", bad=False)]
    result = run_lesson(lesson, *flags)
    refused(result, phrase)
    assert f"delete {model_dir}" in result[2] and graph.exists()  # the learner decides
    assert not (tmp_path / "o").exists()


# ------------------------------------------------- flags: ranges (class 3), kinds of path (7)

BAD_FLAGS = {  # case: (flag, value, phrase); FILE is made by the test
    "--model-dir a file": ("--model-dir", "FILE", "FILE is a file, not a folder"),
    "--data-dir a file": ("--data-dir", "FILE", "FILE is a file, not a folder"),
    "--out a file": ("--out", "FILE", "FILE is a file, not a folder"),
    "--top-k 0": ("--top-k", "0", "expected a whole number from 1"),
    "--top-k 2000": ("--top-k", "2000", "expected a whole number from 1 to 10"),
    "--max-images 0": ("--max-images", "0", "expected a whole number above 0"),
    "--seed -1": ("--seed", "-1", "expected a whole number from 0"),
}
FLAGS_OF = {DOWNLOAD: ["--model-dir", "--out", "--seed"],
            CLASSIFY: ["--model-dir", "--out", "--seed", "--data-dir", "--top-k", "--max-images"],
            KERAS: ["--out", "--seed", "--data-dir", "--top-k", "--max-images"]}


@pytest.mark.parametrize("lesson, case", [(lesson, case) for lesson in FLAGS_OF
                                          for case in BAD_FLAGS
                                          if BAD_FLAGS[case][0] in FLAGS_OF[lesson]])
def test_wrong_flags_stop_at_parse(tmp_path, lesson, case):
    file = tmp_path / "a file.txt"
    file.write_text("x")
    flag, value, phrase = BAD_FLAGS[case]
    value, phrase = value.replace("FILE", str(file)), phrase.replace("FILE", str(file))
    before = sorted(tmp_path.rglob("*"))
    code, out, err = run_lesson(lesson, flag, value)
    assert code == 2 and f"argument {flag}" in err and phrase in err, err
    assert "Traceback" not in err and sorted(tmp_path.rglob("*")) == before  # nothing made


# ---------------------------------------------------------------- 8-4b: Keras's InceptionV3

@pytest.fixture
def fake_keras_inception(monkeypatch, tmp_path):
    """A tiny model in place of tf.keras.applications.InceptionV3 (same input and output shapes),
    and Keras's files taken from tmp_path instead of downloaded. Returns the calls it got."""
    import tensorflow as tf
    calls = []

    def InceptionV3(include_top=True, weights="imagenet", input_shape=None, pooling=None):
        calls.append(dict(include_top=include_top, weights=weights, pooling=pooling))
        return tf.keras.Sequential([tf.keras.Input(input_shape or (299, 299, 3)),
                                    tf.keras.layers.GlobalAveragePooling2D(),
                                    tf.keras.layers.Dense(1000, activation="softmax")])

    def download(urls, dest, **checks):
        calls.append(dict(dest=Path(dest).name, **checks))
        return tmp_path / Path(dest).name

    monkeypatch.setattr(tf.keras.applications, "InceptionV3", InceptionV3)
    monkeypatch.setattr(tfcourse, "download", download)
    return calls


def test_8_4b_keras_model_prints_the_lessons_format(tmp_path, fake_keras_inception):
    index = {str(i): [f"n{i:08d}", f"keras_class_{i}"] for i in range(1000)}
    (tmp_path / "imagenet_class_index.json").write_text(json.dumps(index))
    images = write_images(tmp_path / "images")
    code, out, err = run_lesson(KERAS, "--data-dir", images, "--top-k", "3",
                                "--out", tmp_path / "o")
    weights = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    assert fake_keras_inception[0] == dict(dest=weights, size=96_112_376,
                                           md5="9a0d58056eeedaa3f26cb7ebd46da564")
    assert fake_keras_inception[1]["dest"] == "imagenet_class_index.json"
    assert fake_keras_inception[2] == dict(include_top=True, weights=str(tmp_path / weights),
                                           pooling=None)
    top = blocks(out)
    assert set(top) == {"red.jpg", "green.png", "blue.bmp"}  # PNG and BMP decoded directly
    for labels in top.values():
        assert len(labels) == 3
        assert all(re.fullmatch(r"keras class \d+", name) for name, _ in labels)
        assert 0 < sum(score for _, score in labels) <= 1.0
    refused((code, out, err), "notes.txt")


def test_8_4b_damaged_class_index_is_named(tmp_path, fake_keras_inception):
    (tmp_path / "imagenet_class_index.json").write_text('{"0": ["n0", "tench"]')  # cut short
    result = run_lesson(KERAS, "--data-dir", write_images(tmp_path / "images"),
                        "--out", tmp_path / "o")
    refused(result, "is not Keras's class index")
    assert "delete it" in result[2]
