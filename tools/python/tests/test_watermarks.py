"""read_watermarks() and read_watermarks_s3(): per-gateway T, the fleet's
complete-up-to time and the complete hours, from a folder laid out like the
bucket and from S3 (stubbed). The documents are what the gateway writes
(docs/format/watermark.md; the C++ writer is tested in
tests/sync/engine_watermark_test.cc)."""

import json
import os
import tempfile
import unittest

import pandas as pd

import sluice_reader as sr
from s3_stub import StubS3

HOUR = 3600 * 10**9
T0 = 1738281600 * 10**9  # 2025-01-31T00:00:00Z


def doc(site, gateway, t, late=0, **extra):
    d = {"format": "sluice-watermark", "version": 1, "site": site, "gateway": gateway,
         "watermark_ns": t, "watermark": "informational", "records_confirmed": 100,
         "objects_confirmed": 4, "late_records": late, "written_at_ns": t + 60 * 10**9,
         "written_at": "informational"}
    d.update(extra)
    return json.dumps(d, indent=2).encode() + b"\n"


FLEET = {
    ("plant-a", "edge-01"): T0 + 5 * HOUR + 123,
    ("plant-a", "edge-02"): T0 + 3 * HOUR + 10**9,  # the slowest: the fleet's T
    ("plant-b", "edge-01"): T0 + 7 * HOUR,
}


def key(prefix, site, gateway):
    return "%s_watermarks/site=%s/gateway=%s.json" % (prefix, site, gateway)


class FolderTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        for (site, gw), t in FLEET.items():
            path = os.path.join(self.root, "raw", *key("", site, gw).split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(doc(site, gw, t, late=2 if gw == "edge-02" else 0))
            with open(path + ".sha256", "w") as f:  # a directory sink's sidecar
                f.write("x  y\n")
        # Data objects and a temp file beside: not watermarks.
        os.makedirs(os.path.join(self.root, "raw", "site=plant-a", "gateway=edge-01"))
        open(os.path.join(self.root, "raw", "_watermarks", "site=plant-a",
                          ".sluice-tmp-0001"), "w").close()

    def tearDown(self):
        self.tmp.cleanup()

    def test_per_gateway_t_and_the_fleet_minimum(self):
        fleet = sr.read_watermarks(self.root, "raw")
        self.assertEqual(fleet.per_gateway(), FLEET)
        self.assertEqual(fleet.complete_ns, T0 + 3 * HOUR + 10**9)
        self.assertEqual(fleet.complete_until, pd.Timestamp("2025-01-31T03:00:01Z"))
        self.assertEqual(list(fleet.gateways.site), ["plant-a", "plant-a", "plant-b"])
        self.assertEqual(list(fleet.gateways.late_records), [0, 2, 0])
        self.assertEqual(fleet.gateways.watermark[0], pd.Timestamp(T0 + 5 * HOUR + 123, tz="UTC"))
        self.assertEqual(fleet.missing, [])

    def test_complete_hours_end_where_the_slowest_gateway_is(self):
        fleet = sr.read_watermarks(self.root, "raw/")
        hours = fleet.complete_hours("2025-01-30T22:30:00Z")
        self.assertEqual([h.isoformat() for h in hours],
                         ["2025-01-30T22:00:00+00:00", "2025-01-30T23:00:00+00:00",
                          "2025-01-31T00:00:00+00:00", "2025-01-31T01:00:00+00:00",
                          "2025-01-31T02:00:00+00:00"])
        self.assertEqual(len(fleet.complete_hours(T0, T0 + 2 * HOUR)), 2)
        self.assertTrue(fleet.is_complete("2025-01-31T03:00:00Z"))
        self.assertFalse(fleet.is_complete("2025-01-31T04:00:00Z"))

    def test_sites_and_expected_gateways(self):
        fleet = sr.read_watermarks(self.root, "raw", sites="plant-b")
        self.assertEqual(fleet.per_gateway(), {("plant-b", "edge-01"): T0 + 7 * HOUR})
        fleet = sr.read_watermarks(self.root, "raw",
                                   expected=[("plant-a", "edge-01"), ("plant-c", "edge-09")])
        self.assertEqual(fleet.missing, [("plant-c", "edge-09")])
        self.assertIsNone(fleet.complete_ns)  # a silent gateway: nothing is known complete
        self.assertEqual(fleet.complete_hours(T0), [])
        self.assertFalse(fleet.is_complete(T0))

    def test_no_watermarks_and_damaged_ones(self):
        empty = sr.read_watermarks(self.root, "elsewhere")
        self.assertIsNone(empty.complete_ns)
        self.assertEqual(len(empty.gateways), 0)
        path = os.path.join(self.root, "raw", *key("", "plant-a", "edge-01").split("/"))
        with open(path, "wb") as f:
            f.write(b'{"format": "sluice-watermark", "vers')
        with self.assertRaises(sr.BadWatermark) as e:
            sr.read_watermarks(self.root, "raw")
        self.assertIn("edge-01", str(e.exception))

    def test_a_later_version_with_more_fields_is_read(self):
        d = sr.parse_watermark(doc("s", "g", 5, version=2, hours=[1, 2]))
        self.assertEqual(d["watermark_ns"], 5)
        with self.assertRaises(sr.BadWatermark):
            sr.parse_watermark(doc("s", "g", 5, version=0))
        with self.assertRaises(sr.BadWatermark):
            sr.parse_watermark(doc("s", "g", 5, watermark_ns="5"))


class S3Test(unittest.TestCase):
    def setUp(self):
        objects = {key("sluice/raw/", s, g): doc(s, g, t) for (s, g), t in FLEET.items()}
        objects["sluice/raw/site=plant-a/gateway=edge-01/date=2025-01-31/hour=00/x.slp"] = b""
        self.s3 = StubS3(objects, page_size=2)

    def test_lists_only_the_watermark_folder_and_reads_each_gateway(self):
        fleet = sr.read_watermarks_s3("b", "sluice/raw", client=self.s3, max_workers=2)
        self.assertEqual(fleet.per_gateway(), FLEET)
        self.assertEqual(fleet.complete_ns, T0 + 3 * HOUR + 10**9)
        self.assertEqual(set(self.s3.lists), {"sluice/raw/_watermarks/"})
        self.assertEqual(len(self.s3.gets), 3)
        self.assertTrue(fleet.gateways.object[0].startswith("s3://b/sluice/raw/_watermarks/"))

    def test_sites_narrow_the_listing(self):
        fleet = sr.read_watermarks_s3("b", "sluice/raw/", sites=["plant-a"], client=self.s3)
        self.assertEqual(len(fleet.gateways), 2)
        self.assertEqual(set(self.s3.lists), {"sluice/raw/_watermarks/site=plant-a/"})


if __name__ == "__main__":
    unittest.main()
