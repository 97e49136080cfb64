"""Interleaved timing, shared by the bench scripts.

The machines these run on are shared and noisy, so no candidate is timed in one block: each round
runs every candidate once (A, B, C, A, B, C, ...), and a busy moment slows them all alike. Compare
medians, or their ratios.
"""

import os
import re
import resource
import subprocess
import sys
import time
from typing import NamedTuple


class Timings(NamedTuple):
    wall: dict  # name -> wall-clock seconds, one per timed round
    cpu: dict  # name -> CPU seconds of all threads together, one per timed round
    last: dict  # name -> what the job returned in the last round


def interleaved(jobs, rounds, warmup=1, each_round=None):
    """Run every job of `jobs` (name -> function of no arguments) once per round: first `warmup`
    untimed rounds (tracing, caches), then `rounds` timed ones. `each_round()`, if given, runs
    before the jobs of each timed round (e.g. to measure the machine's speed under the same
    load)."""
    timings = Timings({name: [] for name in jobs}, {name: [] for name in jobs}, {})
    for round_ in range(warmup + rounds):
        timed = round_ >= warmup
        if timed and each_round is not None:
            each_round()
        for name, job in jobs.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            timings.last[name] = job()
            if timed:
                timings.wall[name].append(time.perf_counter() - start)
                timings.cpu[name].append(time.process_time() - cpu_start)
    return timings


def timed_run(command, cwd):
    """Run `command` from `cwd` (the project folder); return whole-process seconds, its CPU seconds,
    the seconds since start at each 'Iter' line, and the last accuracy printed."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    stamps, accuracy, tail = [], None, []
    for line in process.stdout:
        if line.startswith("Iter "):
            stamps.append(time.perf_counter() - start)
            accuracy = float(re.search(r"Accuracy=? ?([\d.]+)", line).group(1))
        tail = (tail + [line])[-15:]
    code = process.wait()
    seconds = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        sys.exit(f"{' '.join(command)} exited with {code}:\n{''.join(tail)}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return seconds, cpu, stamps, accuracy
