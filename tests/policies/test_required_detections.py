"""Unit tests of the `required-detections` stack policy and the `detections-protected` resource
policy on small fake stacks, props wrapped in the unknown-checking proxy as the servicer wraps them.

The chain under test: trail -> log group -> metric filter (pattern judged on the catalogue's
samples) -> alarm on exactly its metric -> SNS topic.
"""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE
from trailguard_policies.detections import detections_protected, required_detections_policy
from trailguard_policies.props import LOG_GROUP, METRIC_ALARM, METRIC_FILTER, ROLE, ROLE_POLICY, SUBSCRIPTION, TOPIC, TRAIL

from components import documents
from tests.policies.helpers import Res, run_resource_policy, run_stack_policy, run_stack_policy_in_preview
from trailguard.catalog import load_catalog

ACCOUNT = "123456789012"
GROUP = "/aws/cloudtrail/prod"
GROUP_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:security"
ROOT_PATTERN = load_catalog().get("root-usage").pattern_for("default")
VPC_PATTERN = load_catalog().get("vpc-changes").pattern_for("securityhub")
ROOT_ONLY = {"requiredDetections": ["root-usage"]}
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/prod"
ROLE_NAME = "cloudtrail-delivery"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"


def trail(**changes) -> Res:
    props = {"arn": TRAIL_ARN, "isMultiRegionTrail": True, "enableLogging": True,
             "cloudWatchLogsGroupArn": GROUP_ARN + ":*", "cloudWatchLogsRoleArn": ROLE_ARN}
    return Res(TRAIL, "trail", {**props, **changes})


def delivery_role(**changes) -> Res:
    """The trail's CloudWatch Logs role, trusting CloudTrail for this trail (the program's document)."""
    trust = json.dumps(documents.delivery_trust_policy("aws", "us-east-1", ACCOUNT, "prod"))
    return Res(ROLE, "delivery-role", {"name": ROLE_NAME, "arn": ROLE_ARN, "assumeRolePolicy": trust, **changes})


def delivery_policy(**changes) -> Res:
    """The role's inline policy: logs:CreateLogStream and logs:PutLogEvents on the group's CloudTrail streams."""
    policy = json.dumps(documents.delivery_role_policy("aws", "us-east-1", ACCOUNT, GROUP))
    return Res(ROLE_POLICY, "delivery-policy", {"role": ROLE_NAME, "policy": policy, **changes})


def log_group(**changes) -> Res:
    return Res(LOG_GROUP, "logs", {"name": GROUP, "arn": GROUP_ARN, "retentionInDays": 365, **changes})


def metric_filter(name="root-filter", pattern=ROOT_PATTERN, metric="RootAccountUsage", **changes) -> Res:
    props = {
        "logGroupName": GROUP,
        "pattern": pattern,
        "metricTransformation": {"name": metric, "namespace": "CISBenchmark", "value": "1"},
        **changes,
    }
    return Res(METRIC_FILTER, name, props)


def alarm(name="root-alarm", metric="RootAccountUsage", **changes) -> Res:
    props = {
        "metricName": metric,
        "namespace": "CISBenchmark",
        "statistic": "Sum",
        "period": 300,
        "evaluationPeriods": 1,
        "datapointsToAlarm": 1,
        "threshold": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "actionsEnabled": True,
        "alarmActions": [TOPIC_ARN],
        **changes,
    }
    return Res(METRIC_ALARM, name, props)


def topic() -> Res:
    return Res(TOPIC, "security", {"name": "security", "arn": TOPIC_ARN})


def subscription(**changes) -> Res:
    return Res(SUBSCRIPTION, "security-email", {"topic": TOPIC_ARN, "protocol": "email",
                                                 "endpoint": "soc@example.com", **changes})


def root_stack(*, filter_=None, alarm_=None, trail_=None, group=None) -> list[Res]:
    """The root-usage chain; filter and alarm share a component parent, as the program builds them."""
    component = Res("trailguard:detection:Detection", "root-detection", {})
    filter_, alarm_ = filter_ or metric_filter(), alarm_ or alarm()
    filter_.parent = alarm_.parent = "root-detection"
    return [trail_ or trail(), group or log_group(), component, filter_, alarm_, topic(), subscription(),
            delivery_role(), delivery_policy()]


def messages(resources, config=ROOT_ONLY) -> list[str]:
    return [message for message, _ in run_stack_policy(required_detections_policy, resources, config)]


def test_whole_chain_passes():
    assert messages(root_stack()) == []


