#!/usr/bin/python3
"""Smoke check of the S3 endpoint the integration tests use (scripts/rgw).

Reads SLUICE_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY and _REGION, e.g.
    eval "$(scripts/rgw env DIR)"
and checks what the S3 sink relies on: bucket create, put, get, delete, and
that a conditional put (If-None-Match: *) of an existing key returns 412.

Exit codes: 0 pass, 1 fail, 77 skipped (variables not set; ctest
SKIP_RETURN_CODE), 1 instead of 77 when SLUICE_TEST_REQUIRE_SERVICES=1.
Run with Debian's /usr/bin/python3 and python3-boto3.
"""
import os
import sys
import uuid

VARS = ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "REGION")


def main():
    env = {v: os.environ.get("SLUICE_TEST_S3_" + v) for v in VARS}
    missing = ["SLUICE_TEST_S3_" + v for v, x in env.items() if not x]
    if missing:
        # scripts/test sets SLUICE_TEST_REQUIRE_SERVICES=1: a skip is a failure.
        required = os.environ.get("SLUICE_TEST_REQUIRE_SERVICES") == "1"
        print("*" * 72)
        print("%s: rgw_smoke: %s not set" % ("FAILED" if required else "SKIPPED", ", ".join(missing)))
        print('  start a gateway: scripts/rgw start DIR && eval "$(scripts/rgw env DIR)"')
        print("*" * 72)
        return 1 if required else 77

    import boto3
    import botocore.exceptions
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=env["ENDPOINT"],
        aws_access_key_id=env["ACCESS_KEY"],
        aws_secret_access_key=env["SECRET_KEY"],
        region_name=env["REGION"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},  # a failure should show, not be retried
            connect_timeout=5,
            read_timeout=30,
        ),
    )

    # boto3 has no parameter for If-None-Match on PutObject: add the header
    # just before signing, only for calls that ask for it.
    def add_if_none_match(params, context, **_):
        if context.get("if_none_match"):
            params["headers"]["If-None-Match"] = "*"

    def mark(params, context, **_):
        context["if_none_match"] = params.pop("IfNoneMatchStar", False)

    s3.meta.events.register("before-parameter-build.s3.PutObject", mark)
    s3.meta.events.register("before-call.s3.PutObject", add_if_none_match)

    bucket = "sluice-smoke-" + uuid.uuid4().hex[:16]
    key = "partitions/smoke/0001.obj"
    body1, body2 = b"first version\n" * 100, b"second version\n"
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    def put(data, conditional):
        """Returns the HTTP status of a PutObject."""
        try:
            r = s3.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatchStar=conditional)
            return r["ResponseMetadata"]["HTTPStatusCode"]
        except botocore.exceptions.ClientError as e:
            return e.response["ResponseMetadata"]["HTTPStatusCode"]

    print("endpoint %s region %s bucket %s" % (env["ENDPOINT"], env["REGION"], bucket))
    try:
        s3.create_bucket(Bucket=bucket)
        check(True, "create bucket")
        check(put(body1, True) == 200, "conditional put of a new key -> 200")
        check(put(body2, True) == 412, "conditional put of an existing key -> 412")
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        check(got == body1, "get returns the first body (%d bytes)" % len(got))
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        check(keys == [key], "list shows exactly the key")
        check(put(body2, False) == 200, "unconditional put overwrites -> 200")
        s3.delete_object(Bucket=bucket, Key=key)
        try:
            s3.head_object(Bucket=bucket, Key=key)
            check(False, "deleted object is gone")
        except botocore.exceptions.ClientError as e:
            check(e.response["Error"]["Code"] in ("404", "NoSuchKey"), "deleted object is gone")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        check(False, "S3 call failed: %s" % e)
    finally:
        try:  # leave nothing behind
            for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=o["Key"])
            s3.delete_bucket(Bucket=bucket)
        except Exception:
            pass

    print("rgw_smoke: %s" % ("FAILED: " + "; ".join(failures) if failures else "PASSED"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
