"""Smoke check of the emulators started by with-emulators.sh.

    bash localstack/with-emulators.sh python3 localstack/smoke_check.py

Checks the behaviours the redlease backends rely on and prints what the
emulators actually return. Re-executes itself with the harness's LocalStack
venv Python when boto3 is not importable. Ends with 'N passed, N failed'.
"""

import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:
    # with-emulators.sh exports its cached LocalStack venv's interpreter.
    venv_python = Path(os.environ.get("REDLEASE_IT_LOCALSTACK_PYTHON", "/nonexistent"))
    if not venv_python.exists() or os.environ.get("REDLEASE_SMOKE_REEXEC"):
        sys.exit(f"boto3 not importable and no venv python at {venv_python}")
    os.environ["REDLEASE_SMOKE_REEXEC"] = "1"
    os.execv(str(venv_python), [str(venv_python), *sys.argv])

ENV = os.environ
RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def info(name: str, detail: str) -> None:
    print(f"INFO {name}: {detail}", flush=True)


def client(service: str, endpoint: str, pool: int = 10):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=ENV["AWS_REGION"],
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            max_pool_connections=pool,
            s3={"addressing_style": "path"},
        ),
    )


def err(e: ClientError) -> str:
    r = e.response
    return f"HTTP {r['ResponseMetadata']['HTTPStatusCode']} {r['Error'].get('Code')}"


def call(fn, **kw):
    """Returns (response, None) or (None, ClientError)."""
    try:
        return fn(**kw), None
    except ClientError as e:
        return None, e


# --------------------------------------------------------------------------- S3
def s3_checks() -> None:
    s3 = client("s3", ENV["REDLEASE_IT_S3_ENDPOINT"])
    bucket = ENV["REDLEASE_IT_BUCKET"]
    run = uuid.uuid4().hex[:8]
    key = f"smoke/{run}/lease"

    r, e = call(s3.put_object, Bucket=bucket, Key=key, Body=b"v1", IfNoneMatch="*")
    check("s3 PutObject If-None-Match=* on new key creates", e is None, e and err(e) or "")
    etag1 = r["ETag"] if r else None

    r, e = call(s3.put_object, Bucket=bucket, Key=key, Body=b"v2", IfNoneMatch="*")
    got = err(e) if e else "succeeded"
    check("s3 PutObject If-None-Match=* on existing key -> 412", bool(e) and "412" in got, got)

    r, e = call(s3.put_object, Bucket=bucket, Key=key, Body=b"v2", IfMatch='"0123456789abcdef0123456789abcdef"')
    got = err(e) if e else "succeeded"
    check("s3 PutObject If-Match=<wrong etag> -> 412", bool(e) and "412" in got, got)

    r, e = call(s3.put_object, Bucket=bucket, Key=f"{key}-missing", Body=b"x", IfMatch=etag1 or '"x"')
    got = err(e) if e else "succeeded"
    check("s3 PutObject If-Match on missing key -> 404", bool(e) and "404" in got, got)

    r, e = call(s3.put_object, Bucket=bucket, Key=key, Body=b"v2", IfMatch=etag1)
    check("s3 PutObject If-Match=<current etag> replaces", e is None, e and err(e) or f"new ETag {r['ETag']}")
    etag2 = r["ETag"] if r else None

    r, e = call(s3.get_object, Bucket=bucket, Key=key)
    body = r["Body"].read() if r else b""
    check(
        "s3 GetObject returns ETag and body",
        bool(r) and r.get("ETag") == etag2 and body == b"v2",
        f"ETag {r.get('ETag') if r else None}, body {body!r}",
    )

    r, e = call(s3.get_object, Bucket=bucket, Key=key, IfMatch=etag1)
    info("s3 GetObject If-Match=<stale etag>", err(e) if e else "succeeded")
    r, e = call(s3.head_object, Bucket=bucket, Key=f"{key}-missing")
    info("s3 HeadObject missing key", err(e) if e else "succeeded")

    # conditional delete (AWS supports If-Match on DeleteObject since 2025)
    r, e = call(s3.delete_object, Bucket=bucket, Key=key, IfMatch=etag1)
    info("s3 DeleteObject If-Match=<stale etag>", err(e) if e else "succeeded (condition ignored?)")

    # ListObjectsV2, prefix + pagination
    prefix = f"smoke/{run}/list/"
    want = sorted(f"{prefix}{i:02d}" for i in range(7))
    for k in want:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.put_object(Bucket=bucket, Key=f"smoke/{run}/listx", Body=b"x")  # outside prefix
    got, pages, token = [], 0, None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 3}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        got += [o["Key"] for o in r.get("Contents", [])]
        if not r.get("IsTruncated"):
            break
        token = r["NextContinuationToken"]
    check(
        "s3 ListObjectsV2 prefix + pagination (MaxKeys=3, 7 keys)",
        got == want and pages == 3,
        f"{len(got)} keys in {pages} pages",
    )


