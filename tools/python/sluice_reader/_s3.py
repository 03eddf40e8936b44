"""Partition objects straight from S3 (Ceph RGW, MinIO, AWS), with boto3.

Keys are Hive-style (sync/include/sync/object_key.h):

  <prefix>/site=<site>/gateway=<id>/date=<YYYY-MM-DD>/hour=<HH>/<window>-<shard>-<seq>.slp

where date= and hour= name the UTC hour of the records the object holds.
list_keys() walks that tree one level at a time (LIST with Delimiter="/")
and skips date= and hour= folders outside the time range, so a day of a
year-long bucket costs a few dozen LIST calls, not a listing of everything.
read_s3() fetches and decodes the objects in a thread pool.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

_DATE = re.compile(r"^date=(\d{4})-(\d{2})-(\d{2})$")
_HOUR = re.compile(r"^hour=(\d{2})$")
_HOUR_NS = 3600 * 10**9
_DAY_NS = 24 * _HOUR_NS


def make_client(endpoint_url=None, max_workers=16, **client_kwargs):
    """A boto3 S3 client with a connection per worker. client_kwargs go to
    boto3's client() (region_name, aws_access_key_id, verify, ...)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as e:
        raise ImportError("reading from S3 needs boto3 (Debian: python3-boto3)") from e
    config = client_kwargs.pop("config", None) or Config(
        max_pool_connections=max(10, max_workers), retries={"max_attempts": 5, "mode": "standard"})
    # Sessions are not thread-safe, clients are: one client for all workers.
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config,
                                          **client_kwargs)


def _component(prefix):
    """The last path segment of a common prefix ("a/b/date=x/" -> "date=x")."""
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def _day_ns(m):
    try:
        d = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=timezone.utc)
    except ValueError:
        return None  # not a date: keep the folder, the reader filters records
    return int(d.timestamp()) * 10**9


def _overlaps(begin, length, lo, hi):
    """[begin, begin + length) meets [lo, hi) (None: unbounded)."""
    return (hi is None or begin < hi) and (lo is None or begin + length > lo)


def _keep(prefix, day_ns, lo, hi, sites, gateways):
    """(keep the folder, the day it lies in) for a common prefix."""
    name = _component(prefix)
    if sites is not None and name.startswith("site=") and name[5:] not in sites:
        return False, day_ns
    if gateways is not None and name.startswith("gateway=") and name[8:] not in gateways:
        return False, day_ns
    m = _DATE.match(name)
    if m:
        day = _day_ns(m)
        return day is None or _overlaps(day, _DAY_NS, lo, hi), day
    m = _HOUR.match(name)
    if m and day_ns is not None:
        return _overlaps(day_ns + int(m.group(1)) * _HOUR_NS, _HOUR_NS, lo, hi), day_ns
    return True, day_ns


def _list_level(client, bucket, prefix):
    """(common prefixes, keys) directly under `prefix`, every page."""
    folders, keys, token = [], [], None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
        if token:
            kw["ContinuationToken"] = token
        page = client.list_objects_v2(**kw)
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return folders, keys
        token = page["NextContinuationToken"]


def list_keys(bucket, prefix="", start=None, end=None, *, sites=None, gateways=None,
              suffix=".slp", client=None, endpoint_url=None, max_workers=16, **client_kwargs):
    """Keys of partition objects under `prefix` whose date=/hour= folder
    meets [start, end) (see to_ns(); None: unbounded), sorted by their bytes
    (the order `sluice export` reads a synced folder in). `sites`,
    `gateways`: only these site= / gateway= folders. Folders that are not
    date= or hour= are walked whole; keys not ending in `suffix` are left
    out. `client`: a boto3 S3 client (else one is made from endpoint_url
    and client_kwargs)."""
    from . import _time_range  # the package's time parsing
    lo, hi = _time_range(start, end)
    sites = None if sites is None else {sites} if isinstance(sites, str) else set(sites)
    gateways = (None if gateways is None else {gateways} if isinstance(gateways, str)
                else set(gateways))
    client = client or make_client(endpoint_url, max_workers, **client_kwargs)
    found = []
    frontier = [(prefix, None)]
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        while frontier:
            levels = list(pool.map(lambda f: _list_level(client, bucket, f[0]), frontier))
            nxt = []
            for (_, day), (folders, keys) in zip(frontier, levels):
                found += [k for k in keys if k.endswith(suffix)]
                for f in folders:
                    keep, f_day = _keep(f, day, lo, hi, sites, gateways)
                    if keep:
                        nxt.append((f, f_day))
            frontier = nxt
    return sorted(set(found), key=lambda k: k.encode("utf-8"))


def read_s3(bucket, prefix="", start=None, end=None, series=None, series_globs=None, *,
            keys=None, sites=None, gateways=None, client=None, endpoint_url=None,
            max_workers=16, wide=False, with_object=False, **client_kwargs):
    """read_dataframe() over the objects in s3://bucket/prefix whose date=/
    hour= folder meets [start, end), fetched and decoded by `max_workers`
    threads. Rows come in key order (list_keys()), then as read_dataframe().
    `keys`: read exactly these keys instead of listing. The object column
    (with_object=True) holds s3://bucket/key."""
    from . import PartitionObject, _decode_all, _frame, _Selector, _time_range
    sel = _Selector(series, series_globs)
    lo, hi = _time_range(start, end)
    client = client or make_client(endpoint_url, max_workers, **client_kwargs)
    if keys is None:
        keys = list_keys(bucket, prefix, start, end, sites=sites, gateways=gateways,
                         client=client, max_workers=max_workers)

    def load(key):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        return PartitionObject(data, name="s3://%s/%s" % (bucket, key))

    return _frame(_decode_all(list(keys), load, sel, lo, hi, max_workers), wide, with_object)