def test_default_config_requires_the_seed_five():
    reported = messages(root_stack(), config=None)
    assert reported == [
        "required detections 'ec2-instance-changes', 'iam-policy-changes', 'security-group-changes', 'vpc-changes': "
        "no metric filter in the stack matches all its positive and none of its negative catalogue samples; "
        "add it to the stack's trailguard:detections"
    ]


def test_missing_detection_is_reported_against_the_stack():
    reported = run_stack_policy(required_detections_policy, root_stack(), {"requiredDetections": ["vpc-changes"]})
    assert reported == [(
        "required detection 'vpc-changes' (VPC changes): no metric filter in the stack matches all its positive "
        "and none of its negative catalogue samples; add it to the stack's trailguard:detections",
        None,
    )]


def test_presets_expand():
    reported = messages(root_stack(), config={"requiredDetections": ["seed"]})
    assert len(reported) == 1 and reported[0].startswith("required detections 'ec2-instance-changes', ")


def test_unknown_detection_in_config_names_the_key_and_the_nearest():
    reported = messages(root_stack(), config={"requiredDetections": ["root-usage", "vpc-change"]})
    assert len(reported) == 1
    assert reported[0].startswith("policy config requiredDetections: ")
    assert "vpc-change" in reported[0] and "vpc-changes" in reported[0]


@pytest.mark.parametrize(
    "pattern",
    [
        # reformatted: spacing, quoting, clause order
        '{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }',
        '{($.userIdentity.type="Root")&&($.userIdentity.invokedBy NOT EXISTS)&&($.eventType!="AwsServiceEvent")}',
    ],
)
def test_reformatted_or_reordered_pattern_passes(pattern):
    assert messages(root_stack(filter_=metric_filter(pattern=pattern))) == []


def test_weakened_pattern_names_the_filter_and_the_sample_it_gets_wrong():
    weakened = '{ $.userIdentity.type = "Root" }'  # also fires on AWS acting as root
    reported = messages(root_stack(filter_=metric_filter(pattern=weakened)))
    assert len(reported) == 1
    assert reported[0].startswith(
        "required detection 'root-usage' (Root user activity): no metric filter in the stack matches all its "
        "positive and none of its negative catalogue samples; closest is metric filter 'root-filter', which matches "
    )


def test_dropped_event_name_misses_a_positive():
    dropped = VPC_PATTERN.replace("($.eventName=DeleteVpc) || ", "")
    assert dropped != VPC_PATTERN
    stack = root_stack() + [metric_filter("vpc-filter", dropped, "VpcChanges"), alarm("vpc-alarm", "VpcChanges")]
    reported = messages(stack, config={"requiredDetections": ["vpc-changes"]})
    assert len(reported) == 1
    assert "closest is metric filter 'vpc-filter', which misses 1 of" in reported[0]
    assert "DeleteVpc from ec2.amazonaws.com" in reported[0]


@pytest.mark.parametrize("pattern", ["", " ", "{ $.eventName = * }"])
def test_match_all_pattern_matches_negatives(pattern):
    reported = messages(root_stack(filter_=metric_filter(pattern=pattern)))
    assert len(reported) == 1
    assert "closest is metric filter 'root-filter', which matches" in reported[0]
    assert "negative samples" in reported[0]


def test_one_whole_chain_among_broken_candidates_passes():
    stack = root_stack() + [metric_filter("copy-filter", metric="Copy"), Res(LOG_GROUP, "other", {"name": "other"})]
    assert messages(stack) == []


def test_filter_on_a_log_group_outside_the_stack():
    reported = messages(root_stack(filter_=metric_filter(logGroupName="/elsewhere")))
    assert reported == [
        "required detection 'root-usage' (Root user activity): metric filter 'root-filter' is on log group "
        "'/elsewhere', which is neither a log group of this stack nor listed in externalLogGroups"
    ]


def test_external_log_group_in_config_counts_as_fed():
    stack = [metric_filter(logGroupName="/org/trail"), alarm(), topic(), subscription()]
    assert messages(stack, config={**ROOT_ONLY, "externalLogGroups": ["/org/trail"]}) == []


@pytest.mark.parametrize(
    ("trail_changes", "reason"),
    [
        ({"isMultiRegionTrail": False}, "trail 'trail' is single-region (isMultiRegionTrail is false)"),
        ({"enableLogging": False}, "trail 'trail' has logging off (enableLogging is false)"),
    ],
)
def test_log_group_fed_only_by_an_unfit_trail(trail_changes, reason):
    reported = messages(root_stack(trail_=trail(**trail_changes)))
    assert reported == [
        f"required detection 'root-usage' (Root user activity): log group '{GROUP}' is fed by no multi-region, "
        f"logging trail: {reason}"
    ]


