"""Lesson 12-2's plumbing, which the lesson does not teach: WAV files, UrbanSound8K's folders and
metadata, its download, folders of your own sounds, and drawn stand-in sounds. The MFCCs, the
cache and the network are in the lesson.

Why our own WAV reader: UrbanSound8K keeps each clip as it was uploaded to Freesound, so its WAVs
differ in sample format (16- and 24-bit PCM and float, some in WAVE_FORMAT_EXTENSIBLE headers) and
rate (8 to 192 kHz); `tf.audio.decode_wav` reads 16-bit PCM only and Python's `wave` refuses
WAVE_FORMAT_EXTENSIBLE. A RIFF header is a few fields: reading it here avoids a dependency.
"""
import csv
import io
import math
import shutil
import struct
from pathlib import Path

import numpy as np

import tfcourse
from tfcourse.mnist import keras_cache_dir

OFFICIAL_PAGE = "https://urbansounddataset.weebly.com/urbansound8k.html"
ARCHIVE = "UrbanSound8K.tar.gz"
# The data set's Zenodo record and the archive's md5, as published in soundata's UrbanSound8K
# loader (soundata/datasets/urbansound8k.py, REMOTES["all"]; soundata is MARL/NYU's library).
ARCHIVE_URL = "https://zenodo.org/record/1203745/files/UrbanSound8K.tar.gz"
ARCHIVE_MD5 = "9aa69802bbf37fb986f71ec1483a196e"
CSV_NAME = "metadata/UrbanSound8K.csv"
FOLDS = range(1, 11)
DATA_DIR = keras_cache_dir() / "urbansound8k"  # --download extracts UrbanSound8K/ into it
MAX_UNREADABLE = 0.01  # share of a fold that may be skipped before the copy counts as damaged
DRAWN_CLASSES = ["tone", "rising chirp", "falling chirp", "noise burst", "clicks", "siren",
                 "buzz", "tremolo", "bang", "beeps"]


# ## WAV files

class WavError(ValueError):
    """A WAV file this reader cannot decode (the message says why)."""


