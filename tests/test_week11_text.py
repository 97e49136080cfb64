"""Week 11 offline: word2vec on a Chinese text with planted neighbours (and text8 from a mirror),
the text CNN on English and Chinese sentences the tests make, in every encoding and layout a
learner's files come in, both data sets' downloads against a local server, and bad input."""
import hashlib
import io
import json
import random
import re
import sys
import tarfile
import zipfile

import numpy as np
import pytest

from lesson_runner import PROJECT_ROOT, run_keeping_globals, run_lesson

WEEK = "week11_word2vec_textcnn"
WORD2VEC, TEXT_CNN = f"{WEEK}/11_1_word2vec.py", f"{WEEK}/11_2_text_cnn.py"
sys.path.insert(0, str(PROJECT_ROOT / WEEK))
import _text  # noqa: E402  (the lessons' data module: its URLs and checksums are patched below)

# Words of one group only ever stand between the same two context words, so skip-gram must put
# them next to each other; the filler words around them are drawn at random.
GROUPS = {("in", "year"): ["one", "two", "three", "four"],
          ("truly", "film"): ["good", "great", "fine", "superb"],
          ("rather", "plot"): ["bad", "awful", "dull", "poor"]}
FILLER = [f"f{i}" for i in range(60)]
# The same in Chinese characters: 很X吃 (香甜鲜嫩), 太X了 (慢冷贵差), 第X天 (一二三四).
GROUPS_ZH = {("很", "吃"): list("香甜鲜嫩"), ("太", "了"): list("慢冷贵差"),
             ("第", "天"): list("一二三四")}
FILLER_ZH = [chr(0x4E00 + 1000 + i) for i in range(60)]  # 60 other characters


def planted_text(sentences=3000, seed=0, groups=GROUPS, filler=FILLER):
    rng, words = random.Random(seed), []
    for _ in range(sentences):
        (left, right), members = rng.choice(list(groups.items()))
        words += rng.choices(filler, k=rng.randint(1, 3)) + [left, rng.choice(members), right]
    return words


def polarity_lines(count, seed=0):
    """Positive lines hold one of good/great/fine/superb, negative ones bad/awful/dull/poor."""
    rng = random.Random(seed)

    def line(words):
        text = rng.choices(FILLER, k=rng.randint(3, 12))
        text.insert(rng.randrange(len(text) + 1), rng.choice(words))
        return " ".join(text)
    return ([line(GROUPS["truly", "film"]) for _ in range(count)],
            [line(GROUPS["rather", "plot"]) for _ in range(count)])


def chinese_reviews(count, seed=0):
    """(label, review) rows: positive reviews hold 好/棒/香/赞, negative ones 差/慢/冷/贵, among
    characters both share; a few Latin words too, as real reviews have."""
    rng = random.Random(seed)
    shared = list("的了是在我这那有个饭菜送餐店家外卖味道今天还") + [" ok ", " app "]
    rows = []
    for i in range(count):
        label = i % 2
        text = rng.choices(shared, k=rng.randint(4, 14))
        planted = "好棒香赞" if label else "差慢冷贵"
        for _ in range(2):
            text.insert(rng.randrange(len(text) + 1), rng.choice(planted))
        rows.append((label, "".join(text) + rng.choice(["，", "。", "！", ""])))
    return rows


def csv_text(rows, header=True):
    quoted = [(label, review.replace('"', '""')) for label, review in rows]  # CSV's quoting
    return ("label,review\n" if header else "") + "".join(f'{label},"{review}"\n'
                                                        for label, review in quoted)


# ## 11-1 word2vec

@pytest.fixture(scope="module")
def word2vec_run(tmp_path_factory):
    """11-1 on Chinese reviews (a CSV, GBK-encoded) whose characters have planted neighbours."""
    folder = tmp_path_factory.mktemp("zh")
    chars = planted_text(groups=GROUPS_ZH, filler=FILLER_ZH)
    rows = [(i % 2, "".join(chars[i:i + 40])) for i in range(0, len(chars), 40)]
    (folder / "reviews.csv").write_bytes(csv_text(rows).encode("gbk"))
    out = tmp_path_factory.mktemp("w2v") / "run"
    with pytest.MonkeyPatch.context() as patch:
        code, stdout, stderr, lesson = run_keeping_globals(
            patch, WORD2VEC, "--data-dir", folder / "reviews.csv", "--steps", "1001",
            "--embedding-size", "16", "--plot-only", "30", "--out", out)
    assert code == 0, stderr
    return out, stdout, lesson