def test_one_broken_link_shared_by_detections_is_one_violation():
    stack = root_stack(trail_=trail(isMultiRegionTrail=False)) + [
        metric_filter("vpc-filter", VPC_PATTERN, "VpcChanges"), alarm("vpc-alarm", "VpcChanges")]
    reported = messages(stack, config={"requiredDetections": ["root-usage", "vpc-changes"]})
    assert len(reported) == 1
    assert reported[0].startswith("required detections 'root-usage', 'vpc-changes': log group")


def test_trail_delivering_elsewhere():
    reported = messages(root_stack(trail_=trail(cloudWatchLogsGroupArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:x:*")))
    assert len(reported) == 1
    assert f"no trail of this stack delivers to log group '{GROUP}'" in reported[0]


@pytest.mark.parametrize(
    ("alarm_changes", "hint"),
    [
        ({"metricName": "RootUsage"}, "alarm 'root-alarm' watches 'CISBenchmark/RootUsage'"),
        ({"namespace": "Other"}, "alarm 'root-alarm' watches 'Other/RootAccountUsage'"),
    ],
)
def test_alarm_on_another_metric_or_namespace(alarm_changes, hint):
    reported = messages(root_stack(alarm_=alarm(**alarm_changes)))
    assert reported == [
        "required detection 'root-usage' (Root user activity): no alarm watches metric "
        f"'CISBenchmark/RootAccountUsage' of metric filter 'root-filter' ({hint})"
    ]


@pytest.mark.parametrize(
    ("alarm_changes", "expected"),
    [
        ({"alarmActions": []}, "alarm 'root-alarm' notifies nobody: it has no alarm actions"),
        ({"alarmActions": ["arn:aws:sns:us-east-1:999999999999:elsewhere"]},
         "alarm 'root-alarm' notifies nobody: its alarm actions (arn:aws:sns:us-east-1:999999999999:elsewhere) are "
         "neither SNS topics of this stack nor listed in externalTopicArns"),
        ({"actionsEnabled": False}, "alarm 'root-alarm' has actions disabled (actionsEnabled is false)"),
        ({"threshold": 100},
         "alarm 'root-alarm' does not fire on a single matching event: its threshold 100 is above the allowed "
         "maximum 1; one matching event gives Sum 1, which is not GreaterThanOrEqualToThreshold 100"),
        ({"threshold": 1, "comparisonOperator": "GreaterThanThreshold"},
         "alarm 'root-alarm' does not fire on a single matching event: one matching event gives Sum 1, which is "
         "not GreaterThanThreshold 1"),
        ({"evaluationPeriods": 3, "datapointsToAlarm": 2},
         "alarm 'root-alarm' does not fire on a single matching event: it needs 2 breaching datapoints, more than "
         "the allowed 1"),
        ({"period": 86400},
         "alarm 'root-alarm' does not fire on a single matching event: its evaluation window 86400s (86400s x 1) "
         "exceeds the allowed 3600s"),
        ({"dimensions": {"User": "alice"}},
         "alarm 'root-alarm' watches the metric with dimensions (User), which the metric filter does not publish"),
    ],
)
def test_alarm_that_cannot_fire_or_notify(alarm_changes, expected):
    reported = messages(root_stack(alarm_=alarm(**alarm_changes)))
    assert reported == [f"required detection 'root-usage' (Root user activity): {expected}"]


@pytest.mark.parametrize("statistic", ["SampleCount", "Maximum", "Average", "Minimum"])
def test_other_statistics_that_fire_on_one_event_pass(statistic):
    assert messages(root_stack(alarm_=alarm(statistic=statistic))) == []


def test_default_value_dilutes_an_average():
    diluted = metric_filter(metricTransformation={"name": "RootAccountUsage", "namespace": "CISBenchmark",
                                                  "value": "1", "defaultValue": "0"})
    reported = messages(root_stack(filter_=diluted, alarm_=alarm(statistic="Average")))
    assert len(reported) == 1 and "one matching event gives Average 0" in reported[0]


def test_metric_value_from_the_event_is_reported():
    from_event = metric_filter(metricTransformation={"name": "RootAccountUsage", "namespace": "CISBenchmark",
                                                     "value": "$.bytes"})
    reported = messages(root_stack(filter_=from_event))
    assert reported == [
        "required detection 'root-usage' (Root user activity): metric filter 'root-filter' publishes '$.bytes' per "
        "matching event; publish a constant such as '1' so that a single event reaches the alarm threshold"
    ]


def test_per_detection_limits_allow_a_tuned_burst():
    tuned = alarm(threshold=5, evaluationPeriods=3, datapointsToAlarm=2)
    config = {**ROOT_ONLY, "perDetection": {"root-usage": {"maxThreshold": 5, "maxDatapointsToAlarm": 2}}}
    assert messages(root_stack(alarm_=tuned), config=config) == []
    assert len(messages(root_stack(alarm_=alarm(threshold=6)), config=config)) == 1


def test_external_topic_arn_in_config_counts():
    external = "arn:aws:sns:us-east-1:999999999999:central-soc"
    stack = root_stack(alarm_=alarm(alarmActions=[external]))
    assert messages(stack, config={**ROOT_ONLY, "externalTopicArns": [external]}) == []


def test_violation_points_at_the_broken_resource():
    reported = run_stack_policy(required_detections_policy, root_stack(alarm_=alarm(actionsEnabled=False)), ROOT_ONLY)
    assert [urn for _, urn in reported] == [f"urn:pulumi:prod::trailguard::{METRIC_ALARM}::root-alarm"]


# --- preview: unknown values ---------------------------------------------------------------


def preview_stack(*, with_dependencies: bool = True) -> list[Res]:
    """The root chain as a first preview sees it: ARNs unknown, names literal or unknown."""
    deps = with_dependencies
    role_policy = delivery_policy(role=UNKNOWN_STRING_VALUE)
    role_policy.property_dependencies = {"role": ["delivery-role"]} if deps else {}
    return [
        Res(TRAIL, "trail", {"isMultiRegionTrail": True, "enableLogging": True, "cloudWatchLogsGroupArn": UNKNOWN_STRING_VALUE,
                             "cloudWatchLogsRoleArn": UNKNOWN_STRING_VALUE},
            property_dependencies={"cloudWatchLogsGroupArn": ["logs"], "cloudWatchLogsRoleArn": ["delivery-role"]}
            if deps else {}),
        Res(LOG_GROUP, "logs", {"name": UNKNOWN_STRING_VALUE, "arn": UNKNOWN_STRING_VALUE}),
        Res(METRIC_FILTER, "root-filter", {
            "logGroupName": UNKNOWN_STRING_VALUE, "pattern": ROOT_PATTERN,
            "metricTransformation": {"name": "RootAccountUsage", "namespace": "CISBenchmark", "value": "1"}},
            property_dependencies={"logGroupName": ["logs"]} if deps else {}),
        Res(METRIC_ALARM, "root-alarm", {**alarm().props, "alarmActions": [UNKNOWN_STRING_VALUE]},
            property_dependencies={"alarmActions": ["security"]} if deps else {}),
        Res(TOPIC, "security", {"arn": UNKNOWN_STRING_VALUE, "name": UNKNOWN_STRING_VALUE}),
        Res(SUBSCRIPTION, "security-email", {"topic": UNKNOWN_STRING_VALUE, "protocol": "email",
                                             "endpoint": "soc@example.com"},
            property_dependencies={"topic": ["security"]} if deps else {}),
        delivery_role(arn=UNKNOWN_STRING_VALUE),
        role_policy,
    ]


def test_preview_links_are_decided_from_property_dependencies():
    assert messages(preview_stack()) == []


def test_preview_without_dependencies_is_undecided_not_a_failure():
    reported, undecided = run_stack_policy_in_preview(required_detections_policy, preview_stack(with_dependencies=False), ROOT_ONLY)
    assert reported == []
    # the servicer turns this into the advisory "can't run policy ... during preview: <message>"
    assert undecided is not None
    assert undecided.startswith("required detection 'root-usage': whether metric filter 'root-filter' reads a log group")
    assert undecided.endswith("(decided on update)")


def test_preview_reports_a_missing_detection_as_mandatory_before_the_undecided_ones():
    config = {"requiredDetections": ["root-usage", "vpc-changes"]}
    reported, undecided = run_stack_policy_in_preview(required_detections_policy, preview_stack(with_dependencies=False), config)
    assert len(reported) == 1
    assert reported[0].startswith("required detection 'vpc-changes' (VPC changes): no metric filter")
    assert undecided is not None and "'root-usage'" in undecided and "vpc-changes" not in undecided


def test_preview_unknown_flags_and_actions_are_undecided_never_an_error():
    stack = preview_stack()
    stack[0] = Res(TRAIL, "trail", {"isMultiRegionTrail": UNKNOWN_BOOLEAN_VALUE, "cloudWatchLogsGroupArn": UNKNOWN_STRING_VALUE},
                   property_dependencies={"cloudWatchLogsGroupArn": ["logs"]})
    stack[3] = Res(METRIC_ALARM, "root-alarm", {**alarm().props, "alarmActions": UNKNOWN_ARRAY_VALUE})
    reported, undecided = run_stack_policy_in_preview(required_detections_policy, stack, ROOT_ONLY)
    assert reported == []
    assert undecided is not None and "unknown at preview" in undecided


def test_preview_unknown_pattern_is_undecided():
    stack = preview_stack()
    stack[2].props["pattern"] = UNKNOWN_STRING_VALUE
    reported, undecided = run_stack_policy_in_preview(required_detections_policy, stack, ROOT_ONLY)
    assert reported == []
    assert undecided == ("required detection 'root-usage': the pattern of metric filter(s) 'root-filter' is unknown "
                         "at preview (decided on update)")


# --- detections-protected ------------------------------------------------------------------


def protected_messages(res: Res, protect: bool, config=None) -> list[str]:
    return run_resource_policy(detections_protected, res.type, res.props, name=res.name, protect=protect, config=config)


def test_unprotected_filter_and_alarm_of_a_required_detection_are_reported():
    filter_messages = protected_messages(metric_filter(), protect=False)
    assert filter_messages == [
        "metric filter 'root-filter' of required detection 'root-usage' (Root user activity) is not protected: "
        "`pulumi up --skip-preview` (the Automation API and pulumi/actions) runs stack policies only after deleting "
        "it. Set protect (stack config trailguard:protect: true)."
    ]
    assert len(protected_messages(alarm(), protect=False)) == 1


def test_protected_or_unrequired_resources_pass():
    assert protected_messages(metric_filter(), protect=True) == []
    assert protected_messages(alarm(), protect=True) == []
    assert protected_messages(metric_filter(), protect=False, config={"requiredDetections": ["vpc-changes"]}) == []


def test_alarm_on_a_renamed_metric_is_recognised_by_its_detection_tag():
    renamed = alarm(metric="RootLogins", tags={"trailguard:detection": "root-usage", "Owner": "sec"})
    assert len(protected_messages(renamed, protect=False)) == 1
    assert protected_messages(alarm(metric="RootLogins"), protect=False) == []


def test_renamed_metric_filter_is_still_recognised_by_its_pattern():
    renamed = metric_filter(metric="SomethingElse")
    assert len(protected_messages(renamed, protect=False)) == 1


def test_protect_policy_with_unknown_pattern_does_not_raise():
    unknown = metric_filter(pattern=UNKNOWN_STRING_VALUE, metric="Custom")
    assert protected_messages(unknown, protect=False) == []


def test_preview_filter_on_an_unknown_group_outside_the_stack():
    unknown_group = Res(METRIC_FILTER, "root-filter", {**metric_filter().props, "logGroupName": UNKNOWN_STRING_VALUE})
    stack = [unknown_group, alarm(), topic(), subscription()]
    reported, undecided = run_stack_policy_in_preview(
        required_detections_policy, stack, {**ROOT_ONLY, "externalLogGroups": ["/org/trail"]})
    assert reported == [] and undecided is not None and "externalLogGroups is unknown at preview" in undecided
    reported, undecided = run_stack_policy_in_preview(required_detections_policy, stack, ROOT_ONLY)
    assert undecided is None
    assert reported == [
        "required detection 'root-usage' (Root user activity): metric filter 'root-filter' is on a log group "
        "computed outside this stack, which is neither a log group of this stack nor listed in externalLogGroups"]


def test_default_required_set_is_the_catalogues_seed_preset():
    """One source for the seed article's five alarms: the pack's default is the `seed` preset."""
    from trailguard_policies.settings import SEED_DETECTIONS, required_detections_property

    from trailguard.catalog import SEED_PRESET

    seed = load_catalog().presets[SEED_PRESET]
    assert SEED_DETECTIONS == seed
    assert required_detections_property()["default"] == list(seed)
    assert len(seed) == 5 and "root-usage" in seed


def test_program_and_pack_share_the_detection_tag():
    """The tag the program writes on an alarm is the key the pack reads it back by."""
    from trailguard_policies import detections

    from components import detection as component
    from trailguard.catalog import DETECTION_TAG

    assert component.DETECTION_TAG is detections.DETECTION_TAG is DETECTION_TAG
