#!/usr/bin/python3
"""Independent S3 client (boto3) for tests/integration/s3_sink_test.cc.

The C++ test writes with the Sluice S3 sink and checks the result through
this script, so that a bug shared by our writer and our reader cannot hide.

    s3_sink_check.py mkbucket BUCKET
    s3_sink_check.py rmbucket BUCKET          # deletes its objects, uploads, itself
    s3_sink_check.py get BUCKET KEY OUTFILE   # body -> OUTFILE; JSON facts -> stdout
    s3_sink_check.py put BUCKET KEY INFILE    # plain put_object, no metadata
    s3_sink_check.py complete-inm BUCKET KEY  # multipart over an existing KEY with
                                              # If-None-Match: * on Complete; prints
                                              # the HTTP status of the Complete
Reads SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}. Exit 0 on
success, 1 on any failure (with the reason on stderr).
"""
import hashlib
import json
import os
import sys

import boto3
import botocore.exceptions
from botocore.config import Config


def client():
    e = {v: os.environ["SLUICE_TEST_S3_" + v] for v in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "REGION")}
    return boto3.client(
        "s3", endpoint_url=e["ENDPOINT"], aws_access_key_id=e["ACCESS_KEY"],
        aws_secret_access_key=e["SECRET_KEY"], region_name=e["REGION"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60))


def rmbucket(s3, bucket):
    for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=o["Key"])
    s3.delete_bucket(Bucket=bucket)


def get(s3, bucket, key, outfile):
    r = s3.get_object(Bucket=bucket, Key=key)
    body = r["Body"].read()
    with open(outfile, "wb") as f:
        f.write(body)
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    print(json.dumps({
        "size": len(body),
        "content_length": r["ContentLength"],
        "sha256": hashlib.sha256(body).hexdigest(),
        "etag": r["ETag"].strip('"'),
        "metadata": r.get("Metadata", {}),
        "pending_uploads": len(uploads),
    }, sort_keys=True))


def complete_inm(s3, bucket, key):
    """Status of a conditional CompleteMultipartUpload over an existing key."""
    def add_header(params, **_):
        params["headers"]["If-None-Match"] = "*"
    s3.meta.events.register("before-call.s3.CompleteMultipartUpload", add_header)
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=b"x" * 10)["ETag"]
    try:
        r = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        print(r["ResponseMetadata"]["HTTPStatusCode"])
    except botocore.exceptions.ClientError as e:
        print(e.response["ResponseMetadata"]["HTTPStatusCode"])
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)


def main(argv):
    s3 = client()
    cmd, args = argv[1], argv[2:]
    if cmd == "mkbucket":
        s3.create_bucket(Bucket=args[0])
    elif cmd == "rmbucket":
        rmbucket(s3, args[0])
    elif cmd == "get":
        get(s3, *args)
    elif cmd == "put":
        with open(args[2], "rb") as f:
            s3.put_object(Bucket=args[0], Key=args[1], Body=f.read())
    elif cmd == "complete-inm":
        complete_inm(s3, *args)
    else:
        raise SystemExit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, KeyError) as e:
        print("s3_sink_check: %s" % e, file=sys.stderr)
        sys.exit(1)
