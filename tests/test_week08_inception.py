"""Week 8, lessons 8-3 and 8-4, offline: a tiny stand-in Inception archive served on 127.0.0.1.

`tfcourse.inception.tiny_archive()` has the real archive's file names and the real graph's tensor
names (DecodeJpeg/contents:0 -> ... -> softmax:0); its classes 1, 2, 3 win for mostly red, green
and blue pictures, so a test can check that the top label is the right one.
"""
import hashlib
import io
import json
import re
import tarfile

import numpy as np
import pytest
from PIL import Image

from tfcourse import inception
from lesson_runner import run_lesson

DOWNLOAD = "week08_save_inception/8_3_download_inception.py"
CLASSIFY = "week08_save_inception/8_4_inception_classify.py"
SCORE_LINE = re.compile(r"^(.*) \(score = (\d\.\d{5})\)$")


@pytest.fixture(scope="module")
def tiny():
    # 200 KB of noise makes it bigger than the downloader's 64 KB blocks, so a cut can be resumed
    noise = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    return inception.tiny_archive(extra_members=[("noise.bin", noise)])


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


def test_8_3_then_8_4_end_to_end_from_a_mirror_with_a_cut(server, tiny, tmp_path):
    path = "/mirror/" + inception.ARCHIVE_NAME
    server.files[path] = tiny
    server.truncate_next[path] = 150_000  # the first response breaks off
    model_dir = tmp_path / "models"
    code, out, err = run_lesson(DOWNLOAD, "--inception-url", server.url("/mirror/"),
                                "--model-dir", model_dir, "--out", tmp_path / "run3")
    assert code == 0, err
    assert "download:  inception-2015-12-05.tgz" in out and "finish:  inception-2015-12-05.tgz" in out
    resumed = [int(r[6:-1]) for p, r in server.requests if p == path and r]
    assert len(resumed) == 1 and 0 < resumed[0] <= 150_000  # resumed where it broke off, not restarted
    assert (model_dir / inception.ARCHIVE_NAME).read_bytes() == tiny
    for name in inception.NEEDED_FILES:
        assert (model_dir / inception.FOLDER_NAME / name).is_file()
    assert list((tmp_path / "run3" / "inception_log").glob("events.out.tfevents.*"))
    assert re.search(r"softmax:0\s+float32\s+\(1, 8\)", out)
    assert "tensorboard --logdir" in out

    requests_before = len(server.requests)
    images = write_images(tmp_path / "images")
    code, out, err = run_lesson(CLASSIFY, "--images", images, "--model-dir", model_dir, "--out", tmp_path / "run4")
    assert len(server.requests) == requests_before  # the extracted model is reused
    top = blocks(out)
    assert set(top) == {"red.jpg", "green.png", "blue.bmp"}
    assert all(len(labels) == 5 for labels in top.values())
    assert top["red.jpg"][0][0] == "red thing" and top["red.jpg"][0][1] > 0.5
    assert top["green.png"][0][0] == "green thing"  # PNG converted to JPEG bytes
    assert top["blue.bmp"][0][0] == "blue thing"
    scores = [score for _, score in top["red.jpg"]]
    assert scores == sorted(scores, reverse=True)
    assert code == 1  # notes.txt could not be classified ...
    assert "notes.txt" in out and "notes.txt" in err  # ... and it is reported, the rest still done
    assert (tmp_path / "run4" / "contact_sheet_graph.png").stat().st_size > 1000


def test_8_4_good_folder_exits_0_and_downloads_itself(server, tiny, tmp_path, monkeypatch):
    server.files["/google/" + inception.ARCHIVE_NAME] = tiny  # no mirror: Google's URL (local here)
    images = write_images(tmp_path / "images", bad=False)
    code, out, err = run_lesson(CLASSIFY, "--images", images, "--model-dir", tmp_path / "m", "--out", tmp_path / "o")
    assert code == 0, err
    assert "download:  inception-2015-12-05.tgz" in out
    assert len(blocks(out)) == 3


def test_mirror_from_environment_variable(server, tiny, tmp_path, monkeypatch):
    server.files["/env/inception.tgz"] = tiny
    monkeypatch.setenv(inception.ENV_URL, server.url("/env/inception.tgz"))
    code, out, err = run_lesson(DOWNLOAD, "--model-dir", tmp_path / "m", "--out", tmp_path / "o")
    assert code == 0, err
    assert [p for p, _ in server.requests] == ["/env/inception.tgz"]


