"""The delivery links of the alarm chain: the permissions that let each service hand on the event.

A trail reaches its log group only through its CloudWatch Logs role: CloudTrail must be allowed to
assume it (trust policy, `cloudtrail.amazonaws.com`, for this trail if conditioned), the role must
be allowed `logs:CreateLogStream` and `logs:PutLogEvents` on the group's CloudTrail stream, and an
encrypted group's key must let the regional logs service use it for this group. An alarm reaches
its topic only if no topic policy denies `cloudwatch.amazonaws.com` `sns:Publish`, and an
encrypted topic's key lets `cloudwatch.amazonaws.com` `kms:GenerateDataKey*` and `kms:Decrypt`.

Resources are found by ARN (or key id, role name) when known, else by `propertyDependencies`;
a reference to nothing in the stack (a role or key managed elsewhere) cannot be judged and is
reported undecided, never passed. Policy documents are judged by `policy_documents`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from pulumi_policy import PolicyResource

from .links import Link, StackView, derived_from, display_name, notified_topics, region_of, trail_feeds, trail_qualifies
from .policy_documents import ACCOUNT, HOLE, PARTITION, REGION, Document, Request, decide, named_values, parse
from .props import UNKNOWN, read, read_items


class LinkProblem(NamedTuple):
    """One broken (or undecidable) delivery link: the message, the resource to fix, whether decided."""

    text: str
    urn: str | None
    decided: bool = True
    at_preview: bool = True  # False: the update cannot decide it either (a role or key outside the stack)


LOG_DELIVERY_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
LOG_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
"""What CloudWatch Logs does with an encrypted group's key on each write and read (its
documented grant is kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe*)."""
TOPIC_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


# --------------------------------------------------------------------------- finding resources


def _known(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ids(*keys: str) -> Callable[[PolicyResource], set[str]]:
    def known_ids(resource: PolicyResource) -> set[str]:
        return {v for v in (_known(read(resource.props, key)) for key in keys) if v}
    return known_ids


_role_ids = _ids("arn", "name")
_key_ids = _ids("arn", "keyId")
_alias_ids = _ids("name", "arn")
_arn_id = _ids("arn")


def _referenced(holder: PolicyResource, prop: str, candidates: Sequence[PolicyResource],
                ids: Callable[[PolicyResource], set[str]]) -> tuple[list[PolicyResource], str]:
    """The resources `holder.prop` refers to and how that is known: "found", "absent" (no value),
    "outside" (no resource of this stack), "undecided" (unknown at preview)."""
    value = read(holder.props, prop)
    if value is None or value == "":
        return [], "absent"
    if isinstance(value, str):
        by_value = [c for c in candidates if value in ids(c)]
        if by_value:
            return by_value, "found"
    elif value is not UNKNOWN:
        return [], "outside"
    dependency = derived_from(holder, prop, candidates) if candidates else Link.NO
    if dependency is Link.YES:
        urns = {d.urn for d in holder.property_dependencies.get(prop) or []}
        return [c for c in candidates if c.urn in urns], "found"
    if dependency is Link.UNDECIDED and (value is UNKNOWN or any(not _arn_id(c) for c in candidates)):
        return [], "undecided"  # a literal may still be the ARN of a resource not created yet
    return [], "outside"


def _arn_part(arn: Any, index: int) -> str | None:
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[index] if len(parts) > 5 and parts[0] == "arn" and parts[index] else None


def _region(resource: PolicyResource) -> str:
    region = region_of(resource)
    return region if isinstance(region, str) and region else REGION


def _account(*resources: PolicyResource) -> str:
    """The account of the first resource whose ARN is known; the stack's unknown account at preview."""
    for resource in resources:
        account = _arn_part(read(resource.props, "arn"), 4)
        if account:
            return account
    return ACCOUNT


def _arn(resource: PolicyResource, template: Callable[[str, str], str]) -> str:
    """The resource's ARN, or at preview `template(region, name)` with holes for what is unknown."""
    arn = _known(read(resource.props, "arn"))
    if arn:
        return arn[:-2] if arn.endswith(":*") else arn
    name = _known(read(resource.props, "name")) or HOLE
    return template(_region(resource), name)


def _shown(value: str) -> str:
    for unknown, shown in ((HOLE, "*"), (PARTITION, "<partition>"), (REGION, "<region>"), (ACCOUNT, "<account>")):
        value = value.replace(unknown, shown)
    return value


