"""The delivery links of `required-detections` on small stacks (class 4: the trail's CloudWatch
Logs role and the log group's key; class 5: the topic's policy and key), and the policy evaluator
they rest on. Each link: a harmful change reported with the resource and the link, a benign one
passing, and at preview an unknown value reported advisory (never a pass, never a crash). The
real program through pulumi-policy's servicer is in test_end_to_end.py.
"""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from trailguard_policies.detections import required_detections_policy
from trailguard_policies.links import Link
from trailguard_policies.policy_documents import ACCOUNT as ACCOUNT_VAR
from trailguard_policies.policy_documents import REGION, Request, allowed, decide, parse
from trailguard_policies.props import (
    KMS_ALIAS,
    KMS_KEY,
    KMS_KEY_POLICY,
    MANAGED_POLICY,
    ROLE,
    ROLE_POLICY_ATTACHMENT,
    TOPIC,
    TOPIC_POLICY,
)

from components import documents
from tests.policies.helpers import Res, run_stack_policy_in_preview
from tests.policies.test_required_detections import (
    ACCOUNT,
    GROUP,
    GROUP_ARN,
    ROLE_ARN,
    ROOT_ONLY,
    TOPIC_ARN,
    delivery_policy,
    delivery_role,
    log_group,
    messages,
    root_stack,
    trail,
)

KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-1"
ALARM_ARN = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:root"


def only(reported: list[str], *fragments: str) -> None:
    assert len(reported) == 1, reported
    for fragment in fragments:
        assert fragment in reported[0], reported[0]


def replaced(stack: list[Res], *resources: Res) -> list[Res]:
    names = {r.name for r in resources}
    return [r for r in stack if r.name not in names] + list(resources)


