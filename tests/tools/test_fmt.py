"""test_fmt - number formats shared by the report, compare and the runner."""

import unittest

from ipclab_tools import fmt


class Fmt(unittest.TestCase):
    def test_num(self):
        self.assertTrue(fmt.num(1) and fmt.num(0.5))
        for v in (True, None, "1", float("nan"), float("inf")):
            self.assertFalse(fmt.num(v))

    def test_microseconds(self):
        self.assertEqual(fmt.fmt_us(1234), "1.23")
        self.assertEqual(fmt.fmt_us(12345), "12.3")
        self.assertEqual(fmt.fmt_us(123456), "123")
        self.assertEqual(fmt.fmt_us(None), fmt.DASH)
        self.assertIsNone(fmt.us(None))

    def test_percentages_and_ratios(self):
        self.assertEqual(fmt.fmt_pct(0.053), "5.3 %")
        self.assertEqual(fmt.fmt_signed_pct(3.44), "+3.4%")
        self.assertEqual(fmt.fmt_signed_pct(None), "-")
        self.assertEqual(fmt.fmt_x(1.5), "1.50\u00d7")
        self.assertEqual(fmt.fmt_ratio(0.98765), "0.988")

    def test_durations_and_rates(self):
        self.assertEqual(fmt.fmt_duration_ns(950), "950 ns")
        self.assertEqual(fmt.fmt_duration_ns(12.5), "12.5 ns")
        self.assertEqual(fmt.fmt_duration_ns(34000), "34.00 us")
        self.assertEqual(fmt.fmt_duration_ns(1.2e7), "12.00 ms")
        self.assertEqual(fmt.fmt_duration_ns(2e10), "20.000 s")
        self.assertEqual(fmt.fmt_rate(1.05e6, "msgs/s"), "1.05M msgs/s")
        self.assertEqual(fmt.fmt_rate(512, "mib/s"), "512 MiB/s")

    def test_compact_and_tsv(self):
        self.assertEqual(fmt.fmt_g(12345), "12\u2009345")
        self.assertEqual(fmt.fmt_g(0.012345), "0.0123")
        self.assertEqual(fmt.tsv_val(None), "NaN")
        self.assertEqual(fmt.tsv_val(True), "1")
        self.assertEqual(fmt.tsv_val(1 / 3), "0.333333")
        self.assertEqual(fmt.tsv_val("a\tb\nc"), "a b c")
        self.assertEqual(fmt.tsv_str('say "hi"'), "\"say 'hi'\"")
        self.assertEqual(fmt.mmss(125.9), "2:05")


if __name__ == "__main__":
    unittest.main()
