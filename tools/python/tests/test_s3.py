"""list_keys() walks the Hive layout and prunes date= and hour= folders
outside the time range; read_s3() equals read_dataframe() on the same
objects (tested with real objects in tests/integration/python_reader_test.py)."""

import unittest

import sluice_reader as sr
from s3_stub import StubS3

PREFIX = "sluice/site=plant-a/"
KEYS = [PREFIX + "gateway=%s/date=%s/hour=%02d/20250131T000000Z-0000-%010d.slp" % (g, d, h, h)
        for g in ("edge-01", "edge-02")
        for d in ("2025-01-30", "2025-01-31", "2025-02-01")
        for h in (0, 6, 23)]


class ListKeysTest(unittest.TestCase):
    def setUp(self):
        other = ["sluice/site=plant-b/gateway=x/date=2025-01-31/hour=06/a.slp",
                 PREFIX + "gateway=edge-01/date=2025-01-31/hour=06/a.parquet"]
        self.s3 = StubS3({k: b"" for k in KEYS + other})

    def test_everything_under_the_prefix_sorted(self):
        got = sr.list_keys("b", PREFIX, client=self.s3)
        self.assertEqual(got, sorted(KEYS))

    def test_date_and_hour_folders_outside_the_range_are_not_listed(self):
        got = sr.list_keys("b", PREFIX, "2025-01-31T05:00:00Z", "2025-02-01T00:00:00Z",
                           client=self.s3)
        self.assertEqual(got, sorted(k for k in KEYS if "date=2025-01-31/hour=06" in k
                                     or "date=2025-01-31/hour=23" in k))
        self.assertFalse([p for p in self.s3.lists if "2025-01-30" in p or "2025-02-01" in p])
        self.assertFalse([p for p in self.s3.lists if "hour=00" in p])

    def test_an_hour_is_kept_when_the_range_starts_inside_it(self):
        seven = 1738306800 * 10**9  # 2025-01-31T07:00:00Z: hour 07 holds no objects
        self.assertEqual(sr.list_keys("b", PREFIX, seven, seven + 1, client=self.s3), [])
        got = sr.list_keys("b", PREFIX, "2025-01-31T06:59:59Z", "2025-01-31T07:00:00Z",
                           client=self.s3)
        self.assertEqual(len(got), 2)

    def test_gateways_and_sites_filter_folders(self):
        got = sr.list_keys("b", "sluice/", gateways=["edge-02"], sites="plant-a", client=self.s3)
        self.assertEqual(got, sorted(k for k in KEYS if "edge-02" in k))


if __name__ == "__main__":
    unittest.main()