def _service_context(service: str, **values: str) -> dict[str, str]:
    """Condition keys every call of an AWS service principal carries, plus `values`."""
    context = {"aws:principalservicename": service, "aws:principalisawsservice": "true",
               "aws:securetransport": "true"}
    context.update({key.replace("__", ":").lower(): value for key, value in values.items()})
    return context


def _stack_values(stack: StackView) -> dict[str, set[str]]:
    """The partitions, regions and accounts the stack's policy documents name: at preview the
    stack's own are among them (a policy naming another than all the others is undecided)."""
    documents = [parse("", read(r.props, key)) for resources, key in (
        (stack.roles, "assumeRolePolicy"), (stack.role_policies, "policy"), (stack.managed_policies, "policy"),
        (stack.keys, "policy"), (stack.key_policies, "policy"), (stack.topic_policies, "policy"),
        (stack.topics, "policy")) for r in resources]
    return named_values(documents)


def _documents_of(label: str, holders: Sequence[PolicyResource], undecided: Sequence[PolicyResource],
                  prop: str = "policy") -> list[Document]:
    documents = [parse(f"{label} '{h.name}'", read(h.props, prop)) for h in holders]
    documents += [Document(f"{label} '{h.name}'", unknown="may apply (what it is attached to is unknown at preview)")
                  for h in undecided]
    return documents


def _attached(holders: Sequence[PolicyResource], prop: str, target: PolicyResource,
              ids: Callable[[PolicyResource], set[str]]) -> tuple[list[PolicyResource], list[PolicyResource]]:
    """The `holders` whose `prop` refers to `target`, and those for which that is unknown."""
    found, unsure = [], []
    for holder in holders:
        _, state = _referenced(holder, prop, [target], ids)
        if state == "found":
            found.append(holder)
        elif state == "undecided":
            unsure.append(holder)
    return found, unsure


# --------------------------------------------------------------------------- trail -> log group


def delivery_problems(group: PolicyResource, stack: StackView) -> list[LinkProblem]:
    """Why no multi-region, logging trail feeding `group` can write to it; [] when one can."""
    best: list[LinkProblem] | None = None
    for trail in stack.trails:
        if trail_feeds(trail, group) is not Link.YES or trail_qualifies(trail)[0] is not Link.YES:
            continue
        problems = [*_role_problems(trail, group, stack), *_log_key_problems(group, stack)]
        if not problems:
            return []
        if best is None or _rank(problems) < _rank(best):
            best = problems
    return best or []


def _rank(problems: Sequence[LinkProblem]) -> tuple[int, int]:
    return (sum(p.decided for p in problems), len(problems))


def _role_problems(trail: PolicyResource, group: PolicyResource, stack: StackView) -> list[LinkProblem]:
    trail_name, group_name = display_name(trail), display_name(group)
    roles, state = _referenced(trail, "cloudWatchLogsRoleArn", stack.roles, _role_ids)
    if state == "absent":
        return [LinkProblem(
            f"trail '{trail_name}' has no cloudWatchLogsRoleArn: CloudTrail delivers to log group '{group_name}' only "
            "through a role it may assume with logs:CreateLogStream and logs:PutLogEvents on the group", trail.urn)]
    if state == "undecided":
        return [LinkProblem(f"which CloudWatch Logs role trail '{trail_name}' uses is unknown at preview", trail.urn, False)]
    if state == "outside":
        shown = _known(read(trail.props, "cloudWatchLogsRoleArn")) or "a value computed outside this stack"
        return [LinkProblem(
            f"the CloudWatch Logs role {shown} of trail '{trail_name}' is not a role of this stack: its trust and "
            "permission policies cannot be checked", trail.urn, False, False)]
    role = roles[0]
    account = _account(trail, group, role)
    trail_arn = _arn(trail, lambda region, name: f"arn:{PARTITION}:cloudtrail:{region}:{ACCOUNT}:trail/{name}")
    problems = []
    trust = parse(f"the trust policy (assumeRolePolicy) of role '{display_name(role)}'", read(role.props, "assumeRolePolicy"))
    assume = Request("sts:AssumeRole", principal="cloudtrail.amazonaws.com",
                     context=_service_context("cloudtrail.amazonaws.com", aws__SourceArn=trail_arn, aws__SourceAccount=account),
                     absent=frozenset({"sts:externalid"}))
    verdict, _ = decide([trust], [assume], candidates=_stack_values(stack))
    if verdict.link is Link.UNDECIDED:
        problems.append(LinkProblem(f"whether CloudTrail may assume role '{display_name(role)}' of trail '{trail_name}' "
                                    f"cannot be decided: {verdict.reason}", role.urn, False))
    elif verdict.link is Link.NO:
        problems.append(LinkProblem(
            f"CloudTrail cannot assume role '{display_name(role)}' to deliver trail '{trail_name}' to log group "
            f"'{group_name}': sts:AssumeRole by cloudtrail.amazonaws.com for {_shown(trail_arn)}: {verdict.reason}. "
            "Trust Service cloudtrail.amazonaws.com, conditioned (if at all) on aws:SourceArn of this trail",
            role.urn))
    problems.extend(_permission_problems(role, trail, group, stack, account))
    return problems