def key(name: str, policy, **changes) -> Res:
    props = {"arn": KEY_ARN, "keyId": "k-1", **changes}
    if policy is not None:
        props["policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    return Res(KMS_KEY, name, props)


def logs_key_policy() -> dict:
    return documents.log_group_key_policy("aws", "us-east-1", ACCOUNT, GROUP)


def topic_key_policy() -> dict:
    return documents.topic_key_policy("aws", "us-east-1", ACCOUNT)


def encrypted_topic(**changes) -> Res:
    return Res(TOPIC, "security", {"name": "security", "arn": TOPIC_ARN, "kmsMasterKeyId": KEY_ARN, **changes})


def topic_policy(document) -> Res:
    return Res(TOPIC_POLICY, "security-policy", {"arn": TOPIC_ARN, "policy": json.dumps(document)})


def preview(stack: list[Res]) -> tuple[list[str], str | None]:
    return run_stack_policy_in_preview(required_detections_policy, stack, ROOT_ONLY)


# --------------------------------------------------------------------------- class 4: the CloudWatch Logs role


def test_the_whole_delivery_chain_passes():
    assert messages(root_stack()) == []


def test_trail_without_a_role_cannot_deliver():
    only(messages(root_stack(trail_=trail(cloudWatchLogsRoleArn=None))),
         "required detection 'root-usage'", "trail 'trail' has no cloudWatchLogsRoleArn",
         f"log group '{GROUP}'")


def test_trust_for_another_trail_is_reported_on_the_role():
    trust = documents.delivery_trust_policy("aws", "us-east-1", ACCOUNT, "staging")
    stack = replaced(root_stack(), delivery_role(assumeRolePolicy=json.dumps(trust)))
    only(messages(stack), "CloudTrail cannot assume role 'cloudtrail-delivery' to deliver trail 'trail'",
         "no statement of the trust policy (assumeRolePolicy) of role 'cloudtrail-delivery' allows it")


def test_trust_denying_cloudtrail_is_reported():
    trust = documents.delivery_trust_policy("aws", "us-east-1", ACCOUNT, "prod")
    trust["Statement"].append({"Sid": "NoServices", "Effect": "Deny", "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
                               "Action": "sts:*"})
    only(messages(replaced(root_stack(), delivery_role(assumeRolePolicy=json.dumps(trust)))),
         "statement 'NoServices' of the trust policy (assumeRolePolicy) of role 'cloudtrail-delivery' denies it")


def test_trust_without_condition_passes():
    trust = {"Statement": {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                           "Action": "sts:AssumeRole"}}
    assert messages(replaced(root_stack(), delivery_role(assumeRolePolicy=json.dumps(trust)))) == []


def test_trust_policy_that_is_not_json_is_reported():
    only(messages(replaced(root_stack(), delivery_role(assumeRolePolicy="{not json"))),
         "the trust policy (assumeRolePolicy) of role 'cloudtrail-delivery' is not JSON")


def test_role_without_permission_policy_cannot_write():
    stack = [r for r in root_stack() if r.name != "delivery-policy"]
    only(messages(stack), "role 'cloudtrail-delivery' of trail 'trail' may not write log group",
         "logs:CreateLogStream on", "no policy")


def test_role_policy_of_another_role_does_not_count():
    only(messages(replaced(root_stack(), delivery_policy(role="other-role"))), "may not write log group")


def test_managed_policy_attached_in_the_stack_counts():
    policy = Res(MANAGED_POLICY, "delivery-managed", {"arn": f"arn:aws:iam::{ACCOUNT}:policy/delivery",
                                                      "policy": delivery_policy().props["policy"]})
    attachment = Res(ROLE_POLICY_ATTACHMENT, "attach", {"role": "cloudtrail-delivery",
                                                        "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/delivery"})
    stack = [r for r in root_stack() if r.name != "delivery-policy"] + [policy, attachment]
    assert messages(stack) == []


def test_managed_policy_from_outside_the_stack_is_advisory():
    stack = [r for r in root_stack() if r.name != "delivery-policy"]
    stack = replaced(stack, delivery_role(managedPolicyArns=["arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"]))
    reported, advisory = preview(stack)
    assert reported == []
    assert advisory is not None and "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess) is not a policy of this stack" in advisory


def test_role_outside_the_stack_is_advisory_never_a_pass():
    stack = [r for r in root_stack() if r.name not in ("delivery-role", "delivery-policy")]
    reported, advisory = preview(stack)
    assert reported == []
    assert advisory is not None and f"the CloudWatch Logs role {ROLE_ARN} of trail 'trail' is not a role of this stack" in advisory
    assert not advisory.endswith("(decided on update)")  # the update cannot check a role outside the stack either


def test_unknown_role_at_preview_without_dependencies_is_advisory():
    stack = replaced(root_stack(), trail(cloudWatchLogsRoleArn=UNKNOWN_STRING_VALUE))
    reported, advisory = preview(stack)
    assert reported == []
    assert advisory is not None and "which CloudWatch Logs role trail 'trail' uses is unknown at preview" in advisory


def test_unknown_trust_policy_at_preview_is_advisory():
    reported, advisory = preview(replaced(root_stack(), delivery_role(assumeRolePolicy=UNKNOWN_STRING_VALUE)))
    assert reported == []
    assert advisory is not None and "the trust policy (assumeRolePolicy) of role 'cloudtrail-delivery' is unknown at preview" in advisory


# --------------------------------------------------------------------------- class 4: the log group's key


def encrypted_group_stack(policy) -> list[Res]:
    return replaced(root_stack(), log_group(kmsKeyId=KEY_ARN), key("logs-key", policy))


def test_log_group_key_for_its_group_passes():
    assert messages(encrypted_group_stack(logs_key_policy())) == []


def test_log_group_key_with_the_default_policy_is_reported():
    only(messages(encrypted_group_stack(None)),
         f"KMS key 'logs-key' of log group '{GROUP}' does not let CloudWatch Logs (logs.us-east-1.amazonaws.com) use it",
         "no statement of the default key policy of KMS key 'logs-key'")


def test_log_group_key_for_the_global_logs_principal_is_reported():
    policy = logs_key_policy()
    policy["Statement"][1]["Principal"] = {"Service": "logs.amazonaws.com"}
    only(messages(encrypted_group_stack(policy)), "does not let CloudWatch Logs (logs.us-east-1.amazonaws.com) use it")


def test_key_policy_resource_replaces_the_keys_own():
    stack = encrypted_group_stack(None) + [
        Res(KMS_KEY_POLICY, "logs-key-policy", {"keyId": "k-1", "policy": json.dumps(logs_key_policy())})]
    assert messages(stack) == []


def test_log_group_key_outside_the_stack_is_advisory():
    stack = replaced(root_stack(), log_group(kmsKeyId="arn:aws:kms:us-east-1:999999999999:key/shared"))
    reported, advisory = preview(stack)
    assert reported == []
    assert advisory is not None and f"of log group '{GROUP}' is not a key of this stack" in advisory


# --------------------------------------------------------------------------- class 5: topic policy and key


def topic_stack(*extra: Res, topic_: Res | None = None) -> list[Res]:
    return replaced(root_stack(), topic_ or Res(TOPIC, "security", {"name": "security", "arn": TOPIC_ARN}), *extra)


def test_program_topic_policy_passes():
    assert messages(topic_stack(topic_policy(documents.topic_policy("aws", "us-east-1", ACCOUNT, TOPIC_ARN)))) == []


def test_topic_policy_denying_cloudwatch_is_reported_on_the_policy():
    document = documents.topic_policy("aws", "us-east-1", ACCOUNT, TOPIC_ARN)
    document["Statement"].append({"Sid": "NoAlarms", "Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                  "Action": "SNS:Publish", "Resource": TOPIC_ARN})
    reported = [m for m, urn in _with_urns(topic_stack(topic_policy(document)))]
    only(reported, "SNS topic 'security' refuses CloudWatch alarms",
         "statement 'NoAlarms' of topic policy 'security-policy' denies it")


def _with_urns(stack):
    from tests.policies.helpers import run_stack_policy
    reported = run_stack_policy(required_detections_policy, stack, ROOT_ONLY)
    assert all(urn and urn.endswith("::security-policy") for _, urn in reported), reported
    return reported


def test_topic_own_policy_denying_everyone_is_reported():
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}]}
    only(messages(topic_stack(topic_=Res(TOPIC, "security", {"name": "security", "arn": TOPIC_ARN,
                                                             "policy": json.dumps(deny)}))),
         "SNS topic 'security' refuses CloudWatch alarms", "of the policy of SNS topic 'security' denies it")


