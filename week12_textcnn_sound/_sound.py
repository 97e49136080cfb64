"""Plumbing for lesson 12-2 (not part of the lesson): UrbanSound8K's folder and CSV, WAV files read
with numpy, resampling, the feature cache, the opt-in download, and the drawn stand-in sounds.

Why our own WAV reader: UrbanSound8K keeps each clip as it was uploaded to Freesound, so its WAVs
differ in sample format (16- and 24-bit PCM and float among them, some in WAVE_FORMAT_EXTENSIBLE
headers) and rate (8 to 192 kHz); `tf.audio.decode_wav` reads 16-bit PCM only and Python's `wave`
refuses WAVE_FORMAT_EXTENSIBLE. A RIFF header is a few fields: reading it here (PCM 8/16/24/32-bit,
float 32/64-bit) avoids a dependency.
A WAV that still cannot be read (another codec, a damaged file) is skipped, named and counted; more
than 1% of a fold unreadable means a damaged copy, and the run stops with a message naming files.
"""
import csv
import hashlib
import inspect
import json
import math
import shutil
import struct
import time
from pathlib import Path

import numpy as np

import tfcourse
from tfcourse.mnist import keras_cache_dir

OFFICIAL_PAGE = "https://urbansounddataset.weebly.com/urbansound8k.html"
ARCHIVE = "UrbanSound8K.tar.gz"
# The dataset's Zenodo record and the archive's md5, as published in soundata's urbansound8k
# loader (soundata/datasets/urbansound8k.py, REMOTES["all"]; soundata is MARL/NYU's loader library).
ARCHIVE_URL = "https://zenodo.org/record/1203745/files/UrbanSound8K.tar.gz"
ARCHIVE_MD5 = "9aa69802bbf37fb986f71ec1483a196e"
CSV_NAME = "metadata/UrbanSound8K.csv"
FOLDS = range(1, 11)
MAX_UNREADABLE = 0.01  # share of a fold that may be skipped before the copy counts as damaged
DRAWN_CLASSES = ["tone", "rising chirp", "falling chirp", "noise burst", "clicks", "siren",
                 "buzz", "tremolo", "bang", "beeps"]


def add_data_flags(parser):
    data = parser.add_argument_group("data (数据)")
    data.add_argument("--data", choices=["urbansound8k", "synthetic"], default="urbansound8k",
                      help="urbansound8k: the real data set (default); synthetic: drawn sounds of 10 kinds, "
                           "for a run with nothing downloaded (labelled as such in the output)")
    data.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                      help="the UrbanSound8K folder: audio/fold1..fold10 and metadata/UrbanSound8K.csv "
                           f"(default {default_data_dir()}/UrbanSound8K)")
    data.add_argument("--download", action="store_true",
                      help=f"fetch {ARCHIVE} (about 6 GB, md5-checked) and extract it into {default_data_dir()}")
    data.add_argument("--mirror", default=None, metavar="URL",
                      help=f"with --download: a URL folder holding {ARCHIVE}, used instead of Zenodo")
    data.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                      help=f"where the MFCCs of each fold are cached (default {default_cache_dir()})")
    data.add_argument("--test-fold", type=int, choices=FOLDS, default=10, metavar="1..10",
                      help="the fold to test on; the other nine train (default 10)")
    data.add_argument("--clips", type=tfcourse.non_negative_int, default=0, metavar="N",
                      help="use about N clips, evenly from every fold (default 0: all 8732; synthetic: 1000)")


def default_data_dir():
    return keras_cache_dir() / "urbansound8k"  # --download extracts UrbanSound8K/ into it


def default_cache_dir():
    return keras_cache_dir() / "urbansound8k_features"


# ---------------------------------------------------------------- WAV files

class WavError(ValueError):
    """A WAV file this reader cannot decode (the message says why)."""


def read_wav(path):
    """(samples as float32 in [-1, 1] with shape (frames, channels), sample rate) of a WAV file."""
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
    if code == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the code opens the SubFormat GUID
        code = struct.unpack("<H", fmt[24:26])[0]
    if channels < 1 or rate < 1 or block_align < channels:
        raise WavError(f"a broken header ({channels} channels, {rate} Hz, block {block_align} bytes)")
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
        raise WavError(f"format code {code} with {bits}-bit samples (only PCM 8/16/24/32-bit and "
                       "float 32/64-bit are read)")
    return np.nan_to_num(samples).reshape(-1, channels), rate