def read_wav(path):
    """(samples as float32 in [-1, 1] with shape (frames, channels), sample rate) of a WAV file:
    PCM 8/16/24/32-bit or float 32/64-bit."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    fmt = audio = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt ":
            fmt = data[pos + 8:pos + 8 + size]
        elif chunk == b"data":
            audio = data[pos + 8:pos + 8 + size]  # a truncated file gives what is there
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    if fmt is None:
        raise WavError("no 'fmt ' chunk")
    if len(fmt) < 16:
        raise WavError("the 'fmt ' chunk is cut short")
    if audio is None:
        raise WavError("no 'data' chunk")
    code, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if code == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the SubFormat GUID's code
        code = struct.unpack("<H", fmt[24:26])[0]
    if channels < 1 or rate < 1 or block_align < channels:
        raise WavError(f"a broken header ({channels} channels, {rate} Hz, block {block_align})")
    width = block_align // channels
    audio = audio[:len(audio) - len(audio) % block_align]
    if not audio:
        raise WavError("no samples")
    if code == 1 and width == 1:
        samples = (np.frombuffer(audio, np.uint8).astype(np.float32) - 128) / 128
    elif code == 1 and width in (2, 4):
        samples = np.frombuffer(audio, f"<i{width}").astype(np.float32) / 2 ** (8 * width - 1)
    elif code == 1 and width == 3:  # 24-bit: widen each 3-byte sample to int32, sign included
        raw = np.frombuffer(audio, np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        samples = (value - ((value & 0x800000) << 1)).astype(np.float32) / 2 ** 23
    elif code == 3 and width in (4, 8):
        samples = np.frombuffer(audio, f"<f{width}").astype(np.float32)
    else:
        raise WavError(f"format code {code} with {bits}-bit samples (only PCM 8/16/24/32-bit "
                       "and float 32/64-bit are read)")
    return np.nan_to_num(samples).reshape(-1, channels), rate


def resample(signal, rate, target_rate):
    """Band-limited resampling through the FFT: frequencies above the new Nyquist are dropped.
    The signal is padded to a length that maps to a whole number of output samples first, so
    rounding does not stretch the time axis."""
    if rate == target_rate:
        return signal.astype(np.float32)
    common = math.gcd(rate, target_rate)
    step = rate // common
    n_in = -(-len(signal) // step) * step
    n_out = n_in // step * (target_rate // common)
    spectrum = np.fft.rfft(signal.astype(np.float64), n_in)  # rfft pads with zeros to n_in
    kept = np.zeros(n_out // 2 + 1, np.complex128)
    keep = min(len(spectrum), len(kept))
    kept[:keep] = spectrum[:keep]
    resampled = np.fft.irfft(kept, n_out) * (n_out / n_in)
    return resampled[:max(1, round(len(signal) * target_rate / rate))].astype(np.float32)


def read_clip(path, sample_rate):
    """A WAV file as mono float32 at `sample_rate`, as long as the recording."""
    samples, rate = read_wav(path)
    return resample(samples.mean(axis=1), rate, sample_rate)


def read_clips(root, fold, rows, sample_rate):
    """The clips of one fold: (waveforms, labels, skipped). A WAV that cannot be read is skipped
    and named; more than 1% of a fold unreadable means a damaged copy and stops the run."""
    clips, labels, skipped = [], [], []
    for _, name, label in rows:
        try:
            clips.append(read_clip(root / "audio" / f"fold{fold}" / name, sample_rate))
            labels.append(label)
        except (WavError, OSError) as error:
            skipped.append(f"audio/fold{fold}/{name} ({error})")
    if len(skipped) > max(1, MAX_UNREADABLE * len(rows)) or not clips:
        raise tfcourse.CourseError(
            f"{len(skipped)} of the {len(rows)} WAV files of fold {fold} cannot be read, e.g. "
            f"{'; '.join(skipped[:3])}.\nRemedy: the copy under {root} is damaged: extract "
            f"{ARCHIVE} again (or download it again).")
    return clips, labels, skipped


# ## UrbanSound8K on disk: audio/fold1..fold10/*.wav and metadata/UrbanSound8K.csv

def where_to_get():
    return (f"Remedy: download {ARCHIVE} (about 6 GB) from the data set's page {OFFICIAL_PAGE} "
            f"(it links Zenodo record 1203745), extract it and pass --data-dir PATH/UrbanSound8K, "
            f"the folder holding audio/fold1 ... audio/fold10 and {CSV_NAME} (some folds are "
            f"enough); or run again with --download to fetch it (md5-checked) into {DATA_DIR}; "
            f"or try the lesson first with --data synthetic.")


def find_root(data_dir, given):
    """The folder holding metadata/UrbanSound8K.csv and audio/: `data_dir` or its UrbanSound8K/."""
    for root in (data_dir, data_dir / "UrbanSound8K"):
        if (root / CSV_NAME).is_file():
            return root
    if not given:
        raise tfcourse.CourseError(f"UrbanSound8K is not on this computer yet (looked in "
                                   f"{data_dir}); it is not downloaded without asking.\n"
                                   + where_to_get())
    if not data_dir.is_dir():
        raise tfcourse.CourseError(f"--data-dir {data_dir} does not exist.\n" + where_to_get())
    if any(data_dir.glob("*/*.[wW][aA][vV]")) and not (data_dir / "audio").is_dir():
        raise tfcourse.CourseError(f"--data-dir {data_dir} holds folders of WAV files, not "
                                   f"UrbanSound8K (no {CSV_NAME}).\nRemedy: for your own sounds, "
                                   "one folder per class, add --data own.")
    raise tfcourse.CourseError(f"--data-dir {data_dir} is not laid out like UrbanSound8K: it has "
                               f"no {CSV_NAME}.\n" + where_to_get())


def sound_folders(root):
    """{class name: sorted [WAV paths]} for your own sounds, one sub-folder per class (`--data
    own`); says what it found and which files it leaves out."""
    if not root.is_dir():
        raise tfcourse.CourseError(f"--data-dir {root} does not exist.\nRemedy: name the folder "
                                   "that holds one folder of WAV files per class.")
    classes, others = {}, []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        others += [p.relative_to(root) for p in files if p.suffix.lower() != ".wav"]
        wavs = [p for p in files if p.suffix.lower() == ".wav"]
        if wavs:
            classes[folder.name] = wavs
    found = ", ".join(f"{name} {len(paths)}" for name, paths in classes.items()) or "none"
    print(f"your sounds in {root}: WAV files per class: {found}")
    if others:
        print(f"left out {len(others)} file(s) that are not .wav, e.g. "
              + ", ".join(map(str, others[:3])) + "; to use one, convert it first: "
              "ffmpeg -i IN.mp3 OUT.wav (or sox IN.mp3 OUT.wav)")
    if len(classes) < 2:
        loose = [p.name for p in root.glob("*.[wW][aA][vV]")]  # one class's folder named itself?
        raise tfcourse.CourseError(
            f"--data own needs at least two sub-folders of WAV files under --data-dir {root}, one "
            f"per class; it has {len(classes)} ({found})"
            + (f" and {len(loose)} WAV file(s) of its own, as one class's folder would" if loose
               else "") + ".\nRemedy: put each kind of sound in its own folder, e.g. "
            f"{root / '狗叫'}/*.wav and {root / '门铃'}/*.wav, and name their parent folder.")
    return classes


def read_metadata(root):
    """[(fold, file name, class id)] and the 10 class names, from metadata/UrbanSound8K.csv.
    A file re-saved by Excel is read too: a BOM, CRLF line ends, ';' between the fields."""
    path, rows, names, reader = root / CSV_NAME, [], {}, None
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a BOM goes; CRLF reads as \n
        header = text.partition("\n")[0]
        delimiter = ";" if header.count(";") > header.count(",") else ","
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        lacking = {"slice_file_name", "fold", "classID", "class"} - set(reader.fieldnames)
        if lacking:
            raise tfcourse.CourseError(
                f"{path} has no column {', '.join(sorted(lacking))}: it is not UrbanSound8K's "
                f"metadata file (its first line is {header[:80]!r}).\n" + where_to_get())
        for row in reader:
            if not any((value or "").strip() for value in row.values()):
                continue  # an empty line, as spreadsheets leave at the end
            fold, label = int(row["fold"]), int(row["classID"])
            if fold not in FOLDS or not 0 <= label <= 9:
                raise ValueError(f"fold {fold}, classID {label}")
            rows.append((fold, row["slice_file_name"].strip(), label))
            names[label] = row["class"].strip()
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        where = f" line {reader.line_num}" if reader else ""
        raise tfcourse.CourseError(f"{path}{where} cannot be read ({error}).\nRemedy: "
                                   "extract the metadata folder of the archive again.") from None
    if not rows:
        raise tfcourse.CourseError(f"{path} lists no clip.\nRemedy: extract the metadata "
                                   "folder of the archive again.")
    return rows, [names.get(k, str(k)) for k in range(10)]


def clips_on_disk(root, rows, test_fold):
    """The listed clips whose WAV is on disk. Says which folds are there and which clips are
    missing; refuses when the test fold or every training fold has none."""
    present, absent = [], []
    for fold, name, label in rows:
        if (root / "audio" / f"fold{fold}" / name).is_file():
            present.append((fold, name, label))
        else:
            absent.append(f"audio/fold{fold}/{name}")
    found = sorted({fold for fold, _, _ in present})
    missing = [fold for fold in FOLDS if fold not in found]
    print(f"UrbanSound8K in {root}: folds {', '.join(map(str, found)) or 'none'} found"
          + (f"; folds {', '.join(map(str, missing))} missing" if missing else ""))
    if absent:
        print(f"{len(absent)} of the {len(rows)} clips in {CSV_NAME} are not on disk: "
              + ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else ""))
    if test_fold not in found:
        raise tfcourse.CourseError(
            f"The test fold {test_fold} has no clip on disk under {root / 'audio'}.\nRemedy: "
            f"test on a fold you have, e.g. --test-fold {found[-1]}" if found else
            f"No clip listed in {CSV_NAME} is on disk under {root / 'audio'}.\n" + where_to_get())
    if found == [test_fold]:
        raise tfcourse.CourseError(
            f"Only the test fold {test_fold} has clips on disk: every training fold is empty.\n"
            "Remedy: add at least one more fold of UrbanSound8K under audio/ (with its lines in "
            f"{CSV_NAME}).")
    return present


def download(data_dir, mirror=None):
    """Fetch UrbanSound8K.tar.gz (md5-checked, resumable) and extract it into `data_dir`."""
    if (data_dir / "UrbanSound8K" / CSV_NAME).is_file():
        return  # already there
    archive = keras_cache_dir() / ARCHIVE
    archive.parent.mkdir(parents=True, exist_ok=True)
    print(f"UrbanSound8K needs about 6 GB for {archive} and 7 GB more extracted; "
          f"{shutil.disk_usage(archive.parent).free / 2 ** 30:.0f} GB are free there")
    urls = [mirror.rstrip("/") + "/" + ARCHIVE] if mirror else [ARCHIVE_URL]
    tfcourse.download(urls, archive, md5=ARCHIVE_MD5, what=f"UrbanSound8K ({ARCHIVE}, 6 GB)")
    print(f"extracting {archive} into {data_dir} (you may delete the archive afterwards)")
    tfcourse.extract_tar(archive, data_dir)


# ## Drawn stand-in sounds: 10 kinds, for a run with nothing downloaded

def drawn_sounds(n_clips, sample_rate, clip_seconds, seed=0):
    """(waveforms (n, samples), labels, folds): 10 kinds of sound at random pitch, length,
    loudness and onset over a little background noise; every fold holds every kind."""
    rng = np.random.default_rng(seed)
    n = round(sample_rate * clip_seconds)
    top = 0.4 * sample_rate  # stay below Nyquist at any --sample-rate
    waves, labels = np.zeros((n_clips, n), np.float32), np.arange(n_clips) % 10
    for i, kind in enumerate(labels):
        length = int(n * rng.uniform(0.3, 1.0))
        t = np.arange(length) / sample_rate
        f0 = rng.uniform(150, min(1500, top / 2))
        if kind in (1, 2):  # chirps: pitch glides up or down by 2-4x
            f = f0 * rng.uniform(2, 4) ** ((t / t[-1]) if kind == 1 else (1 - t / t[-1]))
            sound = np.sin(2 * np.pi * np.cumsum(np.minimum(f, top)) / sample_rate)
        elif kind == 3:
            sound = rng.uniform(-1, 1, length)
        elif kind == 4:  # clicks: short decaying ticks, 5-20 per second
            sound = np.zeros(length)
            for at in np.arange(0, length, int(sample_rate / rng.uniform(5, 20))):
                size = min(80, length - at)
                sound[at:at + size] += rng.uniform(-1, 1, size) * np.exp(-np.arange(size) / 15)
        elif kind == 5:  # siren: the pitch swings up and down 1-4 times a second
            f = f0 * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
            sound = np.sin(2 * np.pi * np.cumsum(f) / sample_rate)
        elif kind == 6:  # buzz: a low tone rich in harmonics
            f_low = rng.uniform(80, 300)
            harmonics = [k for k in range(1, 9) if k * f_low < top]
            sound = sum(np.sin(2 * np.pi * k * f_low * t) / k for k in harmonics)
        elif kind == 7:  # tremolo: the loudness swings 4-12 times a second
            swing = 0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(4, 12) * t)
            sound = np.sin(2 * np.pi * f0 * t) * swing
        elif kind == 8:  # bang: a noise burst that dies away in 30-150 ms
            sound = rng.uniform(-1, 1, length) * np.exp(-t / rng.uniform(0.03, 0.15))
        elif kind == 9:  # beeps: a tone switched on and off 2-5 times
            on = np.sin(2 * np.pi * rng.uniform(2, 5) * t / t[-1] * 0.999) > 0
            sound = np.sin(2 * np.pi * f0 * t) * on
        else:  # a steady tone
            sound = np.sin(2 * np.pi * f0 * t)
        start = rng.integers(0, n - length + 1)
        waves[i, start:start + length] = rng.uniform(0.05, 0.9) * sound / max(np.abs(sound).max(),
                                                                               1e-6)
        waves[i] += rng.normal(0, rng.uniform(0.001, 0.02), n)
    return waves, labels.astype(np.int32), (np.arange(n_clips) // 10) % 10 + 1