def test_topic_policy_deny_on_another_topic_passes():
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                           "Resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:other"}]}
    assert messages(topic_stack(topic_policy(deny))) == []


def test_topic_policy_deny_with_an_unevaluable_condition_is_advisory():
    deny = {"Statement": [{"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}
    reported, advisory = preview(topic_stack(topic_policy(deny)))
    assert reported == []
    assert advisory is not None and "whether statement 'OrgOnly' of topic policy 'security-policy' denies it cannot be decided" in advisory


def test_unknown_topic_policy_at_preview_is_advisory():
    policy = Res(TOPIC_POLICY, "security-policy", {"arn": TOPIC_ARN, "policy": UNKNOWN_STRING_VALUE})
    reported, advisory = preview(topic_stack(policy))
    assert reported == []
    assert advisory is not None and "topic policy 'security-policy' is unknown at preview" in advisory


def test_topic_key_granting_cloudwatch_passes():
    assert messages(topic_stack(key("topic-key", topic_key_policy()), topic_=encrypted_topic())) == []


def test_topic_key_without_a_cloudwatch_grant_is_reported_on_the_key():
    policy = topic_key_policy()
    policy["Statement"] = policy["Statement"][:1]
    only(messages(topic_stack(key("topic-key", policy), topic_=encrypted_topic())),
         "KMS key 'topic-key' of SNS topic 'security' does not let cloudwatch.amazonaws.com use it",
         "kms:GenerateDataKey: no statement of the key policy of KMS key 'topic-key' allows it")


def test_topic_aws_managed_key_is_reported():
    only(messages(topic_stack(topic_=encrypted_topic(kmsMasterKeyId="alias/aws/sns"))),
         "SNS topic 'security' is encrypted with the AWS-managed key alias/aws/sns")


def test_topic_key_through_an_alias_of_the_stack():
    alias = Res(KMS_ALIAS, "topic-alias", {"name": "alias/alerts", "targetKeyId": "k-1"})
    stack = topic_stack(alias, key("topic-key", topic_key_policy()), topic_=encrypted_topic(kmsMasterKeyId="alias/alerts"))
    assert messages(stack) == []
    policy = topic_key_policy()
    policy["Statement"][1]["Action"] = ["kms:Decrypt"]
    stack = topic_stack(alias, key("topic-key", policy), topic_=encrypted_topic(kmsMasterKeyId="alias/alerts"))
    only(messages(stack), "KMS key 'topic-key' of SNS topic 'security'", "kms:GenerateDataKey")


def test_topic_key_outside_the_stack_is_advisory():
    reported, advisory = preview(topic_stack(topic_=encrypted_topic(kmsMasterKeyId="alias/shared-alerts")))
    assert reported == []
    assert advisory is not None and "the KMS key alias/shared-alerts of SNS topic 'security' is not a key of this stack" in advisory


def test_external_topic_arns_are_not_judged_here():
    stack = topic_stack(topic_=encrypted_topic(kmsMasterKeyId="alias/aws/sns"))
    config = {**ROOT_ONLY, "externalTopicArns": [TOPIC_ARN]}
    assert messages(stack, config=config) == []


# --------------------------------------------------------------------------- the evaluator


def publish(**context) -> Request:
    return Request("sns:Publish", principal="cloudwatch.amazonaws.com", resource=TOPIC_ARN,
                   context={"aws:sourcearn": ALARM_ARN, "aws:sourceaccount": ACCOUNT, "aws:securetransport": "true",
                            **context})


def statement_doc(*statements) -> list:
    return [parse("p", {"Statement": list(statements)})]


@pytest.mark.parametrize("condition, expected", [
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, Link.YES),
    ({"StringEquals": {"AWS:SOURCEACCOUNT": ACCOUNT}}, Link.YES),  # condition keys are case-insensitive
    ({"StringEquals": {"aws:SourceAccount": "999999999999"}}, Link.NO),
    ({"StringLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:r*"}}, Link.YES),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:*:alarm:*"}}, Link.YES),  # wildcards in ArnEquals
    ({"ArnNotLike": {"aws:SourceArn": ALARM_ARN}}, Link.NO),
    ({"StringEquals": {"aws:SourceArn": "arn:aws:cloudwatch:*"}}, Link.NO),  # no wildcards in StringEquals
    ({"Bool": {"aws:SecureTransport": True}}, Link.YES),
    ({"Null": {"aws:SourceArn": "false"}}, Link.YES),
    ({"NumericLessThan": {"aws:SourceAccount": 5}}, Link.UNDECIDED),
    ({"ForAnyValue:StringEquals": {"aws:SourceAccount": [ACCOUNT]}}, Link.UNDECIDED),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, Link.UNDECIDED),
])
def test_conditions_of_an_allow(condition, expected):
    documents_ = statement_doc({"Effect": "Allow", "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
                                "Action": "sns:*", "Resource": TOPIC_ARN, "Condition": condition})
    assert allowed(documents_, publish()).link is expected