def resample(signal, rate, target_rate):
    """Band-limited resampling through the FFT: frequencies above the new Nyquist are dropped.

    The signal is first padded with silence to a length that maps to a whole number of output
    samples, so the time axis is not stretched by rounding."""
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


def load_clip(path, sample_rate, n_samples):
    """A WAV file as mono float32 at `sample_rate`, zero-padded or cut to `n_samples`."""
    samples, rate = read_wav(path)
    clip = resample(samples.mean(axis=1), rate, sample_rate)[:n_samples]
    return np.pad(clip, (0, n_samples - len(clip)))


# ---------------------------------------------------------------- UrbanSound8K on disk

def where_to_get(data_dir):
    return (f"Remedy: download {ARCHIVE} (about 6 GB) from the data set's page {OFFICIAL_PAGE} "
            f"(it links Zenodo record 1203745), extract it and pass --data-dir PATH/UrbanSound8K, "
            f"the folder holding audio/fold1 ... audio/fold10 and {CSV_NAME}; or run again with "
            f"--download to fetch it from Zenodo (md5-checked) and extract it into {data_dir}; "
            f"or try the lesson first with --data synthetic.")


def find_root(data_dir, given):
    """The folder holding audio/fold1..10 and the CSV: `data_dir` itself or its UrbanSound8K/."""
    data_dir = Path(data_dir)
    for root in (data_dir, data_dir / "UrbanSound8K"):
        if (root / CSV_NAME).is_file() and all((root / "audio" / f"fold{k}").is_dir() for k in FOLDS):
            return root
    if not given:
        raise tfcourse.CourseError(f"UrbanSound8K is not on this computer yet (looked in {data_dir}); "
                                   f"it is not downloaded without asking.\n" + where_to_get(data_dir))
    if not data_dir.is_dir():
        raise tfcourse.CourseError(f"--data-dir {data_dir} is not a folder.\n" + where_to_get(default_data_dir()))
    missing = [CSV_NAME] if not (data_dir / CSV_NAME).is_file() else []
    folds = [f"audio/fold{k}/" for k in FOLDS if not (data_dir / "audio" / f"fold{k}").is_dir()]
    missing += ["audio/fold1/ ... audio/fold10/"] if len(folds) == 10 else folds
    raise tfcourse.CourseError(f"--data-dir {data_dir} is not laid out like UrbanSound8K: it has no "
                               f"{', no '.join(missing)}.\n" + where_to_get(default_data_dir()))


def read_metadata(root):
    """[(fold, file name, class id)] and the class names, from metadata/UrbanSound8K.csv."""
    path, rows, names, line = root / CSV_NAME, [], {}, 1
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            lacking = {"slice_file_name", "fold", "classID", "class"} - set(reader.fieldnames or [])
            if lacking:
                raise tfcourse.CourseError(f"{path} has no column {', '.join(sorted(lacking))}: it is not "
                                           "UrbanSound8K's metadata file.\n" + where_to_get(default_data_dir()))
            for line, row in enumerate(reader, start=2):
                fold, label = int(row["fold"]), int(row["classID"])
                if fold not in FOLDS or not 0 <= label <= 9:
                    raise ValueError(f"fold {fold}, classID {label}")
                rows.append((fold, row["slice_file_name"], label))
                names[label] = row["class"]
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise tfcourse.CourseError(f"{path} line {line} cannot be read ({error}).\n"
                                   "Remedy: extract the metadata folder of the archive again.") from None
    absent = [f"audio/fold{fold}/{name}" for fold, name, _ in rows
              if not (root / "audio" / f"fold{fold}" / name).is_file()]
    if absent:
        raise tfcourse.CourseError(f"{len(absent)} of the {len(rows)} clips listed in {CSV_NAME} are missing under "
                                   f"{root}, e.g. {', '.join(absent[:3])}.\nRemedy: extract {ARCHIVE} again, whole.")
    return rows, [names.get(k, str(k)) for k in range(10)]


