"""Week 12: sound classification (12-2) on drawn sounds, on digits spoken by espeak-ng (real
recorded short clips, made here), on WAV files written here in several formats and rates, and on
small fake UrbanSound8K folders, whole or in part (the real one is 6 GB)."""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week12_textcnn_sound/12_2_sound_gru.py"
sys.path.insert(0, str(ROOT / "week12_textcnn_sound"))
import _sound  # noqa: E402  (the lesson's plumbing: WAV files, drawn sounds)

TINY = ["--sample-rate", "8000", "--clip-seconds", "0.5", "--gru-size", "4", "--epochs", "1",
        "--batch-size", "6"]
TOO_BIG_A_BATCH = ["--batch-size", "1000"]  # stops after the data are read: no training needed
PROGRESS = re.compile(r"^Iter (\d+), Testing Accuracy= ([\d.]+)$", re.M)


def accuracies(out):
    return [float(a) for _, a in PROGRESS.findall(out)]


# ## WAV files written independently of _sound

def write_wav(path, samples, rate, kind="pcm16"):
    """Write mono or (frames, channels) samples in [-1, 1]: kind is pcm8/pcm16/pcm24/pcm32
    (through Python's wave module), float32/float64, or ext24 (24-bit PCM in a
    WAVE_FORMAT_EXTENSIBLE header)."""
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    channels = samples.shape[1]
    if kind.startswith("pcm"):
        bits = int(kind[3:])
        if bits == 8:
            body = (np.round(samples * 127) + 128).astype(np.uint8).tobytes()
        else:  # little-endian int32, of which the low bits // 8 bytes are kept
            values = np.round(samples * (2 ** (bits - 1) - 1)).astype("<i4")
            body = values.view(np.uint8).reshape(-1, 4)[:, :bits // 8].tobytes()
        with wave.open(str(path), "wb") as out:
            out.setnchannels(channels)
            out.setsampwidth(bits // 8)
            out.setframerate(rate)
            out.writeframes(body)
        return
    if kind.startswith("float"):
        bits, code = int(kind[5:]), 3
        body = samples.astype(f"<f{bits // 8}").tobytes()
    else:  # ext24
        bits, code = 24, 1
        values = np.round(samples * (2 ** 23 - 1)).astype("<i4")
        body = values.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    width = bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if kind == "ext24" else code, channels, rate,
                      rate * channels * width, channels * width, bits)
    if kind == "ext24":  # cbSize, valid bits, channel mask, the SubFormat GUID led by the code
        guid_tail = bytes.fromhex("000000001000800000aa00389b71")
        fmt += struct.pack("<HHIH", 22, bits, 0, code) + guid_tail
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt
              + b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd-sized chunk
              + b"data" + struct.pack("<I", len(body)) + body)
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


KINDS = {"pcm8": 0.01, "pcm16": 1e-4, "pcm24": 1e-6, "pcm32": 1e-6, "float32": 1e-6,
         "float64": 1e-6, "ext24": 1e-6}


@pytest.mark.parametrize("rate", [11025, 44100])
def test_wavs_of_every_format_read_back_to_the_same_signal_after_resampling(tmp_path, rate):
    def signal_at(t):
        return 0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1250 * t)

    written = signal_at(np.arange(int(0.25 * rate)) / rate)
    expected = signal_at(np.arange(4000) / 16000)  # the same sound at 16 kHz: 0.25 s
    for kind, quantum in KINDS.items():
        path = tmp_path / f"{kind}.wav"
        stereo = kind in ("pcm16", "float32")
        write_wav(path, np.stack([written, written], 1) if stereo else written, rate, kind)
        samples, got_rate = _sound.read_wav(path)
        assert got_rate == rate and samples.shape == (len(written), 2 if stereo else 1), kind
        assert np.abs(samples[:, 0] - written).max() < quantum, kind
        clip = _sound.read_clip(path, 16000)  # 0.25 s resampled to 16 kHz
        assert clip.dtype == np.float32 and clip.shape == (4000,)
        middle = slice(400, 3600)  # FFT resampling rings a little at the clip's two ends
        assert np.abs(clip[middle] - expected[middle]).max() < 0.02 + quantum, kind


