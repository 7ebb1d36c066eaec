"""fixtures.py - what several test modules build: temporary folders, ipclab result
envelopes and --hist files with known values, a results folder as bench/run writes it."""

import json
import os
import random
import shutil
import tempfile
import unittest

from ipclab_tools import hist


class TempDir(unittest.TestCase):
    """A TestCase with self.tmp, a fresh folder removed after each test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ipclab-tools-test.")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, rel, text):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def write_json(self, rel, doc):
        return self.write(rel, json.dumps(doc))


def envelope(experiment, params, results):
    return {"schema": "ipclab-result/1", "experiment": experiment, "cmdline": ["ipclab"] + experiment.split(),
            "start_time": "2026-01-01T00:00:00.000000Z", "end_time": "2026-01-01T00:00:01.000000Z",
            "sysinfo": {}, "params": params, "results": results, "warnings": [], "exit_code": 0}


def summarize(samples):
    """An ipclab latency summary of samples (ns) and its buckets, as src/core/hist.c makes them."""
    buckets = {}
    for v in samples:
        buckets[hist.lower_edge(v)] = buckets.get(hist.lower_edge(v), 0) + 1
    n, lo, hi = len(samples), min(samples), max(samples)
    mean = sum(samples) / n
    sd = (sum((v - mean) ** 2 for v in samples) / max(1, n - 1)) ** 0.5

    def pct(p):
        rank, cum = max(1, -(-p * n // 100)), 0
        for b in sorted(buckets):
            cum += buckets[b]
            if cum >= rank:
                return hist.bucket_value(b, lo, hi)
        return hi

    s = {"count": n, "min": lo, "max": hi, "mean": mean, "stddev": sd, "p50": pct(50), "p90": pct(90),
         "p99": pct(99), "p999": pct(99.9), "overflow": 0}
    return s, sorted(buckets.items())


def hist_block(name, s, buckets):
    lines = ["# histogram: %s" % name, "# unit: ns (bucket lower edge)",
             "# count: %d  overflow(>10000000000 ns): 0" % s["count"],
             "# min: %d  mean: %.1f  stddev: %.1f  p50: %d  p90: %d  p99: %d  p99.9: %d  max: %d"
             % (s["min"], s["mean"], s["stddev"], s["p50"], s["p90"], s["p99"], s["p999"], s["max"]),
             "# bucket_ns\tcount"]
    return "\n".join(lines + ["%d\t%d" % b for b in buckets]) + "\n"


def samples(seed, centre, n=2000, spread=0.05):
    rng = random.Random(seed)
    return [max(1, int(rng.gauss(centre, centre * spread))) for _ in range(n)]


def latency_run(folder, rid, centre, seed, repeats=None):
    """runs/RID.json (ipc latency, an rtt summary, per-repeat p50s if given) and hist/RID.tsv."""
    s, b = summarize(samples(seed, centre))
    res = {"rtt": s, "traced": False}
    if repeats:
        res["repeats"] = [{"repeat": i, "rtt_p50": v} for i, v in enumerate(repeats)]
    os.makedirs(os.path.join(folder, "runs"), exist_ok=True)
    os.makedirs(os.path.join(folder, "hist"), exist_ok=True)
    with open(os.path.join(folder, "runs", rid + ".json"), "w") as f:
        json.dump(envelope("ipc latency", {"transport": "pipe", "mode": "thread", "placement": "same-cpu",
                                           "cpu": [0, 0]}, res), f)
    with open(os.path.join(folder, "hist", rid + ".tsv"), "w") as f:
        f.write(hist_block("rtt", s, b))
    return s
