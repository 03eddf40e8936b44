"""An in-memory stand-in for a boto3 S3 client: list_objects_v2 (Prefix,
Delimiter, pagination) and get_object, and a count of the calls, so that
tests of read_s3()/list_keys() need no S3 service."""

import io
import threading


class StubS3:
    def __init__(self, objects, page_size=3):
        self.objects = dict(objects)  # key -> bytes
        self.page_size = page_size
        self.lists = []  # the prefixes listed
        self.gets = []
        self._lock = threading.Lock()

    def list_objects_v2(self, Bucket, Prefix="", Delimiter=None, ContinuationToken=None):
        with self._lock:
            self.lists.append(Prefix)
        entries = set()
        for k in self.objects:
            if not k.startswith(Prefix):
                continue
            rest = k[len(Prefix):]
            if Delimiter and Delimiter in rest:
                entries.add(("p", Prefix + rest[:rest.index(Delimiter) + 1]))
            else:
                entries.add(("k", k))
        entries = sorted(entries, key=lambda e: e[1])
        at = int(ContinuationToken or 0)
        page = entries[at:at + self.page_size]
        out = {"CommonPrefixes": [{"Prefix": p} for t, p in page if t == "p"],
               "Contents": [{"Key": k} for t, k in page if t == "k"],
               "IsTruncated": at + self.page_size < len(entries)}
        if out["IsTruncated"]:
            out["NextContinuationToken"] = str(at + self.page_size)
        return out

    def get_object(self, Bucket, Key):
        with self._lock:
            self.gets.append(Key)
        return {"Body": io.BytesIO(self.objects[Key])}
