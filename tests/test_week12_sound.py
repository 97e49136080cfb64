"""Week 12: sound classification (12-2) on drawn sounds, on WAV files written here in several
formats and rates, and on a tiny fake UrbanSound8K folder (the real one is 6 GB)."""
import json
import re
import struct
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week12_textcnn_sound/12_2_sound_gru.py"
sys.path.insert(0, str(ROOT / "week12_textcnn_sound"))
import _sound  # noqa: E402  (the lesson's private helper)

TINY = ["--sample-rate", "8000", "--clip-seconds", "0.5", "--gru-size", "8", "--epochs", "1", "--batch-size", "6"]


def accuracies(out):
    return [float(a) for a in re.findall(r"^Iter \d+, Testing Accuracy= ([\d.]+)$", out, re.M)]


# ---------------------------------------------------------------- WAV files written independently of _sound

def write_wav(path, samples, rate, kind):
    """Write mono or (frames, channels) samples in [-1, 1]: kind is pcm8/pcm16/pcm24/pcm32 (through
    Python's wave module), float32/float64, or ext24 (24-bit PCM in a WAVE_FORMAT_EXTENSIBLE header)."""
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    channels = samples.shape[1]
    if kind.startswith("pcm"):
        bits = int(kind[3:])
        if bits == 8:
            body = bytes(int(round(v * 127)) + 128 for v in samples.flat)
        else:
            scale = 2 ** (bits - 1) - 1
            body = b"".join(int(round(v * scale)).to_bytes(bits // 8, "little", signed=True) for v in samples.flat)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(channels), out.setsampwidth(bits // 8), out.setframerate(rate)
            out.writeframes(body)
        return
    if kind.startswith("float"):
        bits, code = int(kind[5:]), 3
        body = samples.astype(f"<f{bits // 8}").tobytes()
    else:  # ext24
        bits, code = 24, 1
        body = b"".join(int(round(v * (2 ** 23 - 1))).to_bytes(3, "little", signed=True) for v in samples.flat)
    width = bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if kind == "ext24" else code, channels, rate, rate * channels * width,
                      channels * width, bits)
    if kind == "ext24":  # cbSize, valid bits, channel mask, then the SubFormat GUID led by the format code
        fmt += struct.pack("<HHIH", 22, bits, 0, code) + bytes.fromhex("000000001000800000aa00389b71")
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd chunk
              + b"data" + struct.pack("<I", len(body)) + body)
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


KINDS = {"pcm8": 0.01, "pcm16": 1e-4, "pcm24": 1e-6, "pcm32": 1e-6, "float32": 1e-6, "float64": 1e-6, "ext24": 1e-6}


@pytest.mark.parametrize("rate", [11025, 44100])
def test_wavs_of_every_format_read_back_to_the_same_signal_after_resampling(tmp_path, rate):
    def signal(t):
        return 0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1250 * t)

    written = signal(np.arange(int(0.25 * rate)) / rate)
    expected = signal(np.arange(4000) / 16000)  # the same sound at 16 kHz: 0.25 s
    for kind, quantum in KINDS.items():
        path = tmp_path / f"{kind}.wav"
        stereo = kind in ("pcm16", "float32")
        write_wav(path, np.stack([written, written], 1) if stereo else written, rate, kind)
        samples, got_rate = _sound.read_wav(path)
        assert got_rate == rate and samples.shape == (len(written), 2 if stereo else 1), kind
        assert np.abs(samples[:, 0] - written).max() < quantum, kind
        clip = _sound.load_clip(path, 16000, 6000)  # 0.25 s resampled to 16 kHz, padded to 6000 samples
        assert clip.dtype == np.float32 and clip.shape == (6000,)
        middle = slice(400, 3600)  # FFT resampling rings a little at the clip's two ends
        assert np.abs(clip[middle] - expected[middle]).max() < 0.02 + quantum, kind
        assert np.all(clip[4000:] == 0), "padded with silence"