def _permission_problems(role: PolicyResource, trail: PolicyResource, group: PolicyResource, stack: StackView,
                         account: str) -> list[LinkProblem]:
    """The role's identity policies (inline, attached, its boundary) allow writing the group's stream."""
    role_name = display_name(role)
    inline, inline_unsure = _attached(stack.role_policies, "role", role, _role_ids)
    documents = _documents_of("role policy", inline, inline_unsure)
    for index, entry in enumerate(_listed_items(role.props, "inlinePolicies")):
        documents.append(parse(f"inline policy {index} of role '{role_name}'", read(entry, "policy")))
    attachments, attachments_unsure = _attached(stack.attachments, "role", role, _role_ids)
    documents += [Document(f"role policy attachment '{a.name}'", unknown="may apply (its role is unknown at preview)")
                  for a in attachments_unsure]
    for attachment in attachments:
        documents.append(_managed_document(attachment, "policyArn", stack, f"the policy attached by '{attachment.name}'"))
    for index, arn in enumerate(_listed_items(role.props, "managedPolicyArns")):
        documents.append(_managed_arn_document(arn, stack, f"managed policy {index} of role '{role_name}'"))
    region = _arn_part(read(trail.props, "arn"), 3) or _region(trail)
    group_arn = _arn(group, lambda r, name: f"arn:{PARTITION}:logs:{r}:{ACCOUNT}:log-group:{name}")
    stream = f"{group_arn}:log-stream:{account}_CloudTrail_{region}"
    requests = [Request(action, resource=stream, context={"aws:securetransport": "true"}) for action in LOG_DELIVERY_ACTIONS]
    verdict, action = decide(documents, requests, candidates=_stack_values(stack))
    boundary_ref = read(role.props, "permissionsBoundary")
    if verdict.link is Link.YES and boundary_ref not in (None, ""):
        boundary = _managed_arn_document(boundary_ref, stack, f"the permissions boundary of role '{role_name}'")
        verdict, action = decide([boundary], requests, candidates=_stack_values(stack))
    if verdict.link is Link.YES:
        return []
    if verdict.link is Link.UNDECIDED:
        return [LinkProblem(f"whether role '{role_name}' of trail '{display_name(trail)}' may {action} on log group "
                            f"'{display_name(group)}' cannot be decided: {verdict.reason}", role.urn, False)]
    return [LinkProblem(
        f"role '{role_name}' of trail '{display_name(trail)}' may not write log group '{display_name(group)}': "
        f"{action} on {_shown(stream)}: {verdict.reason}. Allow logs:CreateLogStream and logs:PutLogEvents on "
        f"{_shown(group_arn)}:log-stream:*", role.urn)]


def _listed_items(props: Any, key: str) -> list[Any]:
    items = read_items(props, key)
    return [UNKNOWN] if items is UNKNOWN else items


def _managed_document(holder: PolicyResource, prop: str, stack: StackView, label: str) -> Document:
    policies, state = _referenced(holder, prop, stack.managed_policies, _arn_id)
    if state == "found":
        return parse(f"{label} ('{policies[0].name}')", read(policies[0].props, "policy"))
    if state == "undecided":
        return Document(label, unknown="is unknown at preview")
    shown = _known(read(holder.props, prop)) or "a policy outside this stack"
    return Document(f"{label} ({shown})", unknown="is not a policy of this stack and cannot be checked")


