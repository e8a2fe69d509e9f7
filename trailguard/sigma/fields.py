"""What the converter knows about CloudTrail's fields: who decides a value's spelling, and what
shape AWS writes there.

Sigma compares strings case-insensitively and, in its database backends, against the text of
whatever a field holds; a filter pattern compares case-sensitively and only strings and numbers.
Whether that difference can change a match depends on the field, so the converter asks these
tables. Data only; the evidence is CloudTrail's record-contents reference
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and the events under ../shared/data/cloudtrail. A field not listed here is of unknown shape and
caller-controlled case, the cautious default.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Mapping

ALWAYS_PRESENT_STRINGS: Final = frozenset({
    "eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
    "eventID", "eventType", "recipientAccountId", "eventCategory", "userIdentity.type",
})
"""Strings every management event record carries: a negated match needs no `NOT EXISTS` branch. The
engine's `rules.ALWAYS_PRESENT_CLOUDTRAIL_FIELDS` without its objects and booleans, and without
`requestID`, which console sign-in events lack (tests/sigma/test_fields.py checks the samples)."""

OPTIONAL_STRINGS: Final = frozenset({
    "errorCode", "errorMessage", "requestID", "apiVersion", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
    "sessionCredentialFromConsole",
    "userIdentity.principalId", "userIdentity.arn", "userIdentity.accountId", "userIdentity.accessKeyId",
    "userIdentity.userName", "userIdentity.invokedBy", "userIdentity.identityProvider",
    "userIdentity.credentialId",
    "userIdentity.sessionContext.sourceIdentity", "userIdentity.sessionContext.ec2RoleDelivery",
    "userIdentity.sessionContext.attributes.mfaAuthenticated",
    "userIdentity.sessionContext.attributes.creationDate",
    "userIdentity.sessionContext.sessionIssuer.type", "userIdentity.sessionContext.sessionIssuer.principalId",
    "userIdentity.sessionContext.sessionIssuer.arn", "userIdentity.sessionContext.sessionIssuer.accountId",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "tlsDetails.tlsVersion", "tlsDetails.cipherSuite", "tlsDetails.clientProvidedHostHeader",
    "additionalEventData.MFAUsed", "responseElements.ConsoleLogin",
})
"""Strings when present (AWS never writes null, a boolean, an object or an array there)."""

BOOLEANS: Final = frozenset({"readOnly", "managementEvent"})
"""JSON booleans."""

OBJECTS: Final = frozenset({
    "userIdentity", "userIdentity.sessionContext", "userIdentity.sessionContext.attributes",
    "userIdentity.sessionContext.sessionIssuer", "userIdentity.sessionContext.webIdFederationData",
    "userIdentity.onBehalfOf", "userIdentity.inScopeOf",
    "requestParameters", "responseElements", "additionalEventData", "serviceEventDetails", "tlsDetails",
    "insightDetails", "edgeDeviceDetails", "addendum", "resources",
})
"""Objects (and `resources`, an array): Sigma's database backends search their JSON text, which no
filter pattern can read; `null` and `exists` tests still work on them."""

FIXED_CASE: Final = frozenset({
    "eventVersion", "eventSource", "eventName", "eventType", "eventCategory", "awsRegion", "errorCode",
    "recipientAccountId", "apiVersion", "vpcEndpointId", "vpcEndpointAccountId", "sessionCredentialFromConsole",
    "userIdentity.type", "userIdentity.accountId", "userIdentity.invokedBy", "userIdentity.accessKeyId",
    "userIdentity.sessionContext.sessionIssuer.type", "userIdentity.sessionContext.sessionIssuer.accountId",
    "userIdentity.sessionContext.sessionIssuer.principalId",
    "userIdentity.sessionContext.attributes.mfaAuthenticated", "userIdentity.sessionContext.ec2RoleDelivery",
    "tlsDetails.tlsVersion", "tlsDetails.cipherSuite",
    "additionalEventData.MFAUsed", "responseElements.ConsoleLogin",
})
"""Fields whose values AWS writes in one fixed spelling (API names, service names, enumerations,
ids): a rule that writes the value as AWS does matches the same events case-sensitively, so the
case difference between Sigma and filter patterns is harmless there. Everything else (`userAgent`,
`errorMessage`, names inside ARNs, `userIdentity.principalId` with its role session name,
`requestParameters.*`, ...) is chosen or echoed by the caller."""

AWS_SPELLINGS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "additionalEventData.MFAUsed": ("Yes", "No"),
    "responseElements.ConsoleLogin": ("Success", "Failure"),
    "userIdentity.type": ("Root", "IAMUser", "AssumedRole", "Role", "FederatedUser", "Directory", "AWSAccount",
                          "AWSService", "IdentityCenterUser", "Unknown", "SAMLUser", "WebIdentityUser"),
    "userIdentity.sessionContext.sessionIssuer.type": ("Root", "IAMUser", "Role"),
    "userIdentity.sessionContext.attributes.mfaAuthenticated": ("true", "false"),
    "eventType": ("AwsApiCall", "AwsServiceEvent", "AwsConsoleAction", "AwsConsoleSignIn", "AwsCloudTrailInsight",
                  "AwsVpceEvent"),
    "eventCategory": ("Management", "Data", "Insight", "NetworkActivity"),
})
"""The complete set of values AWS writes for some fixed-case fields: a rule value that equals one of
them only case-insensitively (`MFAUsed: 'NO'`) matches real events in Sigma but never in a
case-sensitive pattern, so the conversion writes AWS's spelling instead."""

LOWER_CASE: Final = frozenset({"eventSource", "awsRegion", "vpcEndpointId"})
"""Fixed-case fields AWS writes in lower case only (service endpoints `iam.amazonaws.com`, Region
codes, endpoint ids): a rule's value is compared in lower case, as Sigma's any-case match would
find it."""

CAPITALIZED: Final = frozenset({"eventName"})
"""Fixed-case fields AWS writes with a capital first letter (API names, `StopLogging`): a rule value
(or `|startswith` prefix) that starts in lower case can only match in Sigma's any-case reading,
and the conversion says so."""


def is_scalar(field: str) -> bool:
    """AWS writes a string (or nothing) here, never an object, array, boolean or null."""
    return field in ALWAYS_PRESENT_STRINGS or field in OPTIONAL_STRINGS


def always_present(field: str) -> bool:
    return field in ALWAYS_PRESENT_STRINGS


def is_object(field: str) -> bool:
    return field in OBJECTS


def fixed_case(field: str) -> bool:
    return field in FIXED_CASE


def looks_like_field_name(text: str) -> bool:
    """Whether a rule's literal value names a CloudTrail field (`responseElements.accessKey.userName`):
    without `|fieldref` Sigma compares with that text, which is rarely what the author meant."""
    head = text.split(".", 1)[0]
    return "." in text and " " not in text and (head in OBJECTS or head in BOOLEANS or is_scalar(head))
