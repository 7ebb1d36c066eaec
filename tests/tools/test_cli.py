"""test_cli - one-line usage errors, range-checked numbers, exit codes and tracebacks."""

import io
import sys
import unittest
from contextlib import redirect_stderr

from ipclab_tools import cli


class Parser(unittest.TestCase):
    def parser(self):
        p = cli.ArgumentParser(prog="t")
        p.add_argument("trace", metavar="TRACE")
        p.add_argument("--n", type=cli.int_type("--n", 1, 10))
        return p

    def test_unknown_option_is_one_line_usage_error(self):
        with self.assertRaises(cli.UsageError) as c:
            self.parser().parse_args(["x", "--bogus"])
        self.assertEqual(c.exception.message, "unknown option '--bogus' (try --help)")
        self.assertEqual(c.exception.code, 2)

    def test_missing_and_unexpected(self):
        with self.assertRaises(cli.UsageError) as c:
            self.parser().parse_args([])
        self.assertEqual(c.exception.message, "missing TRACE (try --help)")
        with self.assertRaises(cli.UsageError) as c:
            self.parser().parse_args(["a", "b"])
        self.assertEqual(c.exception.message, "unexpected argument 'b' (try --help)")

    def test_no_abbreviations(self):
        with self.assertRaises(cli.UsageError):
            cli.ArgumentParser(prog="t").parse_args(["--hel"])

    def test_range_checked_integer(self):
        self.assertEqual(self.parser().parse_args(["x", "--n", "7"]).n, 7)
        for bad in ("0", "11", "3.5", "x", "0x3"):
            with self.assertRaises(cli.UsageError):
                self.parser().parse_args(["x", "--n", bad])


class Run(unittest.TestCase):
    def exit_of(self, main):
        err = io.StringIO()
        with redirect_stderr(err), self.assertRaises(SystemExit) as c:
            cli.run(main, "prog", [])
        return c.exception.code, err.getvalue()

    def test_failures_give_their_code_and_one_line(self):
        for cls, code in ((cli.UsageError, 2), (cli.NoResource, 3), (cli.Unsupported, 4), (cli.Failure, 1)):
            def main(_argv, cls=cls):
                raise cls("bad\nthing")
            got, err = self.exit_of(main)
            self.assertEqual(got, code)
            self.assertEqual(err, "prog: bad thing\n")

    def test_return_value_is_the_status(self):
        self.assertEqual(self.exit_of(lambda a: 0)[0], 0)
        self.assertEqual(self.exit_of(lambda a: 1)[0], 1)

    def test_a_bug_is_not_hidden(self):
        """An unexpected exception propagates (Python prints its traceback, exit 1)."""
        def main(_argv):
            raise ZeroDivisionError("bug")
        with self.assertRaises(ZeroDivisionError):
            cli.run(main, "prog", [])

    def test_interrupt(self):
        def main(_argv):
            raise KeyboardInterrupt
        self.assertEqual(self.exit_of(main)[0], 130)

    def test_one_line(self):
        self.assertEqual(cli.one_line(" a\n b\tc "), "a b c")
        self.assertEqual(cli.Failure("x\ny").message, "x y")


if __name__ == "__main__":
    sys.exit(unittest.main())