def _managed_arn_document(arn: Any, stack: StackView, label: str) -> Document:
    if arn is UNKNOWN:
        return Document(label, unknown="is unknown at preview")
    found = [p for p in stack.managed_policies if isinstance(arn, str) and arn in _arn_id(p)]
    if found:
        return parse(f"{label} ('{found[0].name}')", read(found[0].props, "policy"))
    return Document(f"{label} ({arn})", unknown="is not a policy of this stack and cannot be checked")


def _log_key_problems(group: PolicyResource, stack: StackView) -> list[LinkProblem]:
    """An encrypted log group's key lets `logs.<region>.amazonaws.com` use it for this group."""
    group_name = display_name(group)
    keys, state = _referenced(group, "kmsKeyId", stack.keys, _key_ids)
    if state == "absent":
        return []
    if state == "undecided":
        return [LinkProblem(f"which KMS key encrypts log group '{group_name}' is unknown at preview", group.urn, False)]
    if state == "outside":
        shown = _known(read(group.props, "kmsKeyId")) or "computed outside this stack"
        return [LinkProblem(
            f"the KMS key {shown} of log group '{group_name}' is not a key of this stack: whether CloudWatch Logs "
            "may use it cannot be checked", group.urn, False, False)]
    key = keys[0]
    group_arn = _arn(group, lambda region, name: f"arn:{PARTITION}:logs:{region}:{ACCOUNT}:log-group:{name}")
    region = _arn_part(group_arn, 3) or _region(group)
    principal = f"logs.{region}.amazonaws.com"
    context = _service_context(principal, **{"kms:EncryptionContext:aws:logs:arn": group_arn})
    requests = [Request(action, principal=principal, context=context) for action in LOG_KEY_ACTIONS]
    verdict, action = decide(_key_documents(key, stack), requests, candidates=_stack_values(stack))
    if verdict.link is Link.YES:
        return []
    if verdict.link is Link.UNDECIDED:
        return [LinkProblem(f"whether KMS key '{key.name}' of log group '{group_name}' lets {_shown(principal)} "
                            f"{action} cannot be decided: {verdict.reason}", key.urn, False)]
    return [LinkProblem(
        f"KMS key '{key.name}' of log group '{group_name}' does not let CloudWatch Logs ({_shown(principal)}) use it "
        f"for this log group, so CloudTrail's events cannot be written: {action}: {verdict.reason}. Allow "
        f"{_shown(principal)} kms:Encrypt*, kms:Decrypt*, kms:GenerateDataKey* with kms:EncryptionContext:aws:logs:arn "
        f"{_shown(group_arn)}", key.urn)]


def _key_documents(key: PolicyResource, stack: StackView) -> list[Document]:
    """The key's policy: its KeyPolicy resources when it has some (they replace it), else its own."""
    attached, unsure = _attached(stack.key_policies, "keyId", key, _key_ids)
    if attached or unsure:
        return _documents_of("key policy", attached, unsure)
    policy = read(key.props, "policy")
    if policy is None or policy == "":
        return [Document(f"the default key policy of KMS key '{key.name}' (only the account's IAM principals)")]
    return [parse(f"the key policy of KMS key '{key.name}'", policy)]


# --------------------------------------------------------------------------- alarm -> topic


def notification_problems(alarm: PolicyResource, stack: StackView, external_arns: Sequence[str]) -> list[LinkProblem]:
    """Why none of the stack topics `alarm` notifies accepts its messages; [] when one does, or
    when an action is an allowed external ARN (not judged here)."""
    actions = read_items(alarm.props, "alarmActions")
    if actions is not UNKNOWN and any(isinstance(a, str) and a in set(external_arns) for a in actions):
        return []
    best: list[LinkProblem] | None = None
    for topic in notified_topics(alarm, stack.topics):
        problems = [*_topic_policy_problems(alarm, topic, stack), *_topic_key_problems(alarm, topic, stack)]
        if not problems:
            return []
        if best is None or _rank(problems) < _rank(best):
            best = problems
    return best or []


def _publish_context(alarm: PolicyResource, topic: PolicyResource) -> dict[str, str]:
    alarm_arn = _arn(alarm, lambda region, name: f"arn:{PARTITION}:cloudwatch:{region}:{ACCOUNT}:alarm:{name}")
    return _service_context("cloudwatch.amazonaws.com", aws__SourceArn=alarm_arn,
                            aws__SourceAccount=_account(topic, alarm))