# --------------------------------------------------------------------- DynamoDB
def ddb_checks() -> None:
    endpoint = ENV["REDLEASE_IT_DYNAMODB_ENDPOINT"]
    table = ENV["REDLEASE_IT_TABLE"]
    ddb = client("dynamodb", endpoint)
    key = f"smoke-{uuid.uuid4().hex[:8]}"
    item = {"database_key": {"S": key}, "owner": {"S": "a"}, "version": {"N": "1"}}

    ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(database_key)")
    r, e = call(
        ddb.put_item,
        TableName=table,
        Item={**item, "owner": {"S": "b"}},
        ConditionExpression="attribute_not_exists(database_key)",
    )
    got = err(e) if e else "succeeded"
    check("dynamodb PutItem failing condition -> ConditionalCheckFailedException",
          bool(e) and e.response["Error"]["Code"] == "ConditionalCheckFailedException", got)
    info("dynamodb failed condition, no ReturnValuesOnConditionCheckFailure: Item in error",
         str(bool(e) and "Item" in e.response))

    r, e = call(
        ddb.put_item,
        TableName=table,
        Item={**item, "owner": {"S": "b"}},
        ConditionExpression="#v = :v",
        ExpressionAttributeNames={"#v": "version"},
        ExpressionAttributeValues={":v": {"N": "7"}},
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    old = e.response.get("Item") if e else None
    check(
        "dynamodb ReturnValuesOnConditionCheckFailure=ALL_OLD returns old item",
        bool(e) and old == item,
        f"{err(e) if e else 'succeeded'}, Item={json.dumps(old)}",
    )

    # Races: 16 threads per round, 30 rounds, one fresh key per round.
    threads, rounds = 16, 30
    clients = [client("dynamodb", endpoint, pool=2) for _ in range(threads)]

    def race(kind: str) -> list[int]:
        winners = []
        for rnd in range(rounds):
            k = f"race-{kind}-{uuid.uuid4().hex[:8]}-{rnd}"
            if kind == "cas":
                ddb.put_item(TableName=table, Item={"database_key": {"S": k}, "version": {"N": "0"}})
            barrier = threading.Barrier(threads)
            wins, errors = [], []

            def worker(i: int) -> None:
                c = clients[i]
                kw = {"TableName": table, "Item": {"database_key": {"S": k}, "owner": {"S": str(i)}, "version": {"N": "1"}}}
                if kind == "create":
                    kw["ConditionExpression"] = "attribute_not_exists(database_key)"
                else:  # compare-and-swap on version 0 -> 1
                    kw["ConditionExpression"] = "#v = :v"
                    kw["ExpressionAttributeNames"] = {"#v": "version"}
                    kw["ExpressionAttributeValues"] = {":v": {"N": "0"}}
                barrier.wait()
                try:
                    c.put_item(**kw)
                    wins.append(i)
                except ClientError as e:
                    if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        errors.append(err(e))
                except Exception as e:  # noqa: BLE001 - report anything else
                    errors.append(repr(e))

            ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            if errors:
                print(f"  round {rnd}: unexpected errors {errors[:3]}", flush=True)
            stored = ddb.get_item(TableName=table, Key={"database_key": {"S": k}}, ConsistentRead=True)["Item"]
            if len(wins) == 1 and stored["owner"]["S"] != str(wins[0]):
                print(f"  round {rnd}: winner {wins[0]} but stored owner {stored['owner']['S']}", flush=True)
                wins.append(-1)  # count as a failure
            winners.append(len(wins))
        return winners

    for kind, what in (("create", "attribute_not_exists"), ("cas", "version CAS")):
        t0 = time.monotonic()
        w = race(kind)
        hist = {n: w.count(n) for n in sorted(set(w))}
        check(
            f"dynamodb {threads}-thread PutItem race with {what}: exactly one winner in each of {rounds} rounds",
            all(n == 1 for n in w),
            f"winners-per-round histogram {hist}, {time.monotonic() - t0:.1f}s",
        )


# ------------------------------------------------------------ EventBridge -> SQS
def events_checks() -> None:
    events = client("events", ENV["REDLEASE_IT_EVENTS_ENDPOINT"])
    sqs = client("sqs", ENV["REDLEASE_IT_SQS_ENDPOINT"])
    queue_url = ENV["REDLEASE_IT_EVENTS_QUEUE_URL"]
    marker = uuid.uuid4().hex
    r = events.put_events(Entries=[
        {"EventBusName": ENV["REDLEASE_IT_EVENT_BUS"], "Source": "redlease",
         "DetailType": "Lease Expired", "Detail": json.dumps({"marker": marker})},
        # must not match the rule
        {"EventBusName": ENV["REDLEASE_IT_EVENT_BUS"], "Source": "redlease",
         "DetailType": "Lease Acquired", "Detail": json.dumps({"marker": "other"})},
    ])
    check("events PutEvents accepted", r["FailedEntryCount"] == 0, f"FailedEntryCount={r['FailedEntryCount']}")

    t0, bodies = time.monotonic(), []
    while time.monotonic() - t0 < 10 and not any(marker in b for b in bodies):
        m = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for msg in m.get("Messages", []):
            bodies.append(msg["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
    hit = next((json.loads(b) for b in bodies if marker in b), None)
    check(
        "events 'Lease Expired' on bus arrives in SQS queue",
        bool(hit) and hit["source"] == "redlease" and hit["detail-type"] == "Lease Expired"
        and hit["detail"] == {"marker": marker},
        f"after {time.monotonic() - t0:.2f}s, envelope keys {sorted(hit) if hit else None}",
    )
    # give a stray non-matching event a moment to show up
    m = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies += [x["Body"] for x in m.get("Messages", [])]
    check("events rule filters out other detail-types", not any('"other"' in b for b in bodies),
          f"{len(bodies)} message(s) received in total")


def main() -> int:
    for name in sorted(k for k in ENV if k.startswith("REDLEASE_IT")):
        print(f"env {name}={ENV[name]}")
    for fn in (s3_checks, ddb_checks, events_checks):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a crash is a failed check
            check(f"{fn.__name__} crashed", False, repr(e))
    failed = sum(1 for _, ok, _ in RESULTS if not ok)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
