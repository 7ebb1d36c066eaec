"""cli.py - what every entry point shares: argparse with one-line usage errors, the exit
codes of the C side, and the one place that turns an error into a message and a status.

Exit codes (as ipclab's): 0 ok, 1 a check failed, 2 usage (bad input), 3 no resource,
4 unsupported. A bad input raises one of the Failure subclasses below: one line on stderr,
"PROG: reason". Any other exception is a bug: Python's traceback and exit 1 (never a
blanket `except Exception` that hides it)."""

import argparse
import os
import re
import sys

OK, FAILED, USAGE, NO_RESOURCE, UNSUPPORTED = 0, 1, 2, 3, 4


class Failure(Exception):
    """An expected failure: one line on stderr and exit status `code`."""

    code = FAILED

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = one_line(message)
        if code is not None:
            self.code = code


class UsageError(Failure):
    """Bad input (options, arguments, a missing folder): exit 2."""

    code = USAGE


class NoResource(Failure):
    """A resource is missing (a tool, a build, permissions, space): exit 3."""

    code = NO_RESOURCE


class Unsupported(Failure):
    """Cannot run here: exit 4."""

    code = UNSUPPORTED


def one_line(text):
    """text with every run of whitespace (newlines included) as one blank."""
    return " ".join(str(text).split())


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors raise UsageError (one line, exit 2) instead of printing
    the usage block; allow_abbrev is off so an option is only ever its own full name."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        """argparse's message, said the way every ipclab tool says it."""
        m = re.fullmatch(r"unrecognized arguments: (\S+).*", message)
        if m:
            word = m.group(1)
            message = ("unknown option '%s'" if word.startswith("-") and word != "-"
                       else "unexpected argument '%s'") % word
        m = re.fullmatch(r"the following arguments are required: (.*)", message)
        if m:
            message = "missing %s" % m.group(1)
        raise UsageError("%s (try --help)" % message)


def parse_int(text, what, lo=None, hi=None):
    """int(text) range-checked, else UsageError naming `what` (decimal only)."""
    s = str(text).strip()
    try:
        v = int(s, 10)
    except ValueError:
        raise UsageError("%s: '%s' is not an integer" % (what, text)) from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise UsageError("%s: %s is out of range [%s, %s]" % (what, text, "-inf" if lo is None else lo,
                                                             "inf" if hi is None else hi))
    return v


def int_type(what, lo=None, hi=None):
    """An argparse type: a range-checked integer."""
    return lambda s: parse_int(s, what, lo, hi)


def run(main, prog, argv=None):
    """sys.exit(main(argv)): a Failure is one line 'prog: reason' on stderr and its
    code; Ctrl-C exits 130; a closed stdout (| head) ends quietly."""
    args = sys.argv[1:] if argv is None else argv
    try:
        code = main(args)
        sys.stdout.flush()
    except Failure as e:
        sys.stderr.write("%s: %s\n" % (prog, e.message))
        code = e.code
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % prog)
        code = 130
    except BrokenPipeError:
        # the reader went away: nothing more to say, and no second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)
