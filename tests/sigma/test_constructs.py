"""Each Sigma construct, modifier and refusal, on the edge-case rules in tests/data/sigma/edge/ and
on small inline rules: the pattern, the caveats' kinds, or the refusal's kind and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from sigma.rule import SigmaRule

from tests.sigma.rules import EDGE, check_pattern
from trailguard.sigma.convert import convert_paths, convert_rule

EDGE_EXPECTED: dict[str, tuple[str, set[str] | str, str | None]] = {
    # file: (verdict, caveat kinds or refusal kind, pattern)
    "mod_contains.yml": ("caveats", {"case"}, '{ $.userAgent = "*boto3*" }'),
    "mod_startswith.yml": ("exact", set(), '{ $.eventName = "Delete*" }'),
    "mod_endswith.yml": ("exact", set(), '{ $.eventSource = "*.amazonaws.com" }'),
    "mod_all.yml": ("caveats", {"case"},
                    '{ $.eventName = "RunInstances" && $.userAgent = "*aws-cli/*" && $.userAgent = "*md/*" }'),
    "mod_re.yml": ("exact", set(), r'{ $.eventName = %^Delete[A-Z]\w+Policy$% && '
                                   r'$.errorMessage = %denied \x28explicit\x29|not authorized% }'),
    "mod_cased.yml": ("exact", set(), '{ $.userAgent = "Boto3/*" }'),
    "case_fixed_spelling.yml": ("exact", set(), '{ $.eventSource = "cloudtrail.amazonaws.com" && $.awsRegion = "us-*" '
                                '&& $.additionalEventData.MFAUsed = "No" }'),
    "case_event_name.yml": ("caveats", {"case"}, '{ $.eventName = "stoplogging" }'),
    "mod_cidr.yml": ("exact", set(), '{ $.sourceIPAddress = "10.*" || $.sourceIPAddress = "192.168.1.*" || '
                     '$.sourceIPAddress = "172.16.*" || $.sourceIPAddress = "172.17.*" || $.sourceIPAddress = '
                     '"172.18.*" || $.sourceIPAddress = "172.19.*" || $.sourceIPAddress = "203.0.113.7" }'),
    "mod_exists.yml": ("exact", set(), '{ $.eventName = "CreateUser" && $.errorCode = "*" && '
                       '($.userIdentity.invokedBy NOT EXISTS || $.userIdentity.invokedBy IS NULL) }'),
    "mod_gt.yml": ("caveats", {"shape"}, '{ $.eventName = "ListBuckets" && $.requestParameters.maxKeys > 100 && '
                   '$.requestParameters.maxKeys <= 1000 }'),
    "mod_neq.yml": ("exact", set(), '{ $.eventSource = "iam.amazonaws.com" && $.eventName != "GetUser" }'),
    "mod_windash.yml": ("caveats", {"case", "shape"},
                        '{ $.requestParameters.command = "* -enc *" || $.requestParameters.command = "* /enc *" || '
                        '$.requestParameters.command = "* \u2013enc *" || $.requestParameters.command = '
                        '"* \u2014enc *" || $.requestParameters.command = "* \u2015enc *" }'),
    "mod_base64.yml": ("caveats", {"case", "shape"}, '{ $.requestParameters.userData = "*Y3VybCA=*" }'),
    "wildcard_single.yml": ("exact", set(), r'{ $.eventName = %^Delete[\s\S]ucket$% }'),
    "wildcard_inner.yml": ("exact", set(),
                           r'{ $.userAgent = %^[Aa][Ww][Ss]-[Cc][Ll][Ii]/[\s\S]*[Pp][Yy][Tt][Hh][Oo][Nn]/3% }'),
    "wildcard_escaped.yml": ("exact", set(), r'{ $.requestParameters.policyName = %^\x2a[Aa][Dd][Mm][Ii][Nn]\x3f$% }'),
    "cond_one_of.yml": ("exact", set(), '{ ($.eventName = "DeleteTrail" || $.eventName = "StopLogging") && '
                        '$.eventSource = "cloudtrail.amazonaws.com" }'),
    "cond_all_of.yml": ("caveats", {"case"}, '{ $.eventSource = "kms.amazonaws.com" && ($.eventName = "DisableKey" '
                        '|| $.eventName = "ScheduleKeyDeletion") && $.userIdentity.type != "AWSService" && '
                        '$.userAgent != "terraform*" }'),
    "cond_not_and.yml": ("caveats", {"case"}, '{ $.eventName = "ConsoleLogin" && ($.sourceIPAddress != '
                         '"198.51.100.10" || $.userIdentity.userName != "breakglass" || $.userIdentity.userName '
                         'NOT EXISTS) }'),
    "nested_fields.yml": ("caveats", {"case"}, '{ $.userIdentity.sessionContext.attributes.mfaAuthenticated = '
                          '"false" && $.userIdentity.sessionContext.sessionIssuer.userName = "*-admin" }'),
    "null_values.yml": ("exact", set(), '{ $.eventName = "AssumeRole" && ($.errorCode NOT EXISTS || $.errorCode IS '
                        'NULL) && $.userIdentity.invokedBy = "*" }'),
    "boolean_values.yml": ("exact", set(), '{ $.readOnly IS FALSE && $.managementEvent IS TRUE && '
                           '$.eventName != "ConsoleLogin" }'),
    "array_items.yml": ("caveats", {"array", "shape"}, '{ $.eventName = "AuthorizeSecurityGroupIngress" && '
                        '$.requestParameters.ipPermissions.items[*].ipProtocol = "-1" }'),
    "keywords.yml": ("refused", "keywords", None),
    "logsource_other.yml": ("refused", "logsource", None),
    "mod_cidr_ipv6.yml": ("refused", "cidr", None),
    "mod_expand.yml": ("refused", "placeholder", None),
    "mod_fieldref.yml": ("refused", "field-reference", None),
    "mod_re_flag.yml": ("refused", "regex", None),
    "mod_re_group.yml": ("refused", "regex", None),
    "mod_timestamp.yml": ("refused", "modifier", None),
    "negated_number.yml": ("refused", "negated-comparison", None),
    "nested_arrays.yml": ("refused", "nested-arrays", None),
    "non_ascii_wildcard.yml": ("refused", "non-ascii", None),
    "object_negated.yml": ("refused", "whole-object", None),
    "too_long.yml": ("refused", "limit", None),
    "too_many_regex.yml": ("refused", "limit", None),
    "whole_object_exists.yml": ("refused", "whole-object", None),
}

EDGE_CONVERSIONS = {}
for _conversion in convert_paths([EDGE]):
    EDGE_CONVERSIONS.setdefault(Path(_conversion.source).name, []).append(_conversion)


def test_the_table_covers_every_edge_rule():
    assert set(EDGE_CONVERSIONS) == set(EDGE_EXPECTED) | {"correlation.yml"}


@pytest.mark.parametrize("name", sorted(EDGE_EXPECTED))
def test_each_edge_rule(name: str):
    (conversion,) = EDGE_CONVERSIONS[name]
    verdict, detail, pattern = EDGE_EXPECTED[name]
    assert conversion.verdict == verdict, conversion.refusal
    if verdict == "refused":
        assert conversion.refusal_kind == detail and conversion.pattern is None
    else:
        assert {c.kind for c in conversion.caveats} == detail
        assert conversion.pattern == pattern
        check_pattern(conversion)


@pytest.mark.parametrize(("name", "words"), [
    ("keywords.yml", ["'AccessDenied'", "anywhere in the event"]),
    ("logsource_other.yml", ["product: azure", "product: aws, service: cloudtrail"]),
    ("mod_cidr_ipv6.yml", ["2001:db8::/32", "IPv6"]),
    ("mod_expand.yml", ["%admins%", "placeholder"]),
    ("mod_fieldref.yml", ["userIdentity.userName|fieldref", "requestParameters.userName"]),
    ("mod_re_flag.yml", ["ignorecase", "no flags"]),
    ("mod_re_group.yml", ["group", "no parentheses"]),
    ("mod_timestamp.yml", ["eventTime", "timestamp-part"]),
    ("negated_number.yml", ["requestParameters.maxKeys", "numeric comparison"]),
    ("nested_arrays.yml", ["nested arrays", "one wildcard"]),
    ("non_ascii_wildcard.yml", ["'café'", "multi-byte"]),
    ("object_negated.yml", ["requestParameters", "JSON object"]),
    ("too_long.yml", ["1024"]),
    ("too_many_regex.yml", ["3 regular expressions", "at most 2"]),
    ("whole_object_exists.yml", ["responseElements", "no EXISTS"]),
])
def test_each_refusal_says_why(name: str, words: list[str]):
    (conversion,) = EDGE_CONVERSIONS[name]
    for word in words:
        assert word in conversion.refusal


def test_a_correlation_rule_is_refused_and_its_base_rule_converted():
    base, correlation = EDGE_CONVERSIONS["correlation.yml"]
    assert (base.verdict, base.title) == ("caveats", "Many failed console logins")
    assert (correlation.verdict, correlation.refusal_kind) == ("refused", "correlation")
    assert correlation.attribution == "Sigma 00000000-0000-4000-8000-000000000039 by trailguard"


# ---------------------------------------------------------------- inline rules

def rule(detection: str, **meta: str) -> SigmaRule:
    head = "\n".join(f"{k}: {v}" for k, v in {"title": "inline", "id": "11111111-2222-4333-8444-555555555555",
                                               **meta}.items())
    body = "\n".join("    " + line for line in detection.strip("\n").splitlines())
    return SigmaRule.from_yaml(f"{head}\nlogsource:\n    product: aws\n    service: cloudtrail\n"
                               f"detection:\n{body}\n")


def convert(detection: str):
    conversion = convert_rule(rule(detection))
    if conversion.verdict != "refused":
        check_pattern(conversion)
    return conversion


@pytest.mark.parametrize(("detection", "pattern"), [
    # a negated string on a field of unknown type: absent, null and booleans are excluded by nothing
    ("sel:\n    eventName: X\nf:\n    requestParameters.name: a\ncondition: sel and not f",
     '{ $.eventName = "X" && ($.requestParameters.name != "a" || $.requestParameters.name NOT EXISTS || '
     '$.requestParameters.name IS NULL || $.requestParameters.name IS TRUE || $.requestParameters.name IS FALSE) }'),
    # a negated regex on a known optional string
    ("sel:\n    eventName: X\nf:\n    errorCode|re: '^Access'\ncondition: sel and not f",
     '{ $.eventName = "X" && ($.errorCode != %^Access% || $.errorCode NOT EXISTS) }'),
    # a negated cidr list: every prefix fails, or the field is absent (sourceIPAddress never is)
    ("sel:\n    eventName: X\nf:\n    sourceIPAddress|cidr: ['10.0.0.0/8', '192.168.0.0/16']\n"
     "condition: sel and not f",
     '{ $.eventName = "X" && $.sourceIPAddress != "10.*" && $.sourceIPAddress != "192.168.*" }'),
    # not null on a field of unknown type: present and not null
    ("sel:\n    eventName: X\nf:\n    requestParameters.name: null\ncondition: sel and not f",
     '{ $.eventName = "X" && ($.requestParameters.name = "*" || $.requestParameters.name IS TRUE || '
     '$.requestParameters.name IS FALSE) }'),
    # exists: false under not: the field holds a value (null is no value, as for `null`)
    ("sel:\n    eventName: X\nf:\n    requestParameters.name|exists: false\ncondition: sel and not f",
     '{ $.eventName = "X" && ($.requestParameters.name = "*" || $.requestParameters.name IS TRUE || '
     '$.requestParameters.name IS FALSE) }'),
    # a negated boolean on a known boolean
    ("sel:\n    eventName: X\nf:\n    readOnly: true\ncondition: sel and not f",
     '{ $.eventName = "X" && ($.readOnly IS FALSE || $.readOnly NOT EXISTS) }'),
    # a number, and a negated number
    ("sel:\n    requestParameters.port: 22\ncondition: sel", '{ $.requestParameters.port = 22 }'),
    ("sel:\n    eventName: X\nf:\n    requestParameters.port: 22\ncondition: sel and not f",
     '{ $.eventName = "X" && ($.requestParameters.port != 22 || $.requestParameters.port NOT EXISTS || '
     '$.requestParameters.port IS NULL || $.requestParameters.port IS TRUE || $.requestParameters.port IS FALSE) }'),
    # `not` over `or` and `all of them`
    ("a:\n    eventName: A\nb:\n    eventName: B\ncondition: not (a or b)",
     '{ $.eventName != "A" && $.eventName != "B" }'),
    ("a:\n    eventSource: s3.amazonaws.com\nb:\n    eventName: B\ncondition: all of them",
     '{ $.eventSource = "s3.amazonaws.com" && $.eventName = "B" }'),
    # a list of maps is an `or` of `and`s
    ("sel:\n    - eventName: A\n      eventSource: a.amazonaws.com\n    - eventName: B\ncondition: sel",
     '{ ($.eventName = "A" && $.eventSource = "a.amazonaws.com") || $.eventName = "B" }'),
    # a field name the selector grammar cannot write bare
    ("sel:\n    requestParameters.x:y: v\ncondition: sel", '{ $.requestParameters.[\'x:y\'] = "v" }'),
    # an empty string, and a value with quotes and backslashes
    ("sel:\n    errorCode: ''\ncondition: sel", '{ $.errorCode = "" }'),
    ("sel:\n    eventName: 'a\"b\\\\c'\ncondition: sel", '{ $.eventName = "a\\"b\\\\c" }'),
    # the encodings: UTF-16 text has NULs, written \x00 in a regex; base64offset's three variants
    ("sel:\n    userAgent|wide|contains: 'ab'\ncondition: sel", r'{ $.userAgent = %[Aa]\x00[Bb]\x00% }'),
    ("sel:\n    userAgent|utf16be|cased|contains: 'ab'\ncondition: sel", r'{ $.userAgent = %\x00a\x00b% }'),
    ("sel:\n    userAgent|base64offset|contains: 'curl'\ncondition: sel",
     '{ $.userAgent = "*Y3Vyb*" || $.userAgent = "*N1cm*" || $.userAgent = "*jdXJs*" }'),
    ("sel:\n    requestParameters.n|lt: 5\n    requestParameters.m|gte: 5.5\ncondition: sel",
     '{ $.requestParameters.n < 5 && $.requestParameters.m >= 5.5 }'),
    # `*` inside a value with a literal star next to it: a regex keeps the star literal
    ("sel:\n    eventName: 'a\\**'\ncondition: sel", r'{ $.eventName = %^a\x2a% }'),
])
def test_inline_constructs(detection: str, pattern: str):
    conversion = convert(detection)
    assert conversion.pattern == pattern


@pytest.mark.parametrize(("detection", "kind"), [
    ("sel:\n    userAgent|re: '\\bkali'\ncondition: sel", "regex"),
    ("sel:\n    userAgent|re|m: '^kali'\ncondition: sel", "regex"),
    ("sel:\n    userAgent|re: 'kal(i|e)'\ncondition: sel", "regex"),
    ("sel:\n    userIdentity: x\ncondition: sel", "whole-object"),
    ("sel:\n    resources|contains: 'arn'\ncondition: sel", "whole-object"),
    ("sel:\n    requestParameters.a..b: x\ncondition: sel", "field-name"),
    ("sel:\n    \"requestParameters.it's\": x\ncondition: sel", "field-name"),
])
def test_inline_refusals(detection: str, kind: str):
    conversion = convert(detection)
    assert (conversion.verdict, conversion.refusal_kind) == ("refused", kind), conversion.refusal


def test_case_caveat_says_which_way_the_pattern_errs():
    positive = convert("sel:\n    userAgent: Boto3\ncondition: sel").caveats[0].message
    negative = convert("sel:\n    eventName: X\nf:\n    userAgent: Boto3\ncondition: sel and not f").caveats[0].message
    assert "matches the rule but not the pattern" in positive
    assert "excluded by the rule but not by the pattern" in negative


def test_fixed_case_fields_need_no_case_caveat():
    for field in ("eventName", "eventSource", "eventType", "userIdentity.type", "errorCode", "awsRegion"):
        conversion = convert(f"sel:\n    {field}: SomeValue\ncondition: sel")
        assert conversion.verdict == "exact", field


def test_a_regex_on_a_caller_field_folds_case_and_needs_no_caveat():
    conversion = convert("sel:\n    userAgent: 'kali*linux?'\ncondition: sel")
    assert conversion.verdict == "exact"
    assert conversion.pattern == r'{ $.userAgent = %^[Kk][Aa][Ll][Ii][\s\S]*[Ll][Ii][Nn][Uu][Xx][\s\S]$% }'


def test_cased_regex_fallback_keeps_case():
    conversion = convert("sel:\n    userAgent|cased: 'Kali*Linux?'\ncondition: sel")
    assert conversion.pattern == r'{ $.userAgent = %^Kali[\s\S]*Linux[\s\S]$% }'


def test_link_falls_back_to_the_first_reference_and_attribution_to_the_author():
    conversion = convert_rule(rule("sel:\n    eventName: X\ncondition: sel", author="Jane Doe",
                                   references="\n    - https://example.org/a\n    - https://example.org/b"))
    assert conversion.link == "https://example.org/a"
    assert conversion.attribution == "Sigma 11111111-2222-4333-8444-555555555555 by Jane Doe"
    assert convert_rule(rule("sel:\n    eventName: X\ncondition: sel")).link == ""


def test_fields_read_lists_every_field_once_in_order_with_fieldref_targets():
    from trailguard.sigma.convert import fields_read

    read = fields_read(rule("sel:\n    eventSource: a\n    eventName|startswith: B\n"
                            "f:\n    - userIdentity.arn|fieldref: requestParameters.userName\n    - eventName: C\n"
                            "condition: sel and not f"))
    assert read == ("eventSource", "eventName", "userIdentity.arn", "requestParameters.userName")
    assert fields_read(rule("kw:\n    - AccessDenied\ncondition: kw")) == ()


def test_numbers_and_numeric_text_carry_a_shape_caveat_where_the_type_is_unknown():
    (caveat,) = convert("sel:\n    requestParameters.port: 22\ncondition: sel").caveats
    assert (caveat.kind, caveat.field) == ("shape", "requestParameters.port") and '"22"' in caveat.message
    (caveat,) = convert("sel:\n    requestParameters.port|cased: '22'\ncondition: sel").caveats
    assert caveat.kind == "shape" and "JSON number 22" in caveat.message
    assert convert("sel:\n    recipientAccountId: '111122223333'\ncondition: sel").verdict == "exact"