def test_resampling_drops_what_the_new_rate_cannot_hold():
    rate = 48000
    t = np.arange(rate // 4) / rate
    high = np.sin(2 * np.pi * 12000 * t)  # above 8 kHz's Nyquist (4 kHz): must vanish, not alias
    assert np.abs(_sound.resample(high, rate, 8000)).max() < 1e-6


# ## The lesson on drawn sounds (the quick check)

def test_12_2_gru_learns_the_drawn_sounds(tmp_path):
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err
    assert ("360 training clips (every fold but 10), 40 test clips (fold 10); "
            "each 20 frames x 40 MFCCs") in out
    history = accuracies(out)
    assert [int(epoch) for epoch, _ in PROGRESS.findall(out)] == [0, 1, 2, 3, 4]
    assert history[-1] >= 0.3  # 10 kinds: chance is 0.1
    assert "data SYNTHETIC" in out and "Traceback" not in err
    assert (tmp_path / "mfcc_and_confusion.png").stat().st_size > 20_000
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["status"] == "finished" and metrics["synthetic"]
    assert [p["test_accuracy"] for p in metrics["progress"]] == pytest.approx(history, abs=1e-4)


# ## Short clips: digits spoken by espeak-ng, laid out like UrbanSound8K

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp"]
VARIANTS = ["m1", "m3", "m5", "m7", "f1", "f2", "f3", "f4"]
CSV_HEADER = "slice_file_name,fsID,start,end,salience,fold,classID,class"


def write_metadata(root, lines, bom=False, newline="\n"):
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    text = newline.join([CSV_HEADER] + lines) + newline
    (root / "metadata" / "UrbanSound8K.csv").write_bytes(
        ("\ufeff" if bom else "").encode() + text.encode())


def speak_digits(root, n_speakers, rate=8000):
    """UrbanSound8K's layout holding the ten digits said by `n_speakers` espeak-ng voices (voice,
    speed, pitch), trimmed like real recordings (about 0.2-0.7 s) at `rate`; speaker k in fold
    k % 10 + 1. The metadata file as Excel writes it: a BOM and CRLF line ends."""
    raw, lines = root / "speaker.wav", []
    root.mkdir(parents=True, exist_ok=True)
    for speaker in range(n_speakers):
        voice = f"{VOICES[speaker % 5]}+{VARIANTS[speaker * 3 % 8]}"
        speed, pitch = 120 + speaker * 37 % 110, 20 + speaker * 23 % 70
        subprocess.run(["espeak-ng", "-w", str(raw), "-v", voice, "-s", str(speed), "-p",
                        str(pitch), "-g", "50", " ".join(DIGITS)], check=True)  # one call: fast
        samples, got = _sound.read_wav(raw)
        speech = _sound.resample(samples[:, 0], got, rate)
        loud = np.flatnonzero(np.abs(speech) > 0.02 * np.abs(speech).max())
        pauses = np.flatnonzero(np.diff(loud) > 0.2 * rate)  # the gaps between the words
        starts, ends = loud[np.r_[0, pauses + 1]], loud[np.r_[pauses, -1]] + 1
        assert len(starts) == 10, f"{voice} -s {speed} -p {pitch}: {len(starts)} words"
        fold = speaker % 10 + 1
        (root / "audio" / f"fold{fold}").mkdir(parents=True, exist_ok=True)
        for label, (start, end) in enumerate(zip(starts, ends)):
            name = f"{speaker}-{label}-0-0.wav"
            write_wav(root / "audio" / f"fold{fold}" / name, speech[start:end], rate)
            lines.append(f"{name},{speaker},0,{(end - start) / rate:.3f},1,{fold},{label},"
                         f"{DIGITS[label]}")
    raw.unlink()
    write_metadata(root, lines, bom=True, newline="\r\n")
    return root


@pytest.mark.skipif(shutil.which("espeak-ng") is None,
                    reason="espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)"
                           ": no real short clips can be made")
def test_12_2_learns_short_spoken_digits(tmp_path):
    data = speak_digits(tmp_path / "digits", n_speakers=20)
    code, out, err = run_lesson(LESSON, "--quick", "--clip-seconds", "1", "--lr", "3e-3",
                                "--data-dir", data, "--cache-dir", tmp_path / "cache",
                                "--out", tmp_path / "run")
    assert code == 0, err
    assert "folds 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 found" in out and "missing" not in out
    assert "180 training clips (every fold but 10), 20 test clips (fold 10)" in out
    history = accuracies(out)  # unseen voices: two speakers held out in fold 10
    assert len(history) == 5 and max(history[-2:]) >= 0.5  # ten digits: chance is 0.1
    assert "data urbansound8k" in out and (tmp_path / "run" / "mfcc_and_confusion.png").is_file()


# ## Your own sounds: one folder of WAV files per class (--data own)

WORDS = ["你好", "谢谢", "再见", "对不起"]
ESPEAK = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                            reason="espeak-ng is not installed (Debian/Ubuntu: apt-get install "
                                   "espeak-ng): no real short clips can be made")


