"""ctf.py - CTF trace folders as every tool sees them (ipclab-analyze, ipclab-lami in every
phase, ipclab-trace-count): where the traces are, what their metadata declares, and the
check that refuses a truncated packetized metadata file before babeltrace2 (2.0.4) spins
forever on it.

A trace folder is searched recursively and symbolic links are followed the same way
everywhere (the folder given, and links to folders inside it; a loop is visited once)."""

import os
import struct

from .cli import Failure, UsageError

METADATA_MAGIC = 0x75D11D57
PACKET_HEADER = 37  # magic, uuid, checksum, content/packet size (bits), compression, ...


def check_folder(path):
    """UsageError unless path is an existing directory (a symlink to one is fine)."""
    if not os.path.exists(path):
        raise UsageError("%s: no such directory" % path)
    if not os.path.isdir(path):
        raise UsageError("%s: not a directory" % path)


def trace_dirs(path):
    """The real paths of every folder under path (path included) holding a 'metadata'
    file, sorted; links followed, each real folder visited once."""
    found, seen = set(), set()
    for root, dirs, files in os.walk(path, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        if "metadata" in files and os.path.isfile(os.path.join(root, "metadata")):
            found.add(real)
    return sorted(found)


def require_traces(path):
    """trace_dirs(path), or UsageError: not a folder, or no CTF metadata in it."""
    check_folder(path)
    dirs = trace_dirs(path)
    if not dirs:
        raise UsageError("%s: not a CTF trace (no metadata file found)" % path)
    return dirs


def metadata_problem(path):
    """Why the metadata file at path cannot be read safely (empty, a packet cut short, an
    invalid packet header), or None. Plain-text metadata is left to babeltrace2's parser."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return "%s is empty" % path
    if len(data) < 4 or struct.unpack_from("<I", data)[0] != METADATA_MAGIC:
        return None
    off, n = 0, 0
    while off < len(data):
        n += 1
        if len(data) - off < PACKET_HEADER:
            return "%s: packet %d has no complete header" % (path, n)
        magic = struct.unpack_from("<I", data, off)[0]
        content, packet = struct.unpack_from("<II", data, off + 24)
        if magic != METADATA_MAGIC or packet == 0 or packet % 8 or content > packet \
                or content < PACKET_HEADER * 8:
            return "%s: packet %d at offset %d has an invalid header" % (path, n, off)
        if off + packet // 8 > len(data):
            return "%s: packet %d needs %d bytes, only %d present" % (path, n, packet // 8, len(data) - off)
        off += packet // 8
    return None


def check_metadata(path):
    """Failure (exit 1, "truncated or corrupt") if a trace's metadata is damaged."""
    for d in trace_dirs(path):
        try:
            why = metadata_problem(os.path.join(d, "metadata"))
        except OSError as e:
            why = "%s: %s" % (os.path.join(d, "metadata"), e.strerror)
        if why:
            raise Failure("%s: cannot analyse the trace (truncated or corrupt): %s" % (path, why))


def metadata_text(path):
    """The TSDL text (bytes) of a CTF metadata file, packetized or plain."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or struct.unpack_from("<I", data)[0] != METADATA_MAGIC:
        return data
    out, off = [], 0
    while off + PACKET_HEADER <= len(data):
        content, packet = struct.unpack_from("<II", data, off + 24)
        if packet == 0 or packet % 8:
            break
        out.append(data[off + PACKET_HEADER:off + content // 8])
        off += packet // 8
    return b"".join(out)


def declares_ipclab(path):
    """True if a CTF trace under path declares ipclab_* events; UsageError as
    require_traces; Failure if a metadata file cannot be read."""
    for d in require_traces(path):
        try:
            text = metadata_text(os.path.join(d, "metadata"))
        except OSError as e:
            raise Failure("%s: %s" % (d, e.strerror)) from None
        if b'name = "ipclab_' in text:
            return True
    return False