def test_11_1_puts_planted_chinese_neighbours_together_and_saves_what_12_1_reads(word2vec_run):
    out, stdout, lesson = word2vec_run
    vectors = np.load(out / "embeddings.npy", allow_pickle=False)
    words = (out / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    assert vectors.shape == (len(words), 16) and words[0] == "UNK"
    assert len(words) == 1 + 6 + 12 + 60  # characters, not words: no "很香吃" token
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    in_group = 0
    for members in GROUPS_ZH.values():
        for word in members:
            nearest = [words[j] for j in np.argsort(-(vectors @ vectors[words.index(word)]))[1:4]]
            assert nearest[0] in members, (word, nearest)
            in_group += sum(n in members for n in nearest)
    assert in_group >= 30  # of 36
    # the course's lines, and the last "Nearest to" block agrees with the saved vectors
    assert re.search(r"^Average loss at step\s+1000\s+:\s+\d+\.\d+$", stdout, re.M)
    last = {}
    for word, nearest in re.findall(r"^Nearest to (\w+): ((?:\w+, ){7}\w+),$", stdout, re.M):
        last[word] = nearest.split(", ")
    assert len(last) == 16
    for word, nearest in last.items():
        expected = [words[j] for j in np.argsort(-(vectors @ vectors[words.index(word)]))[1:9]]
        assert nearest[:3] == expected[:3]
    assert (out / "projector" / "metadata.tsv").read_text(encoding="utf-8").splitlines() == words
    assert "metadata.tsv" in (out / "projector" / "projector_config.pbtxt").read_text()
    assert (out / "projector" / "checkpoint").is_file()
    assert (out / "tsne.png").stat().st_size > 10_000
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "finished" and record["progress"][-1]["step"] == 1000
    assert record["progress"][-1]["average_loss"] == pytest.approx(
        float(re.findall(r"^Average loss at step\s+1000\s+:\s+(\S+)$", stdout, re.M)[0]))


def test_11_1_tsne_keeps_each_planted_group_together(word2vec_run):
    """The NumPy t-SNE: nearly every planted word has its nearest point in the picture in its
    own group (a group may sit as two pairs; in a random layout a point's nearest is one of its 3
    group mates with odds 3 in 29, about 1 of the 12 words)."""
    _, _, lesson = word2vec_run
    points, words = lesson["low_dim_embs"], lesson["reverse_dictionary"][:30]
    assert points.shape == (30, 2) and np.isfinite(points).all()
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    nearest_in_group = {}
    for members in GROUPS_ZH.values():
        inside = [words.index(m) for m in members if m in words]
        assert len(inside) == 4
        nearest_in_group["".join(members)] = sum(distances[i].argmin() in inside for i in inside)
    assert sum(nearest_in_group.values()) >= 10, nearest_in_group


def zipped(text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("text8", text)
    return buffer.getvalue()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(_text, "DOWNLOAD_BACKOFF", 0)


def test_11_1_downloads_text8_from_a_mirror_and_checks_it(file_server, dead_url, fast_retries,
                                                          monkeypatch, tmp_path):
    text = " ".join(planted_text(200))
    archive = zipped(text)
    file_server.files["/mirror/text8.zip"] = archive
    monkeypatch.setattr(_text, "TEXT8_URLS", [dead_url])
    monkeypatch.setattr(_text, "TEXT8_SIZE", len(archive))
    monkeypatch.setattr(_text, "TEXT8_SHA256", hashlib.sha256(archive).hexdigest())
    monkeypatch.setattr(_text, "TEXT8_CHARS", len(text))
    code, out, err = run_lesson(WORD2VEC, "--mirror", file_server.url("/mirror/"), "--steps", "1",
                                "--embedding-size", "8", "--plot-only", "0",
                                "--out", tmp_path / "run")
    assert code == 0, err
    assert (_text.keras_cache_dir() / "text8.zip").read_bytes() == archive
    assert f"Data size {len(text.split())}" in out and "Nearest to" in out


def test_11_1_offline_says_what_to_download_and_where_to_put_it(dead_url, fast_retries,
                                                                monkeypatch, tmp_path):
    monkeypatch.setattr(_text, "TEXT8_URLS", [dead_url])
    code, out, err = run_lesson(WORD2VEC, "--steps", "1", "--out", tmp_path / "run")
    dest = _text.keras_cache_dir() / "text8.zip"
    assert code == 1 and "Traceback" not in err
    assert "Could not download text8" in err and dead_url in err and str(dest) in err
    assert "--data-dir" in err
    assert not dest.exists() and not list(dest.parent.glob("*.part"))
    assert not (tmp_path / "run").exists()


# ## 11-2 text CNN

def polarity_archive(positive, negative):
    """rt-polaritydata.tar.gz as its authors lay it out; the negative file in Latin-1."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("rt-polarity.pos", "\n".join(positive).encode("utf-8")),
                           ("rt-polarity.neg", "\n".join(negative).encode("latin-1"))):
            info = tarfile.TarInfo("rt-polaritydata/" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


SMALL = ("--embedding-dim", "16", "--num-filters", "8", "--lr", "0.01")  # small and quick


def test_11_2_downloads_the_polarity_data_reads_latin1_and_learns(file_server, fast_retries,
                                                                  monkeypatch, tmp_path):
    positive, negative = polarity_lines(300)
    positive[0] += " caf\u00e9"    # a word with an accent: UTF-8 here ...
    negative[0] += " na\u00efve"   # ... and Latin-1 in the negative file, like the original
    archive = polarity_archive(positive, negative)
    file_server.files["/rt-polaritydata.tar.gz"] = archive
    monkeypatch.setattr(_text, "POLARITY_URLS", [file_server.url("/rt-polaritydata.tar.gz")])
    monkeypatch.setattr(_text, "POLARITY_SIZE", len(archive))
    monkeypatch.setattr(_text, "POLARITY_SHA256", hashlib.sha256(archive).hexdigest())
    monkeypatch.setattr(_text, "POLARITY_LINES", 300)
    out = tmp_path / "run"
    code, stdout, err = run_lesson(TEXT_CNN, "--steps", "60", "--evaluate-every", "30", *SMALL,
                                   "--out", out)
    assert code == 0, err
    assert "300 positive, 300 negative" in stdout and "Train/Dev split: 540/60" in stdout
    # 60 fillers, 8 planted words, <PAD>, <UNK>, and caf, na, ve: clean_str drops é and ï
    assert "Vocabulary Size: 73" in stdout
    steps = re.findall(r"^\S+: step (\d+), loss [\d.e-]+, acc [\d.]+$", stdout, re.M)
    assert steps.count("30") == 2 and steps.count("60") == 2 and len(steps) == 60 + 2  # + dev
    assert stdout.count("\nEvaluation:\n") == 2
    record = json.loads((out / "metrics.json").read_text())
    assert record["final"]["best_dev_accuracy"] >= 0.9 and record["final"]["best_step"] in (30, 60)
    done = next(line for line in stdout.splitlines() if line.startswith("完成 Done: lesson 11-2"))
    assert f"| best step {record['final']['best_step']} |" in done  # a whole number, named
    assert [point["step"] for point in record["progress"]] == [30, 60]
    assert (out / "dev_accuracy.png").stat().st_size > 5000
    cached = _text.keras_cache_dir() / "rt-polaritydata" / "rt-polaritydata"
    assert "na\u00efve" in _text.read_text(cached / "rt-polarity.neg")  # Latin-1, read right


def test_11_2_downloads_waimai_reads_gbk_and_learns_chinese_characters(
        file_server, dead_url, fast_retries, monkeypatch, tmp_path):
    """--data waimai from a mirror, checked by sha256; the file as a Chinese Windows saves it (GBK):
    read, split into characters, shown, and learned."""
    rows = chinese_reviews(400)
    rows[5] = (1, "！！！")         # only punctuation: dropped, and counted
    rows[6] = (0, "")
    data = csv_text(rows).encode("gbk")
    file_server.files["/mirror/waimai_10k.csv"] = data
    monkeypatch.setattr(_text, "WAIMAI_URLS", [dead_url])
    monkeypatch.setattr(_text, "WAIMAI_SIZE", len(data))
    monkeypatch.setattr(_text, "WAIMAI_SHA256", hashlib.sha256(data).hexdigest())
    out = tmp_path / "run"
    code, stdout, err = run_lesson(TEXT_CNN, "--data", "waimai", "--mirror",
                                   file_server.url("/mirror/"), "--steps", "40",
                                   "--evaluate-every", "40", *SMALL, "--out", out)
    assert code == 0, err
    cached = _text.keras_cache_dir() / "waimai_10k.csv"
    assert cached.read_bytes() == data
    assert f"waimai_10k from {cached}: 199 positive, 199 negative" in stdout
    assert "dropped 2 sentences with no token left" in stdout and "Note" not in stdout
    first = re.search(r"^first training sentence as tokens: (.+)$", stdout, re.M).group(1)
    assert all(len(token) == 1 or token in ("ok", "app") for token in first.split())
    vocabulary = int(re.search(r"^Vocabulary Size: (\d+)$", stdout, re.M).group(1))
    assert vocabulary == 2 + 22 + 2 + 8 + 1  # pad, unk, shared, ok/app, planted, ！ (not ，。)
    record = json.loads((out / "metrics.json").read_text())
    assert record["final"]["best_dev_accuracy"] >= 0.85  # chance: 0.5
    assert "| data waimai" in stdout
    # a file that does not match the checksum is refused, and none is kept
    cached.unlink()
    file_server.files["/mirror/waimai_10k.csv"] = data + b"0,x\n"
    code, stdout, err = run_lesson(TEXT_CNN, "--data", "waimai", "--mirror",
                                   file_server.url("/mirror/"), "--out", tmp_path / "run2")
    assert code == 1 and "Traceback" not in err and "downloaded file rejected" in err
    assert not cached.exists() and not (tmp_path / "run2").exists()


def test_11_2_cuts_long_sentences_and_notes_badly_unbalanced_classes(tmp_path):  # class 9
    negative = [row for row in chinese_reviews(600, seed=2) if row[0] == 0][:299]
    negative[0] = (0, "差" * 500)  # one review much longer than the rest
    path = tmp_path / "reviews.csv"
    path.write_text(csv_text([(1, "好吃")] + negative, header=False), encoding="utf-8")
    out = tmp_path / "run"
    code, stdout, err = run_lesson(TEXT_CNN, "--data-dir", path, "--steps", "2",
                                   "--evaluate-every", "2", *SMALL, "--out", out)
    assert code == 0, err
    length, longest, cut = map(int, re.search(
        r"^max length (\d+) tokens \(longest (\d+)\): (\d+) sentences cut", stdout,
        re.M).groups())
    assert longest == 500 and length < 20 and 1 <= cut <= 3  # the 99th percentile
    note = re.search(r"^注意 Note: only 0.3% of the sentences are of the rarer kind: always "
                     r"answering the other kind scores a dev accuracy of ([\d.]+)\.$", stdout,
                     re.M)
    assert note and float(note.group(1)) >= 0.96
    assert json.loads((out / "metrics.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_files_are_read_in_the_encodings_and_layouts_learners_have(encoding, tmp_path):
    rows = [(1, "很好吃，送得快 ok"), (0, "太慢了, \"冷\"的"), (1, "")]
    expected = (["很好吃，送得快 ok", '太慢了, "冷"的', ""], [1, 0, 1])
    path = tmp_path / "a.csv"
    path.write_bytes(csv_text(rows).encode(encoding))  # Excel's UTF-8 has a BOM before "label"
    assert _text.read_csv(path) == expected
    path.write_bytes(csv_text(rows, header=False).encode(encoding))  # no header: label first
    assert _text.read_csv(path) == expected
    path.write_bytes(('review,label\n"很好吃，送得快 ok",1\n"太慢了, ""冷""的",0\n,1\n')
                     .encode(encoding))  # a header in the other order
    assert _text.read_csv(path) == expected


def test_11_2_words_need_jieba_and_say_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "jieba", None)  # as if it were not installed
    path = tmp_path / "reviews.csv"
    path.write_text(csv_text(chinese_reviews(40)), encoding="utf-8")
    code, out, err = run_lesson(TEXT_CNN, "--data-dir", path, "--tokens", "words",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "--tokens words needs jieba" in err and "pip install jieba" in err
    assert not (tmp_path / "run").exists()


# ## Bad input: one message, exit code, nothing left behind

def write_pair(folder, positive, negative, encoding="utf-8"):
    folder.mkdir(exist_ok=True)
    (folder / "rt-polarity.pos").write_bytes("\n".join(positive).encode(encoding))
    (folder / "rt-polarity.neg").write_bytes("\n".join(negative).encode(encoding))
    return folder


@pytest.mark.parametrize("flags, phrase", [  # issue 22 class 3: numbers the code cannot take
    ((WORD2VEC, "--vocabulary-size", "1"), "--vocabulary-size: expected a whole number from 2"),
    ((WORD2VEC, "--plot-only", "5000"), "--plot-only: expected a whole number from 0 to 2000"),
    ((WORD2VEC, "--skip-window", "0"), "--skip-window: expected a whole number from 1"),
    ((TEXT_CNN, "--max-length", "0"), "--max-length: expected a whole number from 1"),
    ((TEXT_CNN, "--dev-sample-percentage", "0.95"), "expected a finite number above 0 up to 0.9"),
    ((TEXT_CNN, "--filter-sizes", "3,0"), "expected a whole number above 0, got '0'"),
    ((TEXT_CNN, "--embedding-dim", "-4"), "--embedding_dim: expected a whole number from 1"),
])
def test_flags_out_of_range_are_refused_by_argparse(flags, phrase, tmp_path):
    code, out, err = run_lesson(*flags, "--data", "synthetic", "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err and phrase in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags, phrase", [  # class 3: flags that combine into the impossible
    ((WORD2VEC, "--num-skips", "3"), "--num-skips 3 must be at most 2 x --skip-window (1)"),
    ((WORD2VEC, "--skip-window", "40", "--num-skips", "4", "--batch-size", "8"),
     "the window must fit in the 2 center words"),
    ((TEXT_CNN, "--max-length", "2"), "--max-length 2 is shorter than the widest filter (5)"),
    ((TEXT_CNN, "--dev-sample-percentage", "0.0001"), "2000 sentences cannot be split 0.0001"),
])
def test_impossible_flag_combinations_get_a_remedy(flags, phrase, tmp_path):
    code, out, err = run_lesson(*flags, "--data", "synthetic", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err and phrase in err and "Remedy:" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kind", ["text file", "missing", "csv in a file's place"])
def test_data_dir_of_the_wrong_kind_is_one_message(kind, tmp_path):  # class 7
    target = {"text file": tmp_path / "notes.txt", "missing": tmp_path / "nowhere",
              "csv in a file's place": tmp_path / "file" / "x.csv"}[kind]
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "file").write_text("a file, not a folder")
    for lesson in (TEXT_CNN, WORD2VEC):
        code, out, err = run_lesson(lesson, "--data-dir", target, "--out", tmp_path / "run")
        assert code == 2 and "Traceback" not in err and "--data-dir" in err
        assert ("not a .csv file" if kind == "text file" else "no such folder or file") in err
    assert not (tmp_path / "run").exists()


def test_out_naming_a_file_is_one_message(tmp_path):  # class 7
    (tmp_path / "taken").write_text("x")
    code, out, err = run_lesson(TEXT_CNN, "--data", "synthetic", "--out", tmp_path / "taken")
    assert code == 2 and "Traceback" not in err and "is a file, not a folder" in err
    assert (tmp_path / "taken").read_text() == "x"


@pytest.mark.parametrize("case, phrase", [
    ("utf-16 without BOM", "is not a text file in UTF-8, GBK/GB18030 or Latin-1"),
    ("all empty", "no sentence has a token left"),
    ("one label only", "every sentence has the same label"),
    ("bad label", "row 3: the label is '2', not 0 (negative) or 1 (positive)"),
    ("no layout", "no rt-polarity.pos and rt-polarity.neg there"),
    ("two csv files", "2 CSV files there, which one?"),
])
def test_11_2_unusable_data_gets_one_clear_message(case, phrase, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    if case == "utf-16 without BOM":
        write_pair(data, ["a fine film"], ["a dull film"])
        (data / "rt-polarity.neg").write_bytes("a dull film\n".encode("utf-16-le"))
    elif case == "all empty":
        write_pair(data, ["", "  ", "。。"], ["...", "", "——"])  # nothing but punctuation
    elif case == "one label only":
        (data / "x.csv").write_text(csv_text([(1, "好吃"), (1, "很棒")]), encoding="utf-8")
    elif case == "bad label":
        (data / "x.csv").write_text(csv_text([(1, "好吃"), (2, "很棒")]), encoding="utf-8")
    elif case == "two csv files":
        (data / "a.csv").write_text("1,x\n")
        (data / "b.csv").write_text("0,y\n")
    code, out, err = run_lesson(TEXT_CNN, "--data-dir", data, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err and phrase in err and "Remedy:" in err
    assert not (tmp_path / "run").exists()


def test_read_text_reads_the_encodings_learners_files_come_in(tmp_path):
    chinese, english = "外卖很快，味道不错 ok", "a na\u00efve caf\u00e9 film"
    cases = [(chinese, "utf-8"), (chinese, "utf-8-sig"), (chinese, "gbk"), (chinese, "gb18030"),
             (chinese, "utf-16"), (english, "latin-1"), (english, "utf-8")]
    for number, (text, encoding) in enumerate(cases):
        path = tmp_path / f"{number}.txt"
        path.write_bytes(((text + "\n") * 3).encode(encoding))
        assert _text.read_text(path) == (text + "\n") * 3, encoding