def fold_features(root, fold, rows, settings, features_fn, cache_dir):
    """MFCCs and labels of one fold: from the cache when the same settings made them before."""
    key = hashlib.sha256(json.dumps([settings, inspect.getsource(features_fn), str(root.resolve()), rows],
                                    sort_keys=True).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"fold{fold}-{key}.npz"
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as saved:
                print(f"fold {fold}: {len(saved['labels'])} clips' features from the cache {cache}")
                return saved["features"], saved["labels"], list(saved["skipped"])
        except (OSError, ValueError, KeyError):
            print(f"fold {fold}: the cache file {cache} is damaged; computing again")
    start, n_samples = time.perf_counter(), round(settings["sample_rate"] * settings["clip_seconds"])
    clips, labels, skipped = [], [], []
    for _, name, label in rows:
        path = root / "audio" / f"fold{fold}" / name
        try:
            clips.append(load_clip(path, settings["sample_rate"], n_samples))
            labels.append(label)
        except (WavError, OSError) as error:
            skipped.append(f"audio/fold{fold}/{name} ({error})")
    if len(skipped) > max(1, MAX_UNREADABLE * len(rows)):
        raise tfcourse.CourseError(f"{len(skipped)} of the {len(rows)} WAV files of fold {fold} cannot be read, "
                                   f"e.g. {'; '.join(skipped[:3])}.\nRemedy: the copy under {root} is damaged: "
                                   f"extract {ARCHIVE} again (or download it again).")
    if not clips:
        raise tfcourse.CourseError(f"No WAV file of fold {fold} can be read: {'; '.join(skipped[:3])}.")
    waveforms = np.stack(clips)
    features = np.concatenate([np.asarray(features_fn(waveforms[i:i + 128], settings["sample_rate"]))
                               for i in range(0, len(waveforms), 128)])
    labels = np.array(labels, np.int32)
    with tfcourse.atomic_path(cache) as tmp:  # a cache file is whole or absent
        with open(tmp, "wb") as handle:
            np.savez(handle, features=features, labels=labels, skipped=np.array(skipped, dtype=str),
                     settings=np.array(json.dumps(settings)))
    print(f"fold {fold}: decoded {len(clips)} WAVs in {time.perf_counter() - start:.1f} s; "
          f"features cached in {cache}")
    return features, labels, skipped


def load(args, settings, features_fn):
    """((x_train, y_train), (x_test, y_test), class names) of --data, after checking the sizes."""
    if round(settings["sample_rate"] * settings["clip_seconds"]) < settings["frame_length"]:
        raise tfcourse.CourseError(f"A clip of {args.clip_seconds} s at {args.sample_rate} Hz is shorter than one "
                                   f"frame ({settings['frame_length']} samples).\nRemedy: a longer --clip-seconds.",
                                   exit_code=2)
    loaded = (drawn_sound_folds if args.data == "synthetic" else load_urbansound8k)(args, settings, features_fn)
    if len(loaded[0][0]) < args.batch_size:
        raise tfcourse.CourseError(f"Only {len(loaded[0][0])} training clips: fewer than one batch of --batch-size "
                                   f"{args.batch_size}.\nRemedy: a smaller --batch-size, or more --clips.", exit_code=2)
    return loaded


def load_urbansound8k(args, settings, features_fn):
    """Train (every fold but --test-fold) and test features: ((x, y), (x, y), class names)."""
    data_dir = args.data_dir or default_data_dir()
    if args.download and args.data_dir is not None:
        raise tfcourse.CourseError(f"--download extracts into {default_data_dir()}; it does not take --data-dir.\n"
                                   "Remedy: drop one of the two flags.", exit_code=2)
    if args.download:
        download(data_dir, args.mirror)
    root = find_root(data_dir, given=args.data_dir is not None)
    rows, class_names = read_metadata(root)
    parts, skipped = {}, []
    for fold in FOLDS:
        fold_rows = [row for row in rows if row[0] == fold]
        if args.clips:  # a smaller, evenly spread share of every fold (--quick)
            fold_rows = fold_rows[::max(1, len(fold_rows) * 10 // args.clips)]
        parts[fold] = fold_features(root, fold, fold_rows, settings, features_fn, args.cache_dir or default_cache_dir())
        skipped += parts[fold][2]
    if skipped:
        print(f"skipped {len(skipped)} WAV file(s) that cannot be read: " + "; ".join(skipped[:5])
              + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""))
    train = [parts[k] for k in FOLDS if k != args.test_fold]
    return ((np.concatenate([p[0] for p in train]), np.concatenate([p[1] for p in train])),
            parts[args.test_fold][:2], class_names)


def download(data_dir, mirror=None):
    """Fetch UrbanSound8K.tar.gz (md5-checked, resumable) and extract it into `data_dir`."""
    if (Path(data_dir) / "UrbanSound8K" / CSV_NAME).is_file():
        return  # already there
    archive = keras_cache_dir() / ARCHIVE
    archive.parent.mkdir(parents=True, exist_ok=True)
    print(f"UrbanSound8K needs about 6 GB for {archive} and 7 GB more extracted; "
          f"{shutil.disk_usage(archive.parent).free / 2 ** 30:.0f} GB are free there")
    urls = [mirror.rstrip("/") + "/" + ARCHIVE] if mirror else [ARCHIVE_URL]
    tfcourse.download(urls, archive, md5=ARCHIVE_MD5, what=f"UrbanSound8K ({ARCHIVE}, about 6 GB)")
    print(f"extracting {archive} into {data_dir} (you may delete the archive afterwards)")
    tfcourse.extract_tar(archive, data_dir)


# ---------------------------------------------------------------- drawn stand-in sounds

def drawn_sound_folds(args, settings, features_fn):
    """load_urbansound8k's answer for --data synthetic: drawn sounds, in folds 1-10 like UrbanSound8K."""
    waves, labels, folds = drawn_sounds(args.clips or 1000, settings["sample_rate"], settings["clip_seconds"],
                                        args.seed)
    features = np.concatenate([np.asarray(features_fn(waves[i:i + 128], settings["sample_rate"]))
                               for i in range(0, len(waves), 128)])
    test = folds == args.test_fold
    return (features[~test], labels[~test]), (features[test], labels[test]), DRAWN_CLASSES


def drawn_sounds(n_clips, sample_rate, clip_seconds, seed=0):
    """(waveforms (n, samples), labels, folds): 10 kinds of sound at random pitch, length, loudness
    and onset over a little background noise; every fold holds every kind."""
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
                tick = rng.uniform(-1, 1, min(80, length - at)) * np.exp(-np.arange(min(80, length - at)) / 15)
                sound[at:at + len(tick)] += tick
        elif kind == 5:  # siren: the pitch swings up and down 1-4 times a second
            f = f0 * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
            sound = np.sin(2 * np.pi * np.cumsum(f) / sample_rate)
        elif kind == 6:  # buzz: a low tone rich in harmonics
            f_low = rng.uniform(80, 300)
            sound = sum(np.sin(2 * np.pi * k * f_low * t) / k for k in range(1, 9) if k * f_low < top)
        elif kind == 7:  # tremolo: the loudness swings 4-12 times a second
            sound = np.sin(2 * np.pi * f0 * t) * (0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(4, 12) * t))
        elif kind == 8:  # bang: a noise burst that dies away in 30-150 ms
            sound = rng.uniform(-1, 1, length) * np.exp(-t / rng.uniform(0.03, 0.15))
        elif kind == 9:  # beeps: a tone switched on and off 2-5 times
            sound = np.sin(2 * np.pi * f0 * t) * (np.sin(2 * np.pi * rng.uniform(2, 5) * t / t[-1] * 0.999) > 0)
        else:  # a steady tone
            sound = np.sin(2 * np.pi * f0 * t)
        start = rng.integers(0, n - length + 1)
        waves[i, start:start + length] = rng.uniform(0.05, 0.9) * sound / max(np.abs(sound).max(), 1e-6)
        waves[i] += rng.normal(0, rng.uniform(0.001, 0.02), n)
    return waves, labels.astype(np.int32), (np.arange(n_clips) // 10) % 10 + 1