def test_truncated_download_is_not_kept(server, tiny, tmp_path):
    server.files["/mirror/" + inception.ARCHIVE_NAME] = tiny[:len(tiny) // 2]  # a short file, sent whole
    model_dir = tmp_path / "m"
    code, out, err = run_lesson(DOWNLOAD, "--inception-url", server.url("/mirror/"),
                                "--model-dir", model_dir, "--out", tmp_path / "o")
    assert code != 0
    assert f"expected {len(tiny)}" in err
    assert "--archive" in err and "TFCOURSE_INCEPTION_URL" in err  # what to do offline
    assert not (model_dir / inception.ARCHIVE_NAME).exists()
    assert not list(model_dir.glob("*.part")) and not (model_dir / inception.FOLDER_NAME).exists()


def test_local_archive_with_dotdot_member_is_refused(server, tmp_path):
    evil = inception.tiny_archive(extra_members=[("../evil.txt", b"outside")])
    archive = tmp_path / "dl" / inception.ARCHIVE_NAME
    archive.parent.mkdir()
    archive.write_bytes(evil)
    inception.ARCHIVE_SIZE = len(evil)  # restored by the fixture's monkeypatch
    model_dir = tmp_path / "deep" / "m"
    code, out, err = run_lesson(DOWNLOAD, "--archive", archive, "--model-dir", model_dir, "--out", tmp_path / "o")
    assert code != 0
    assert "../evil.txt" in err
    assert not list(tmp_path.rglob("evil.txt"))
    assert not (model_dir / inception.FOLDER_NAME).exists()
    assert server.requests == []  # --archive: nothing downloaded


def test_local_archive_of_wrong_size_is_refused(server, tiny, tmp_path):
    archive = tmp_path / "x.tgz"
    archive.write_bytes(tiny + b"\0" * 10)
    code, out, err = run_lesson(DOWNLOAD, "--archive", archive, "--model-dir", tmp_path / "m", "--out", tmp_path / "o")
    assert code != 0 and "bytes" in err and "download it again" in err


def test_8_4_keras_model_with_random_weights(tmp_path, monkeypatch):
    # Keras's class index, where Keras keeps it ($KERAS_HOME points to an empty folder in tests)
    index = {str(i): [f"n{i:08d}", f"keras_class_{i}"] for i in range(1000)}
    raw = json.dumps(index).encode()
    (inception.default_dir()).mkdir(parents=True, exist_ok=True)
    (inception.default_dir() / "imagenet_class_index.json").write_bytes(raw)
    monkeypatch.setattr(inception, "KERAS_CLASS_INDEX_MD5", hashlib.md5(raw).hexdigest())
    images = tmp_path / "images"  # one picture: building and tracing InceptionV3 is what costs
    images.mkdir()
    Image.fromarray(np.full((50, 50, 3), (20, 220, 30), np.uint8)).save(images / "green.png")
    code, out, err = run_lesson(CLASSIFY, "--model", "keras", "--keras-weights", "none",
                                "--images", images, "--out", tmp_path / "o")
    assert code == 0, err
    top = blocks(out)
    assert set(top) == {"green.png"}
    for labels in top.values():
        assert len(labels) == 5 and all(re.fullmatch(r"keras class \d+", name) for name, _ in labels)
        assert 0 < sum(score for _, score in labels) <= 1.0
    assert (tmp_path / "o" / "contact_sheet_keras.png").is_file()


def test_8_4_without_images_says_where_to_put_them(tmp_path):
    code, out, err = run_lesson(CLASSIFY, "--images", tmp_path / "nothing", "--out", tmp_path / "o")
    assert code != 0 and "put your photos" in err and str(tmp_path / "nothing") in err


def test_node_lookup_reads_the_label_file_formats(tmp_path):
    (tmp_path / inception.LABEL_MAP_FILE).write_text(
        '# -*- protobuffer -*-\nentry {\n  target_class: 449\n  target_class_string: "n01440764"\n}\n'
        'entry {\n  target_class: 1\n  target_class_string: "n09999999"\n}\n')
    (tmp_path / inception.UID_NAMES_FILE).write_text(
        "n00004475\torganism, being\nn01440764\ttench, Tinca tinca\nn09999999\tsomething else\n")
    lookup = inception.NodeLookup.from_folder(tmp_path)
    assert len(lookup) == 2
    assert lookup.id_to_string(449) == "tench, Tinca tinca"
    assert lookup.id_to_string(np.int64(1)) == "something else"
    assert lookup.id_to_string(0) == ""  # ids without a class: empty, as in the course


def test_node_lookup_rejects_a_uid_without_a_name(tmp_path):
    (tmp_path / inception.LABEL_MAP_FILE).write_text('entry {\n  target_class: 3\n  target_class_string: "n1"\n}\n')
    (tmp_path / inception.UID_NAMES_FILE).write_text("n2\tother\n")
    with pytest.raises(inception.CourseError, match="n1"):
        inception.NodeLookup.from_folder(tmp_path)


def test_jpeg_bytes_keeps_jpeg_converts_png_and_rejects_junk(tmp_path):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a.jpg")
    Image.fromarray(np.zeros((8, 8, 4), np.uint8)).save(tmp_path / "b.png")  # RGBA
    (tmp_path / "c.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    assert inception.jpeg_bytes(tmp_path / "a.jpg") == (tmp_path / "a.jpg").read_bytes()
    assert inception.jpeg_bytes(tmp_path / "b.png")[:3] == b"\xff\xd8\xff"
    with pytest.raises(ValueError):
        inception.jpeg_bytes(tmp_path / "c.jpg")


def test_tiny_archive_has_the_real_layout(tiny):
    with tarfile.open(fileobj=io.BytesIO(tiny)) as tar:
        assert set(inception.NEEDED_FILES) <= set(tar.getnames())


def test_8_4_graph_as_a_tf2_function_gives_the_sessions_answers(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(inception, "ARCHIVE_SIZE", len(tiny))
    archive = tmp_path / inception.ARCHIVE_NAME
    archive.write_bytes(tiny)
    images = write_images(tmp_path / "images", bad=False)
    results = {}
    for api in ("v1", "v2"):
        code, out, err = run_lesson(CLASSIFY, "--api", api, "--archive", archive, "--images", images,
                                    "--model-dir", tmp_path / "m", "--out", tmp_path / api)
        assert code == 0, err
        results[api] = blocks(out)
    assert results["v1"] == results["v2"] and results["v2"]["blue.bmp"][0][0] == "blue thing"