def _topic_policy_problems(alarm: PolicyResource, topic: PolicyResource, stack: StackView) -> list[LinkProblem]:
    """No topic policy denies CloudWatch `sns:Publish` (an Allow is not needed in the topic's account)."""
    attached, unsure = _attached(stack.topic_policies, "arn", topic, _arn_id)
    documents = _documents_of("topic policy", attached, unsure)
    policy = read(topic.props, "policy")
    if not documents and policy not in (None, ""):
        documents = [parse(f"the policy of SNS topic '{display_name(topic)}'", policy)]
    topic_arn = _arn(topic, lambda region, name: f"arn:{PARTITION}:sns:{region}:{ACCOUNT}:{name}")
    publish = Request("sns:Publish", principal="cloudwatch.amazonaws.com", resource=topic_arn,
                      context=_publish_context(alarm, topic))
    verdict, _ = decide(documents, [publish], allow_needed=False, candidates=_stack_values(stack))
    if verdict.link is Link.YES:
        return []
    urn = attached[0].urn if attached else topic.urn
    if verdict.link is Link.UNDECIDED:
        return [LinkProblem(f"whether SNS topic '{display_name(topic)}' accepts sns:Publish by cloudwatch.amazonaws.com "
                            f"cannot be decided: {verdict.reason}", urn, False)]
    return [LinkProblem(
        f"SNS topic '{display_name(topic)}' refuses CloudWatch alarms: sns:Publish by cloudwatch.amazonaws.com: "
        f"{verdict.reason}. Remove the Deny or exclude cloudwatch.amazonaws.com from it", urn)]


def _topic_key_problems(alarm: PolicyResource, topic: PolicyResource, stack: StackView) -> list[LinkProblem]:
    """An encrypted topic's key lets `cloudwatch.amazonaws.com` generate data keys and decrypt."""
    topic_name = display_name(topic)
    reference = read(topic.props, "kmsMasterKeyId")
    if isinstance(reference, str) and (reference == AWS_MANAGED_SNS_KEY or reference.endswith(":" + AWS_MANAGED_SNS_KEY)):
        return [LinkProblem(
            f"SNS topic '{topic_name}' is encrypted with the AWS-managed key {AWS_MANAGED_SNS_KEY}, whose policy cannot "
            "let cloudwatch.amazonaws.com use it: alarm notifications are dropped. Use a customer-managed key",
            topic.urn)]
    keys, state = _referenced(topic, "kmsMasterKeyId", stack.keys, _key_ids)
    if state not in ("found", "absent"):
        aliases, alias_state = _referenced(topic, "kmsMasterKeyId", stack.aliases, _alias_ids)
        if alias_state == "found":
            keys, state = _referenced(aliases[0], "targetKeyId", stack.keys, _key_ids)
        elif alias_state == "undecided":
            state = "undecided"
    if state == "absent":
        return []
    if state == "undecided":
        return [LinkProblem(f"which KMS key encrypts SNS topic '{topic_name}' is unknown at preview", topic.urn, False)]
    if state == "outside":
        shown = _known(reference) or "computed outside this stack"
        return [LinkProblem(
            f"the KMS key {shown} of SNS topic '{topic_name}' is not a key of this stack: whether "
            "cloudwatch.amazonaws.com may use it cannot be checked", topic.urn, False, False)]
    key = keys[0]
    context = _publish_context(alarm, topic)
    requests = [Request(action, principal="cloudwatch.amazonaws.com", context=context) for action in TOPIC_KEY_ACTIONS]
    verdict, action = decide(_key_documents(key, stack), requests, candidates=_stack_values(stack))
    if verdict.link is Link.YES:
        return []
    if verdict.link is Link.UNDECIDED:
        return [LinkProblem(f"whether KMS key '{key.name}' of SNS topic '{topic_name}' lets cloudwatch.amazonaws.com "
                            f"{action} cannot be decided: {verdict.reason}", key.urn, False)]
    return [LinkProblem(
        f"KMS key '{key.name}' of SNS topic '{topic_name}' does not let cloudwatch.amazonaws.com use it, so alarm "
        f"notifications are dropped: {action}: {verdict.reason}. Allow cloudwatch.amazonaws.com kms:GenerateDataKey* "
        "and kms:Decrypt", key.urn)]