def speak_words(root, per_class):
    """Folders named by four Chinese words, each holding the word said by `per_class` Mandarin
    voices of espeak-ng (variant, speed, pitch). As recordings a learner collects: some files
    re-saved at 44.1 kHz stereo 24-bit or 16 kHz float, a phone's .m4a, a damaged WAV, a hidden
    file."""
    for word in WORDS:
        (root / word).mkdir(parents=True)
        for k in range(per_class):
            wav = root / word / f"录音{k:02d}.wav"
            subprocess.run(["espeak-ng", "-w", str(wav), "-v", f"cmn+{VARIANTS[k % 8]}",
                            "-s", str(110 + k * 37 % 100), "-p", str(20 + k * 23 % 70), word],
                           check=True)
            if k % 3:
                samples, rate = _sound.read_wav(wav)
                target = 44100 if k % 3 == 1 else 16000
                speech = _sound.resample(samples[:, 0], rate, target)
                if k % 3 == 1:
                    write_wav(wav, np.stack([speech, speech], 1), target, "pcm24")
                else:
                    write_wav(wav, speech, target, "float32")
    (root / "你好" / "手机录音.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A ")
    (root / "谢谢" / "坏的.wav").write_bytes(b"<html>not a wav</html>")
    (root / "再见" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return root


@ESPEAK
def test_12_2_learns_your_own_sounds_in_chinese_named_folders(tmp_path):
    data = speak_words(tmp_path / "我的声音", per_class=25)
    tiny = ["--quick", "--clip-seconds", "1", "--lr", "3e-3", "--epochs", "8", "--batch-size",
            "8", "--data-dir", data]
    code, out, err = run_lesson(LESSON, *tiny, "--out", tmp_path / "run")
    assert code == 1 and "holds folders of WAV files, not UrbanSound8K" in err
    assert "Remedy: for your own sounds, one folder per class, add --data own." in err

    code, out, err = run_lesson(LESSON, *tiny, "--data", "own", "--out", tmp_path / "run")
    assert code == 0, err
    assert (f"your sounds in {data}: WAV files per class: "
            "你好 25, 再见 25, 对不起 25, 谢谢 26") in out
    assert "left out 1 file(s) that are not .wav, e.g. 你好/手机录音.m4a; " in out
    assert "ffmpeg -i IN.mp3 OUT.wav" in out
    assert "skipped 1 WAV file(s) that cannot be read: 谢谢/坏的.wav (not a RIFF/WAVE file)" in out
    assert "80 training clips, 20 test clips (one in five of each class)" in out
    history = accuracies(out)
    assert len(history) == 8 and max(history[-2:]) >= 0.5  # four words: chance is 0.25
    assert "right per class: 你好 " in out and "data own" in out
    record = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert record["status"] == "finished" and record["flags"]["data"] == "own"
    assert not record["synthetic"] and (tmp_path / "run" / "mfcc_and_confusion.png").is_file()


def test_12_2_cuts_the_quiet_start_and_end_of_your_recordings(tmp_path):
    """A recording holds silence (or a hiss) before and after the sound; padded behind the sound,
    it would wash the sound out of the GRU's final state. The run says how long the sounds are."""
    rate = 8000
    for name, seconds in {"短": [0.3, 0.3, 0.3], "长": [0.3, 0.3, 0.8]}.items():
        (tmp_path / "sounds" / name).mkdir(parents=True)
        for k, length in enumerate(seconds):
            t = np.arange(int(length * rate)) / rate
            sound = 0.5 * np.sin(2 * np.pi * 440 * t)
            quiet = np.random.default_rng(k).normal(0, 0.002, int(0.7 * rate))  # a faint hiss
            write_wav(tmp_path / "sounds" / name / f"{k}.wav",
                      np.concatenate([quiet, sound, quiet]), rate)
    code, out, err = run_lesson(LESSON, *TINY, *TOO_BIG_A_BATCH, "--data", "own", "--data-dir",
                                tmp_path / "sounds", "--out", tmp_path / "run")
    assert ("decoded 6 WAVs at 8000 Hz; without their quiet start and end they last 0.30-0.80 s "
            "(median 0.30 s): --clip-seconds 0.5 holds 83% of them whole") in out
    assert "4 training clips, 2 test clips (one in five of each class)" in out
    assert code == 1 and "Only 4 training clips" in err  # stopped before training, as asked
    assert "Note:" not in out

    code, out, err = run_lesson(LESSON, *TINY, *TOO_BIG_A_BATCH, "--clip-seconds", "4",
                                "--data", "own", "--data-dir", tmp_path / "sounds",
                                "--out", tmp_path / "run2")  # 4 s for sounds of 0.3-0.8 s:
    assert "--clip-seconds 1 would hold every one of them, with 4.0 times fewer frames" in out


@pytest.mark.parametrize("layout, phrase, remedy", [
    ("none", "--data own reads your sounds from a folder", "--data own --data-dir DIR"),
    ("one class", "needs at least two sub-folders of WAV files", "own folder, e.g."),
    ("one readable", "The class 'b' has 1 readable WAV file(s); it needs at least two",
     "add WAV files to"),
    ("missing", "does not exist", "name the folder that holds one folder of WAV files per class"),
    ("a class's own folder", "and 3 WAV file(s) of its own, as one class's folder would",
     "and name their parent folder"),
])
def test_12_2_own_sounds_it_cannot_split_get_one_message(tmp_path, layout, phrase, remedy):
    tone = np.sin(np.arange(4000) / 5)
    for name, count in {"one class": {"a": 3}, "one readable": {"a": 3, "b": 2},
                        "a class's own folder": {".": 3}}.get(layout, {}).items():
        (tmp_path / "sounds" / name).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            write_wav(tmp_path / "sounds" / name / f"{k}.wav", tone, 8000)
    if layout == "one readable":
        (tmp_path / "sounds" / "b" / "1.wav").write_bytes(b"RIFF")
    where = [] if layout == "none" else ["--data-dir", tmp_path / "sounds"]
    code, out, err = run_lesson(LESSON, *TINY, "--data", "own", *where, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert phrase in err and remedy in err
    assert not (tmp_path / "run").exists()


# ## A fake UrbanSound8K: drawn clips in mixed formats and rates

CLASSES = ["air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling",
           "engine_idling", "gun_shot", "jackhammer", "siren", "street_music"]


def make_urbansound8k(root, per_fold=2, folds=range(1, 11), listed=range(1, 11), **csv_style):
    """audio/foldN with `per_fold` drawn clips each (mixed formats and rates) for the `folds`
    given, and the metadata file listing the clips of the `listed` folds."""
    lines, kinds, rates = [], list(KINDS), [8000, 22050, 44100, 11025]
    drawn = {rate: _sound.drawn_sounds(10, rate, 0.4, seed=rate)[0] for rate in rates}
    for fold in listed:
        (root / "audio" / f"fold{fold}").mkdir(parents=True, exist_ok=True)  # empty if not in folds
        for j in range(per_fold):
            i = (fold - 1) * per_fold + j
            label, rate = i % 10, rates[i % len(rates)]
            name = f"{1000 + i}-{label}-0-{j}.wav"
            if fold in folds:
                write_wav(root / "audio" / f"fold{fold}" / name, drawn[rate][label], rate,
                          kinds[i % len(kinds)])
            lines.append(f"{name},{1000 + i},0.0,0.4,1,{fold},{label},{CLASSES[label]}")
    write_metadata(root, lines, **csv_style)
    return root


def test_12_2_reads_an_urbansound8k_folder_and_reuses_its_feature_cache(tmp_path):
    data = make_urbansound8k(tmp_path / "UrbanSound8K")
    (data / "audio" / "fold3" / "1004-4-0-0.wav").write_bytes(b"<html>not a wav</html>")  # skipped
    cache = tmp_path / "cache"
    code, out, err = run_lesson(LESSON, "--data-dir", tmp_path, "--cache-dir", cache, *TINY,
                                *TOO_BIG_A_BATCH, "--out", tmp_path / "run1")
    assert out.count("decoded") == 10 and "fold 3: decoded 1 WAVs" in out
    assert ("skipped 1 WAV file(s) that cannot be read: audio/fold3/1004-4-0-0.wav "
            "(not a RIFF/WAVE file)") in out
    assert "17 training clips (every fold but 10), 2 test clips (fold 10)" in out
    assert code == 1 and "Traceback" not in err  # stopped before training: a batch of 1000
    assert len(list(cache.glob("fold*.npz"))) == 10 and not list(cache.glob(".*"))  # no temp file

    for wav in data.glob("audio/fold*/*.wav"):  # if anything were decoded again, the run would fail
        wav.write_bytes(b"gone")
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY,
                                *TOO_BIG_A_BATCH, "--out", tmp_path / "run2")
    assert out.count("MFCCs from the cache") == 10 and "decoded" not in out
    assert "skipped 1 WAV file(s)" in out  # remembered with the cache
    assert code == 1 and "Only 17 training clips: fewer than one batch of --batch-size 1000" in err
    assert "Remedy: --batch-size 17 or less" in err

    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY,
                                "--sample-rate", "11025", "--out", tmp_path / "run3")
    assert code == 1 and "cannot be read" in err and "Traceback" not in err  # decoded again