def test_resampling_drops_what_the_new_rate_cannot_hold():
    rate = 48000
    t = np.arange(rate // 4) / rate
    high = np.sin(2 * np.pi * 12000 * t)  # above 8 kHz's Nyquist (4 kHz): must vanish, not alias
    assert np.abs(_sound.resample(high, rate, 8000)).max() < 1e-6


# ---------------------------------------------------------------- the lesson on drawn sounds

def test_12_2_gru_learns_the_drawn_sounds(tmp_path):
    code, out, err = run_lesson(LESSON, "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err
    assert "360 training clips (every fold but 10), 40 test clips (fold 10); each 14 frames x 40 MFCCs" in out
    history = accuracies(out)
    assert len(history) == 5
    assert history[-1] >= 0.3  # 10 kinds: chance is 0.1
    assert "data SYNTHETIC" in out and "Traceback" not in err
    assert (tmp_path / "mfcc_and_confusion.png").stat().st_size > 20_000
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "finished" and metrics["synthetic"] and len(metrics["progress"]) == 5


# ---------------------------------------------------------------- a fake UrbanSound8K

CLASSES = ["air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling", "engine_idling",
           "gun_shot", "jackhammer", "siren", "street_music"]


def make_urbansound8k(root, per_fold=2):
    """audio/fold1..10 with `per_fold` drawn clips each (mixed formats and rates) and the CSV."""
    lines = ["slice_file_name,fsID,start,end,salience,fold,classID,class"]
    kinds, rates = list(KINDS), [8000, 22050, 44100, 11025]
    for fold in range(1, 11):
        (root / "audio" / f"fold{fold}").mkdir(parents=True)
        for j in range(per_fold):
            i = (fold - 1) * per_fold + j
            label, rate = i % 10, rates[i % len(rates)]
            waves, labels, _ = _sound.drawn_sounds(10, rate, 0.4, seed=i)
            name = f"{1000 + i}-{label}-0-{j}.wav"
            write_wav(root / "audio" / f"fold{fold}" / name, waves[label], rate, kinds[i % len(kinds)])
            lines.append(f"{name},{1000 + i},0.0,0.4,1,{fold},{label},{CLASSES[label]}")
    (root / "metadata").mkdir()
    (root / "metadata" / "UrbanSound8K.csv").write_text("\n".join(lines) + "\n")
    return root


def test_12_2_reads_an_urbansound8k_folder_and_reuses_its_feature_cache(tmp_path):
    data = make_urbansound8k(tmp_path / "UrbanSound8K")
    (data / "audio" / "fold3" / "1004-4-0-0.wav").write_bytes(b"<html>not a wav</html>")  # one bad file: skipped
    cache = tmp_path / "cache"
    code, out, err = run_lesson(LESSON, "--data-dir", tmp_path, "--cache-dir", cache, *TINY, "--out", tmp_path / "run1")
    assert code == 0, err
    assert out.count("decoded") == 10 and "fold 3: decoded 1 WAVs" in out
    assert "skipped 1 WAV file(s) that cannot be read: audio/fold3/1004-4-0-0.wav (not a RIFF/WAVE file)" in out
    assert "17 training clips (every fold but 10), 2 test clips (fold 10)" in out
    assert len(accuracies(out)) == 1 and "data urbansound8k" in out
    assert len(list(cache.glob("fold*.npz"))) == 10 and not list(cache.glob(".*"))  # no temporary file left

    for wav in data.glob("audio/fold*/*.wav"):  # if anything were decoded again, the run would fail
        wav.write_bytes(b"gone")
    # The second run stops before training (a batch larger than the training folds), once the
    # features are loaded: that is all this check needs, and it saves building the GRU again.
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY, "--batch-size", "100",
                                "--out", tmp_path / "run2")
    assert out.count("features from the cache") == 10 and "decoded" not in out
    assert "skipped 1 WAV file(s)" in out  # remembered with the cache
    assert code == 2 and "Only 17 training clips: fewer than one batch of --batch-size 100" in err

    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY, "--sample-rate", "11025",
                                "--out", tmp_path / "run3")  # another setting: other features, decoded again
    assert code == 1 and "cannot be read" in err and "Traceback" not in err


def test_12_2_says_what_is_missing_from_a_folder_not_laid_out_like_urbansound8k(tmp_path):
    (tmp_path / "audio" / "fold1").mkdir(parents=True)
    code, out, err = run_lesson(LESSON, "--data-dir", tmp_path, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "is not laid out like UrbanSound8K: it has no metadata/UrbanSound8K.csv, no audio/fold2/" in err
    assert "urbansounddataset.weebly.com" in err and "--data synthetic" in err
    assert not (tmp_path / "run").exists()  # a run that failed before any work leaves no folder

    code, out, err = run_lesson(LESSON, "--out", tmp_path / "run")  # nothing given, nothing downloaded
    assert code == 1 and "UrbanSound8K is not on this computer yet" in err and "--download" in err


def test_12_2_stops_on_a_damaged_copy_naming_the_unreadable_wavs(tmp_path):
    data = make_urbansound8k(tmp_path / "UrbanSound8K")
    for wav in (data / "audio" / "fold1").glob("*.wav"):
        wav.write_bytes(wav.read_bytes()[:30])  # cut inside the header
    cache = tmp_path / "cache"
    code, out, err = run_lesson(LESSON, "--data-dir", data, "--cache-dir", cache, *TINY, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "2 of the 2 WAV files of fold 1 cannot be read, e.g. audio/fold1/1000-0-0-0.wav (the 'fmt ' chunk is cut short)" in err
    assert "extract UrbanSound8K.tar.gz again" in err
    assert not cache.exists() or not list(cache.iterdir())  # nothing half-written


def test_12_2_download_rejects_an_archive_whose_md5_differs(tmp_path, file_server):
    file_server.files["/UrbanSound8K.tar.gz"] = b"not the 6 GB archive"
    code, out, err = run_lesson(LESSON, "--download", "--mirror", file_server.base_url, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "md5" in err and "does not match the published 9aa69802bbf37fb986f71ec1483a196e" in err
    datasets = _sound.keras_cache_dir()
    assert not (datasets / "UrbanSound8K.tar.gz").exists() and not list(datasets.glob("*.part"))
    assert file_server.requests[0][0] == "/UrbanSound8K.tar.gz"
