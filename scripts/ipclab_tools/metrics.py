"""metrics.py - the measured quantities inside an ipclab result: every latency summary
(an object with a p50: rtt, oneway_ab, wake_latency, lateness, ...) and every throughput
(a key ending in _per_s; "ideal_*" is computed, not measured), named by their path, and
the per-repeat values of each (results.repeats[] beside or above it)."""

from .fmt import num

# keys whose value tells the elements of a list apart ("points[size=64]")
ID_KEYS = ("name", "size", "working_set_kb", "touch_mb", "task_us", "workers", "kind",
           "method", "transport", "impl")


def list_labels(lst):
    """Labels for the elements of a list: "[key=value]" by an identifying key, else "[i]"."""
    dicts = [e for e in lst if isinstance(e, dict)]
    if len(dicts) == len(lst) and lst:
        for k in ID_KEYS:
            vals = [e.get(k) for e in lst]
            if all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in vals) and \
                    len(set(vals)) == len(vals):
                return ["[%s=%s]" % (k, v) for v in vals]
    return ["[%d]" % i for i in range(len(lst))]


def walk(results):
    """[(label, path, kind, value)]: kind "latency" (value: the summary object) or
    "throughput" (value: the number); the per-repeat lists "repeats" are not walked."""
    out = []

    def visit(node, path, label):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "repeats":
                    continue
                lab = k if not label else "%s.%s" % (label, k)
                if isinstance(v, dict) and num(v.get("p50")):
                    out.append((lab, path + [k], "latency", v))
                elif k.endswith("_per_s") and num(v) and not k.startswith("ideal_"):
                    out.append((lab, path + [k], "throughput", v))
                else:
                    visit(v, path + [k], lab)
        elif isinstance(node, list):
            for i, (v, sub) in enumerate(zip(node, list_labels(node))):
                visit(v, path + [i], label + sub)

    visit(results, [], "")
    return out


def value_of(kind, v):
    """The number compared for a metric: a latency summary's p50, a throughput itself."""
    return v.get("p50") if kind == "latency" else v


def get_path(node, path):
    for p in path:
        if isinstance(node, dict) and isinstance(p, str) and p in node:
            node = node[p]
        elif isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node):
            node = node[p]
        else:
            return None
    return node


def repeat_keys(results, path, kind):
    """The per-repeat keys of a metric: LEAF (throughput); LEAF_p50 (latency summary), and
    for oneway_ab also oneway_p50, which ipc and signal latency write for oneway_ab (so it
    is not the merged "oneway" summary's when oneway_ab is beside it)."""
    leaf = path[-1]
    if kind != "latency":
        return [leaf]
    keys = [leaf + "_p50"]
    if leaf == "oneway_ab":
        keys.append("oneway_p50")
    elif leaf == "oneway":
        sib = get_path(results, path[:-1])
        if isinstance(sib, dict) and isinstance(sib.get("oneway_ab"), dict):
            keys = []
    return keys


def repeat_values(results, path, kind):
    """Per-repeat values of a metric: in the nearest "repeats" list above it, the same
    relative path and a key of repeat_keys()."""
    parent = path[:-1]
    for key in repeat_keys(results, path, kind):
        for j in range(len(parent), -1, -1):
            node = get_path(results, parent[:j])
            if not isinstance(node, dict) or not isinstance(node.get("repeats"), list):
                continue
            vals = [get_path(r, parent[j:] + [key]) for r in node["repeats"]]
            vals = [float(v) for v in vals if num(v)]
            if vals:
                return vals
    return []
