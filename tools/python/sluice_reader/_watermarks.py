"""Fleet completeness from the gateways' watermark objects.

Each gateway keeps one small JSON object (docs/format/watermark.md):

  <prefix>/_watermarks/site=<site>/gateway=<id>.json  {"watermark_ns": T, ...}

T promises that every record before T that had reached the gateway is
upstream. The fleet is complete up to the smallest T over its gateways, so
reading one object per gateway (one LIST page per thousand gateways, then
the GETs) tells a training job which hours it can use, without listing the
data.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

FORMAT = "sluice-watermark"
_HOUR_NS = 3600 * 10**9
_FIELDS = ("site", "gateway", "watermark_ns", "records_confirmed", "objects_confirmed",
           "late_records", "written_at_ns")


class BadWatermark(ValueError):
    """A watermark object that is not a valid document; names the object."""


def parse_watermark(data, name="watermark"):
    """The fields of one watermark document (bytes or str) as a dict;
    raises BadWatermark naming `name` when it is not one."""
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise BadWatermark("%s: not JSON: %s" % (name, e)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadWatermark("%s: not a %s document" % (name, FORMAT))
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise BadWatermark("%s: version %r" % (name, version))
    out = {}
    for f in _FIELDS:
        v = doc.get(f)
        want = str if f in ("site", "gateway") else int
        if not isinstance(v, want) or isinstance(v, bool):
            raise BadWatermark("%s: field %r missing or not %s" % (name, f, want.__name__))
        out[f] = v
    return out


def _watermark_prefix(prefix):
    prefix = (prefix or "").strip("/")
    return (prefix + "/" if prefix else "") + "_watermarks/"


class FleetWatermarks:
    """What the watermark objects say.

      gateways     DataFrame, one row per gateway (sorted by site, gateway):
                   site, gateway, watermark (Timestamp, UTC), watermark_ns,
                   records_confirmed, objects_confirmed, late_records,
                   written_at (Timestamp, UTC), object (where it was read)
      missing      [(site, gateway)] expected but without a watermark
      complete_ns  the fleet's T: min watermark_ns over the gateways; None
                   when there are none or some expected ones are missing
      complete_until  the same as a pandas Timestamp (UTC), or None
    """

    def __init__(self, docs, expected=None):
        rows = sorted(docs, key=lambda d: (d["site"], d["gateway"]))
        self.gateways = pd.DataFrame({
            "site": [d["site"] for d in rows],
            "gateway": [d["gateway"] for d in rows],
            "watermark": pd.to_datetime([d["watermark_ns"] for d in rows], unit="ns", utc=True),
            "watermark_ns": pd.array([d["watermark_ns"] for d in rows], dtype="int64"),
            "records_confirmed": pd.array([d["records_confirmed"] for d in rows], dtype="int64"),
            "objects_confirmed": pd.array([d["objects_confirmed"] for d in rows], dtype="int64"),
            "late_records": pd.array([d["late_records"] for d in rows], dtype="int64"),
            "written_at": pd.to_datetime([d["written_at_ns"] for d in rows], unit="ns", utc=True),
            "object": [d["object"] for d in rows],
        })
        found = {(d["site"], d["gateway"]) for d in rows}
        self.missing = sorted(set(expected or ()) - found)
        if rows and not self.missing:
            self.complete_ns = min(d["watermark_ns"] for d in rows)
            self.complete_until = pd.Timestamp(self.complete_ns, unit="ns", tz="UTC")
        else:
            self.complete_ns = None
            self.complete_until = None

    def per_gateway(self):
        """{(site, gateway): watermark_ns}."""
        return {(s, g): int(t) for s, g, t in zip(self.gateways.site, self.gateways.gateway,
                                                  self.gateways.watermark_ns)}

    def is_complete(self, end):
        """True when every gateway's data before `end` (see to_ns()) is upstream."""
        from . import to_ns
        return self.complete_ns is not None and to_ns(end) <= self.complete_ns

    def complete_hours(self, start, end=None):
        """Start times (Timestamps, UTC) of the UTC hours meeting [start,
        end) (see to_ns()) that are complete across the fleet: hour h is
        complete when h + 1 h <= complete_ns. `end` defaults to the fleet's T."""
        from . import to_ns
        if self.complete_ns is None:
            return []
        hi = self.complete_ns if end is None else to_ns(end)
        hours = []
        h = to_ns(start) // _HOUR_NS * _HOUR_NS
        while h < hi and h + _HOUR_NS <= self.complete_ns:
            hours.append(pd.Timestamp(h, unit="ns", tz="UTC"))
            h += _HOUR_NS
        return hours

    def __repr__(self):
        return "FleetWatermarks(%d gateways, complete until %s%s)" % (
            len(self.gateways), self.complete_until,
            ", missing %d" % len(self.missing) if self.missing else "")


def _expected(expected):
    """Expected gateways as (site, gateway) pairs."""
    out = set()
    for e in expected or ():
        if isinstance(e, str) or len(e) != 2:
            raise ValueError("expected gateways are (site, gateway) pairs, got %r" % (e,))
        out.add((e[0], e[1]))
    return out


def read_watermarks(root, prefix="", *, sites=None, expected=None):
    """FleetWatermarks from a folder laid out like the bucket (a directory
    sink's root, or a download keeping the keys): the objects under
    <root>/<prefix>/_watermarks/. `sites`: only these site= folders.
    `expected`: (site, gateway) pairs that must all have a watermark for
    the fleet to count as complete."""
    base = os.path.join(root, *_watermark_prefix(prefix).strip("/").split("/"))
    sites = None if sites is None else {sites} if isinstance(sites, str) else set(sites)
    docs = []
    if os.path.isdir(base):
        for dirpath, dirnames, files in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            site_dir = os.path.basename(dirpath)
            if sites is not None and site_dir.startswith("site=") and site_dir[5:] not in sites:
                continue
            for f in sorted(files):
                if f.startswith(".") or not f.endswith(".json"):
                    continue  # temp files, .sha256 sidecars
                path = os.path.join(dirpath, f)
                with open(path, "rb") as fh:
                    doc = parse_watermark(fh.read(), path)
                if sites is None or doc["site"] in sites:
                    doc["object"] = path
                    docs.append(doc)
    return FleetWatermarks(docs, _expected(expected))


def read_watermarks_s3(bucket, prefix="", *, sites=None, expected=None, client=None,
                       endpoint_url=None, max_workers=16, **client_kwargs):
    """FleetWatermarks from s3://bucket/<prefix>/_watermarks/ (boto3, as
    read_s3()): one LIST page per 1000 gateways, then a GET per gateway in
    `max_workers` threads. Arguments as read_watermarks(); `client` or
    endpoint_url and client_kwargs as read_s3()."""
    from ._s3 import make_client
    client = client or make_client(endpoint_url, max_workers, **client_kwargs)
    base = _watermark_prefix(prefix)
    sites = None if sites is None else {sites} if isinstance(sites, str) else set(sites)
    listing = [base] if sites is None else [base + "site=%s/" % s for s in sorted(sites)]
    keys = []
    for p in listing:
        token = None
        while True:
            kw = {"Bucket": bucket, "Prefix": p}
            if token:
                kw["ContinuationToken"] = token
            page = client.list_objects_v2(**kw)
            keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json")]
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]

    def load(key):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        name = "s3://%s/%s" % (bucket, key)
        doc = parse_watermark(data, name)
        doc["object"] = name
        return doc

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        docs = list(pool.map(load, sorted(keys)))
    return FleetWatermarks(docs, _expected(expected))
