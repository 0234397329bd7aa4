"""Create the redlease integration-test resources in freshly started emulators.

Run by with-emulators.sh with the LocalStack venv's Python (boto3 comes pinned
with localstack-core). Endpoints and names are read from the REDLEASE_IT_*
variables the harness exports. Prints the events queue URL as the only line on
stdout; progress goes to stderr.
"""

import json
import os
import sys

import boto3
from botocore.config import Config

RULE_NAME = "redlease-it-lease-expired"
RULE_PATTERN = {"source": ["redlease"], "detail-type": ["Lease Expired"]}


def log(msg: str) -> None:
    print(f"[emulators] {msg}", file=sys.stderr, flush=True)


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ["AWS_REGION"],
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


def main() -> int:
    env = os.environ
    bucket = env["REDLEASE_IT_BUCKET"]
    table = env["REDLEASE_IT_TABLE"]
    bus = env["REDLEASE_IT_EVENT_BUS"]
    queue = env["REDLEASE_IT_EVENTS_QUEUE"]

    s3 = client("s3", env["REDLEASE_IT_S3_ENDPOINT"])
    s3.create_bucket(Bucket=bucket)  # us-east-1: no LocationConstraint
    log(f"s3 bucket {bucket}")

    ddb = client("dynamodb", env["REDLEASE_IT_DYNAMODB_ENDPOINT"])
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "database_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "database_key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    log(f"dynamodb table {table} (database_key S, PAY_PER_REQUEST)")

    sqs = client("sqs", env["REDLEASE_IT_SQS_ENDPOINT"])
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    events = client("events", env["REDLEASE_IT_EVENTS_ENDPOINT"])
    events.create_event_bus(Name=bus)
    rule_arn = events.put_rule(
        Name=RULE_NAME,
        EventBusName=bus,
        EventPattern=json.dumps(RULE_PATTERN),
        State="ENABLED",
    )["RuleArn"]

    # What AWS needs for EventBridge to deliver to SQS; LocalStack does not
    # enforce it, but keeping it makes the setup valid against real AWS too.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowRedleaseItRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)}
    )

    resp = events.put_targets(
        Rule=RULE_NAME,
        EventBusName=bus,
        Targets=[{"Id": "redlease-it-events-queue", "Arn": queue_arn}],
    )
    if resp.get("FailedEntryCount"):
        raise RuntimeError(f"put_targets failed: {resp['FailedEntries']}")
    log(f"event bus {bus}, rule {RULE_NAME} -> sqs queue {queue}")

    print(queue_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