# ## Part of UrbanSound8K (issue 21): the folds on disk train, missing clips are named

@pytest.mark.parametrize("csv_style", [dict(), dict(bom=True), dict(newline="\r\n"),
                                       dict(bom=True, newline="\r\n")],
                         ids=["plain", "bom", "crlf", "bom+crlf"])
def test_12_2_trains_on_the_folds_it_finds(tmp_path, csv_style):
    data = make_urbansound8k(tmp_path / "UrbanSound8K", folds=[1, 2, 5, 7, 10], **csv_style)
    (data / "audio" / "fold5" / "1008-8-0-0.wav").unlink()  # one clip of a present fold is gone
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", tmp_path / "cache",
                                *TINY, *TOO_BIG_A_BATCH, "--out", tmp_path / "run")
    assert "Traceback" not in err
    assert "folds 1, 2, 5, 7, 10 found; folds 3, 4, 6, 8, 9 missing" in out
    assert ("11 of the 20 clips in metadata/UrbanSound8K.csv are not on disk: "
            "audio/fold3/1004-4-0-0.wav, audio/fold3/1005-5-0-1.wav") in out
    assert "audio/fold5/1008-8-0-0.wav and 6 more" in out
    assert out.count("decoded") == 5
    assert "7 training clips (every fold but 10), 2 test clips (fold 10)" in out
    assert code == 1 and "Only 7 training clips" in err  # read whole; the batch is just too big


