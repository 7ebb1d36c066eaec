"""tap.py - run the tooling's unittest modules (tests/tools/test_*.py) and print TAP:
one "ok N - module.Class.test" or "not ok N - ..." line per test, failures' tracebacks as
"#" comments, skips as "ok N - name # SKIP reason". Exit 0 when every test passed.

usage: /usr/bin/python3 tests/tools/tap.py [PATTERN]   (PATTERN: a test module glob)"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
sys.path.insert(0, HERE)


class TapResult(unittest.TestResult):
    """Prints one TAP line per test as it ends."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def _line(self, ok, test, extra=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, test.id(), extra), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test)
        self._comment(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test)
        self._comment(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, " # SKIP %s" % reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(False, test, " (unexpected success)")

    @staticmethod
    def _comment(text):
        for line in text.rstrip().splitlines():
            print("# " + line)


def main(argv):
    pattern = argv[1] if len(argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    total = suite.countTestCases()
    print("1..%d" % total, flush=True)
    result = TapResult()
    suite.run(result)
    return 0 if result.wasSuccessful() and result.n == total else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
