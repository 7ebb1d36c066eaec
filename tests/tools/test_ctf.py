"""test_ctf - trace folders (symlinks followed alike everywhere), metadata checks."""

import os
import struct
import unittest

from fixtures import TempDir
from ipclab_tools import ctf
from ipclab_tools.cli import Failure, UsageError

TSDL = b'/* CTF 1.8 */\nevent { name = "ipclab_msg:msg_send"; };\n'


def packet(payload, pad=0):
    """One packetized metadata packet holding payload (header 37 bytes, sizes in bits)."""
    content = 37 + len(payload)
    size = content + pad
    hdr = struct.pack("<I16sIII5B", ctf.METADATA_MAGIC, b"u" * 16, 0, content * 8, size * 8, 0, 0, 0, 1, 8)
    return hdr + payload + b"\0" * pad


class Folders(TempDir):
    def trace(self, rel, metadata=TSDL):
        os.makedirs(self.path(rel), exist_ok=True)
        with open(self.path(rel, "metadata"), "wb") as f:
            f.write(metadata)
        return self.path(rel)

    def test_trace_dirs_follow_links_once(self):
        a = self.trace("real/ust/uid/0/64-bit")
        os.symlink(self.path("real"), self.path("link"))
        os.symlink(self.path("real"), self.path("real", "loop"))  # a loop: visited once
        self.assertEqual(ctf.trace_dirs(self.path("link")), [os.path.realpath(a)])
        self.assertEqual(ctf.trace_dirs(self.path("real")), [os.path.realpath(a)])
        self.assertEqual(ctf.require_traces(self.path("link")), [os.path.realpath(a)])

    def test_require_traces_errors(self):
        with self.assertRaisesRegex(UsageError, "no such directory"):
            ctf.require_traces(self.path("none"))
        with self.assertRaisesRegex(UsageError, "not a directory"):
            ctf.require_traces(self.write("f", "x"))
        os.makedirs(self.path("empty"))
        with self.assertRaisesRegex(UsageError, "not a CTF trace"):
            ctf.require_traces(self.path("empty"))

    def test_declares_ipclab(self):
        self.assertTrue(ctf.declares_ipclab(self.trace("t")))
        self.assertTrue(ctf.declares_ipclab(self.trace("p", packet(TSDL) + packet(b"/* more */"))))
        self.assertFalse(ctf.declares_ipclab(self.trace("f", b'event { name = "other"; };')))


class Metadata(TempDir):
    def _bytes(self, data):
        with open(self.path("metadata"), "wb") as f:
            f.write(data)
        return self.path("metadata")

    def test_good_packets(self):
        p = self._bytes(packet(TSDL, pad=11) + packet(b"x"))
        self.assertIsNone(ctf.metadata_problem(p))
        self.assertEqual(ctf.metadata_text(p), TSDL + b"x")
        self.assertIsNone(ctf.metadata_problem(self._bytes(TSDL)))  # plain text: babeltrace2's business

    def test_damaged(self):
        good = packet(TSDL) + packet(b"more")
        for data, want in ((b"", "is empty"), (good[:20], "no complete header"),
                           (good[:len(good) - 3], "needs"), (good[:37] + b"\0" * 10 + b"\x57\x1d", "needs"),
                           (packet(TSDL) + b"\x01" * 40, "invalid header")):
            why = ctf.metadata_problem(self._bytes(data))
            self.assertIsNotNone(why)
            self.assertIn(want, why)
        with self.assertRaisesRegex(Failure, "truncated or corrupt"):
            ctf.check_metadata(self.tmp)


if __name__ == "__main__":
    unittest.main()