@pytest.mark.parametrize("present, test_fold, phrase, remedy", [
    ([1, 2, 5], 10, "The test fold 10 has no clip on disk", "--test-fold 5"),
    ([10], 10, "Only the test fold 10 has clips on disk: every training fold is empty",
     "add at least one more fold"),
    ([], 10, "No clip listed in metadata/UrbanSound8K.csv is on disk", "--data-dir"),
])
def test_12_2_refuses_only_an_empty_test_fold_or_no_training_fold(tmp_path, present, test_fold,
                                                                   phrase, remedy):
    data = make_urbansound8k(tmp_path / "UrbanSound8K", folds=present)
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", tmp_path / "cache",
                                *TINY, "--test-fold", test_fold, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert phrase in err and remedy in err
    assert not (tmp_path / "run").exists() and not list((tmp_path / "cache").glob("*"))
    if remedy.startswith("--test-fold"):  # the remedy works when followed
        code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", tmp_path / "cache",
                                    *TINY, *TOO_BIG_A_BATCH, remedy.split()[0], remedy.split()[1],
                                    "--out", tmp_path / "run")
        assert "4 training clips (every fold but 5), 2 test clips (fold 5)" in out


def test_12_2_says_what_is_missing_from_a_folder_not_laid_out_like_urbansound8k(tmp_path):
    (tmp_path / "audio" / "fold1").mkdir(parents=True)
    code, out, err = run_lesson(LESSON, "--data-dir", tmp_path, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "is not laid out like UrbanSound8K: it has no metadata/UrbanSound8K.csv" in err
    assert "urbansounddataset.weebly.com" in err and "--data synthetic" in err
    assert not (tmp_path / "run").exists()  # a run that failed before any work leaves no folder

    code, out, err = run_lesson(LESSON, "--out", tmp_path / "run")  # nothing given: no download
    assert code == 1 and "UrbanSound8K is not on this computer yet" in err and "--download" in err


def test_12_2_stops_on_a_damaged_copy_naming_the_unreadable_wavs(tmp_path):
    data = make_urbansound8k(tmp_path / "UrbanSound8K")
    for wav in (data / "audio" / "fold1").glob("*.wav"):
        wav.write_bytes(wav.read_bytes()[:30])  # cut inside the header
    cache = tmp_path / "cache"
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY,
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert ("2 of the 2 WAV files of fold 1 cannot be read, e.g. audio/fold1/1000-0-0-0.wav "
            "(the 'fmt ' chunk is cut short)") in err
    assert "extract UrbanSound8K.tar.gz again" in err
    assert not list(cache.iterdir())  # nothing half-written


def test_12_2_download_rejects_an_archive_whose_md5_differs(tmp_path, file_server):
    file_server.files["/UrbanSound8K.tar.gz"] = b"not the 6 GB archive"
    code, out, err = run_lesson(LESSON, "--download", "--mirror", file_server.base_url,
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "md5" in err and "does not match the published 9aa69802bbf37fb986f71ec1483a196e" in err
    datasets = _sound.keras_cache_dir()
    assert not (datasets / "UrbanSound8K.tar.gz").exists() and not list(datasets.glob("*.part"))
    assert file_server.requests[0][0] == "/UrbanSound8K.tar.gz"


# ## Bad input (issue 22), one message each and nothing half-written

@pytest.mark.parametrize("flags, code, phrase", [  # class 3: numbers out of the range that works
    (["--sample-rate", "100"], 2, "--sample-rate: expected a whole number from 4000 to 48000"),
    (["--clip-seconds", "0"], 2, "--clip-seconds: expected a finite number from 0.05 to 60"),
    (["--clip-seconds", "nan"], 2, "--clip-seconds: expected a finite number"),
    (["--test-fold", "11"], 2, "--test-fold: expected a whole number from 1 to 10"),
    (["--gru-size", "0"], 2, "--gru-size: expected a whole number from 1 to 4096"),
    (["--clips", "-1"], 2, "--clips: expected a whole number from 0 to 8732"),
    (["--seed", "-1"], 2, "--seed: expected a whole number from 0"),
    (["--lr", "0"], 2, "--lr: expected a finite number above 0"),
    # flags that make sense alone but not together: one message, a remedy that works
    (["--download", "--data-dir", "."], 1, "Remedy: drop --download, or the other flag"),
    (["--download", "--data", "synthetic"], 1, "it takes no --data-dir and no --data synthetic"),
    (["--mirror", "http://127.0.0.1:9/"], 1, "Remedy: add --download, or drop --mirror"),
    (["--data", "synthetic", "--clips", "50"], 1, "Remedy: --clips 100 or more"),
    (["--data", "synthetic", "--clips", "100", "--batch-size", "500"], 1,
     "Remedy: --batch-size 90 or less"),
])
def test_12_2_flag_values_that_cannot_work_get_one_message(tmp_path, flags, code, phrase):
    got, out, err = run_lesson(LESSON, "--quick", *flags, "--out", tmp_path / "run")
    assert got == code and "Traceback" not in err and phrase in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flag, kind, code, phrase", [  # class 7: a path of the wrong kind
    ("--cache-dir", "file", 2, "is a file, not a folder"),
    ("--data-dir", "file", 2, "is a file, not a folder"),
    ("--out", "file", 2, "is a file, not a folder"),
    ("--cache-dir", "below a file", 1, "Cannot make the cache folder --cache-dir"),
])
def test_12_2_path_flags_of_the_wrong_kind_get_one_message(tmp_path, flag, kind, code, phrase):
    data = make_urbansound8k(tmp_path / "UrbanSound8K", per_fold=1)
    (tmp_path / "file").write_text("a file, not a folder")
    path = tmp_path / "file" if kind == "file" else tmp_path / "file" / "features"
    given = {"--data-dir": data, "--cache-dir": tmp_path / "cache", "--out": tmp_path / "run"}
    given[flag] = path
    flags = [part for item in given.items() for part in item]
    got, out, err = run_lesson(LESSON, *TINY, *flags)
    assert got == code and "Traceback" not in err and phrase in err
    assert (tmp_path / "file").read_text() == "a file, not a folder"
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()