def test_absent_keys_fail_positive_operators_and_pass_negated_and_if_exists():
    request = Request("sts:AssumeRole", principal="cloudtrail.amazonaws.com", absent=frozenset({"sts:externalid"}))

    def verdict(condition):
        return allowed(statement_doc({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                      "Action": "sts:AssumeRole", "Condition": condition}), request).link

    assert verdict({"StringEquals": {"sts:ExternalId": "x"}}) is Link.NO
    assert verdict({"StringNotEquals": {"sts:ExternalId": "x"}}) is Link.YES
    assert verdict({"StringEqualsIfExists": {"sts:ExternalId": "x"}}) is Link.YES
    assert verdict({"Null": {"sts:ExternalId": "true"}}) is Link.YES


@pytest.mark.parametrize("statement, expected", [
    ({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sns:Publish", "Resource": "*"}, Link.NO),
    ({"Effect": "Deny", "Principal": {"AWS": "*"}, "NotAction": "sns:Publish", "Resource": "*"}, Link.YES),
    ({"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "NotResource": TOPIC_ARN}, Link.YES),
    ({"Effect": "Deny", "Principal": {"Service": "events.amazonaws.com"}, "Action": "*", "Resource": "*"}, Link.YES),
])
def test_denies_only_when_they_cover_the_request(statement, expected):
    assert allowed(statement_doc(statement), publish(), allow_needed=False).link is expected


def test_policy_documents_in_odd_shapes_never_raise():
    for value in ["", "[]", '{"Statement": 1}', '{"Statement": [1, null]}', {"Statement": {"Effect": "Allow"}}, 7]:
        document = parse("p", value)
        assert allowed([document], publish()).link in (Link.NO, Link.UNDECIDED)


def test_preview_values_are_tried_with_every_region_the_policies_name():
    grant = {"Effect": "Allow", "Principal": {"Service": f"logs.{REGION}.amazonaws.com".replace(REGION, "us-east-1")},
             "Action": "kms:*", "Resource": "*",
             "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN}}}
    template_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_VAR}:log-group:{GROUP}"
    request = Request("kms:Encrypt", principal=f"logs.{REGION}.amazonaws.com",
                      context={"kms:encryptioncontext:aws:logs:arn": template_arn})
    assert decide(statement_doc(grant), [request])[0].link is Link.YES
    elsewhere = {**grant, "Principal": {"Service": "logs.eu-west-1.amazonaws.com"}}
    # one region for the principal, another for the log group: no single region passes both
    assert decide(statement_doc(elsewhere), [request])[0].link is Link.NO
    # the region is only named by the policy itself, and differs from the rest of the stack: undecided
    candidates = {REGION: {"us-east-1", "eu-west-1"}, ACCOUNT_VAR: {ACCOUNT}}
    loose = {**elsewhere, "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:log-group:*"}}}
    assert decide(statement_doc(loose), [request], candidates=candidates)[0].link is Link.UNDECIDED
