"""moto's EventBridge pattern matcher as an oracle, through a real moto server and boto3.

moto 5.2.5 answers TestEventPattern with nothing (the model raises NotImplementedError, the response
handler is empty; `test_moto_test_event_pattern_is_a_no_op` holds that), so the oracle asks it the
way a deployed rule is asked: PutRule with the pattern, an SQS queue as target, PutEvents, and the
events that reach the queue are the ones it matched. Each event carries its index in `resources`,
which no compiled pattern reads.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any, Mapping, Sequence

import boto3

REGION = "us-east-1"
_names = count()


class EventBridgeOracle:
    def __init__(self, endpoint: str) -> None:
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name=REGION)
        self.events = session.client("events", endpoint_url=endpoint)
        self.sqs = session.client("sqs", endpoint_url=endpoint)

    def matches(self, pattern_text: str, events: Sequence[Mapping[str, Any]],
                state: str = "ENABLED") -> list[bool]:
        """For each EventBridge event (an envelope with `detail`): did the rule with this pattern fire."""
        number = next(_names)
        queue_url = self.sqs.create_queue(QueueName=f"oracle-{number}")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        rule = f"oracle-{number}"
        self.events.put_rule(Name=rule, EventPattern=pattern_text, State=state)
        self.events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}])
        try:
            for start in range(0, len(events), 10):
                entries = [{"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]),
                            "Resources": [f"arn:aws:trailguard:::event/{start + i}"]}
                           for i, e in enumerate(events[start:start + 10])]
                failed = self.events.put_events(Entries=entries)["FailedEntryCount"]
                assert failed == 0, f"PutEvents refused {failed} entries"
            fired: set[int] = set()
            while True:
                messages = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    fired.add(int(json.loads(message["Body"])["resources"][0].rsplit("/", 1)[1]))
                self.sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        finally:
            self.events.remove_targets(Rule=rule, Ids=["queue"])
            self.events.delete_rule(Name=rule)
            self.sqs.delete_queue(QueueUrl=queue_url)
        return [index in fired for index in range(len(events))]