def damage(cache_file, how):
    """Write over one fold's cache file as an earlier, broken run might have left it."""
    if how == "garbage":
        cache_file.write_bytes(b"PK\x03\x04 not a zip archive")
        return
    with np.load(cache_file) as saved:
        arrays = dict(saved)
    if how == "wrong shape":
        arrays["features"] = arrays["features"][:, :, :13]
    elif how == "NaN":
        arrays["features"][0, 0, 0] = np.nan
    elif how == "labels":
        arrays["labels"] = arrays["labels"] + 10
    elif how == "no labels":
        del arrays["labels"]
    np.savez(cache_file, **arrays)


@pytest.mark.parametrize("how", ["garbage", "wrong shape", "NaN", "labels", "no labels"])
def test_12_2_never_trusts_a_damaged_cache_file(tmp_path, how):  # class 6
    data = make_urbansound8k(tmp_path / "UrbanSound8K", per_fold=1, folds=[1, 2, 10],
                             listed=[1, 2, 10])
    cache = tmp_path / "cache"
    run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY, *TOO_BIG_A_BATCH,
               "--out", tmp_path / "run1")
    fold2 = next(cache.glob("fold2-*.npz"))
    damage(fold2, how)
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY,
                                *TOO_BIG_A_BATCH, "--out", tmp_path / "run2")
    assert code == 1 and "Traceback" not in err and "Only 2 training clips" in err
    assert f"fold 2: the cache file {fold2} is damaged (" in out and "making it again" in out
    assert "fold 2: decoded 1 WAVs" in out and out.count("MFCCs from the cache") == 2
    with np.load(fold2) as saved:  # made again, whole
        assert saved["features"].shape[2] == 40 and np.isfinite(saved["features"]).all()
        assert list(saved["labels"]) == [1]
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        p.name for p in cache.glob("fold*.npz"))  # no temporary file


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_12_2_killed_while_writing_the_cache_leaves_no_half_file(tmp_path, monkeypatch,
                                                                 signum):  # class 2
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # tfcourse's handler is on
    data = make_urbansound8k(tmp_path / "UrbanSound8K", per_fold=1, folds=[1, 10],
                             listed=[1, 10])
    savez = np.savez

    def killed_halfway(handle, **arrays):  # a part of the file is written, then the signal
        handle.write(b"PK\x03\x04 the first bytes")
        os.kill(os.getpid(), signum)
        savez(handle, **arrays)

    monkeypatch.setattr(np, "savez", killed_halfway)
    cache = tmp_path / "cache"
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY,
                                "--out", tmp_path / "run")
    assert code == 130 and "Traceback" not in err and "Interrupted" in err
    assert list(cache.iterdir()) == []  # neither the cache file nor its temporary file
    assert not (tmp_path / "run").exists()  # nothing of the run's own was written yet
