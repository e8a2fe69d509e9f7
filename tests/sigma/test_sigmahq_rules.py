"""Every one of the 40 SigmaHQ CloudTrail rules gets the verdict argued for here, and every pattern
is one the engine accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sigma.rules import SIGMAHQ, check_pattern
from trailguard.sigma.convert import convert_paths

# file -> (verdict, caveat kinds or the refusal kind). Why:
# - exact: only fields AWS writes in one spelling (eventName, eventSource, eventType, errorCode,
#   userIdentity.type, the issuer's type), with values, lists, null and not that have exact forms;
# - case: a caller-chosen field compared as a string (userAgent, errorMessage, userIdentity.arn,
#   requestParameters.attribute), or MFAUsed: 'NO' where AWS writes 'No';
# - shape: '*' on a field of unknown type (layers is a list, masterUserPassword a string in practice);
# - boolean: publiclyAccessible: 'true' (RDS writes a JSON boolean: neither side matches it);
# - literal-field-name: the backdoor-keys rule's value names a field but is compared literally;
# - refused: |fieldref, and substrings over the whole requestParameters/responseElements objects.
EXACT = ("exact", set())
EXPECTED: dict[str, tuple[str, set[str] | str]] = {
    "aws_cloudtrail_bedrock_guardrail_deleted.yml": EXACT,
    "aws_cloudtrail_bedrock_guardrail_updated.yml": EXACT,
    "aws_cloudtrail_bucket_deleted.yml": EXACT,
    "aws_cloudtrail_console_login_failed_authentication.yml": ("caveats", {"case"}),
    "aws_cloudtrail_console_login_success_without_mfa.yml": ("exact", set()),
    "aws_cloudtrail_disable_logging.yml": EXACT,
    "aws_cloudtrail_new_acl_entries.yml": EXACT,
    "aws_cloudtrail_new_route_added.yml": EXACT,
    "aws_cloudtrail_pua_trufflehog.yml": ("caveats", {"case"}),
    "aws_cloudtrail_region_enabled.yml": EXACT,
    "aws_cloudtrail_security_group_change_ingress_egress.yml": EXACT,
    "aws_cloudtrail_security_group_change_loadbalancer.yml": EXACT,
    "aws_cloudtrail_vpc_flow_logs_deleted.yml": EXACT,
    "aws_config_disable_recording.yml": EXACT,
    "aws_console_getsignintoken.yml": ("caveats", {"case"}),
    "aws_delete_identity.yml": EXACT,
    "aws_disable_bucket_versioning.yml": ("refused", "whole-object"),
    "aws_ec2_disable_encryption.yml": EXACT,
    "aws_ec2_import_key_pair_activity.yml": EXACT,
    "aws_ec2_startup_script_change.yml": ("caveats", {"case"}),
    "aws_ec2_vm_export_failure.yml": ("refused", "whole-object"),
    "aws_efs_fileshare_modified_or_deleted.yml": EXACT,
    "aws_eks_cluster_created_or_deleted.yml": EXACT,
    "aws_elasticache_security_group_created.yml": EXACT,
    "aws_guardduty_disruption.yml": EXACT,
    "aws_iam_backdoor_users_keys.yml": ("caveats", {"case", "literal-field-name"}),
    "aws_new_lambda_layer_attached.yml": ("caveats", {"shape"}),
    "aws_rds_change_master_password.yml": ("caveats", {"shape"}),
    "aws_rds_dbcluster_actions.yml": EXACT,
    "aws_rds_public_db_restore.yml": ("caveats", {"boolean"}),
    "aws_root_account_usage.yml": EXACT,
    "aws_route_53_domain_transferred_lock_disabled.yml": EXACT,
    "aws_s3_data_management_tampering.yml": EXACT,
    "aws_securityhub_finding_evasion.yml": EXACT,
    "aws_snapshot_backup_exfiltration.yml": EXACT,
    "aws_sso_idp_change.yml": EXACT,
    "aws_sts_assumerole_misuse.yml": EXACT,
    "aws_sts_getcalleridentity_trufflehog.yml": ("caveats", {"case"}),
    "aws_susp_saml_activity.yml": EXACT,
    "aws_update_login_profile.yml": ("refused", "field-reference"),
}

CONVERSIONS = {Path(c.source).name: c for c in convert_paths([SIGMAHQ])}


def test_the_table_covers_every_rule_file():
    assert set(CONVERSIONS) == set(EXPECTED) and len(EXPECTED) == 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_rule_gets_its_verdict(name: str):
    conversion = CONVERSIONS[name]
    verdict, detail = EXPECTED[name]
    assert conversion.verdict == verdict
    if verdict == "refused":
        assert conversion.pattern is None and conversion.caveats == ()
        assert conversion.refusal_kind == detail
    else:
        assert {c.kind for c in conversion.caveats} == detail
        check_pattern(conversion)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_conversion_keeps_the_author_and_links_the_rule(name: str):
    conversion = CONVERSIONS[name]
    assert conversion.author and conversion.attribution == f"Sigma {conversion.rule_id} by {conversion.author}"
    assert conversion.link.endswith(f"/rules/cloud/aws/cloudtrail/{name}")
    assert conversion.link.startswith("https://github.com/SigmaHQ/sigma/blob/")


def test_patterns_of_rules_worth_reading_in_full():
    assert CONVERSIONS["aws_root_account_usage.yml"].pattern == (
        '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }')
    assert CONVERSIONS["aws_cloudtrail_bucket_deleted.yml"].pattern == (
        '{ $.eventName = "DeleteBucket" && ($.errorCode = "Success" || $.errorCode NOT EXISTS || '
        '$.errorCode IS NULL) }')
    assert CONVERSIONS["aws_susp_saml_activity.yml"].pattern == (
        '{ ($.eventSource = "sts.amazonaws.com" && $.eventName = "AssumeRoleWithSAML") || '
        '($.eventSource = "iam.amazonaws.com" && $.eventName = "UpdateSAMLProvider") }')
    assert CONVERSIONS["aws_iam_backdoor_users_keys.yml"].pattern == (
        '{ $.eventSource = "iam.amazonaws.com" && $.eventName = "CreateAccessKey" && '
        '($.userIdentity.arn != "*responseElements.accessKey.userName*" || $.userIdentity.arn NOT EXISTS) }')


def test_the_mfa_rule_is_written_as_aws_spells_the_value():
    """The rule writes `MFAUsed: 'NO'`; AWS writes only `Yes` or `No`, and Sigma matches either case,
    so the pattern uses AWS's spelling: as written, the alarm would never fire on a real sign-in."""
    conversion = CONVERSIONS["aws_cloudtrail_console_login_success_without_mfa.yml"]
    assert '$.additionalEventData.MFAUsed = "No"' in conversion.pattern and '"NO"' not in conversion.pattern
    assert conversion.verdict == "exact" and conversion.caveats == ()


def test_metadata_comes_from_the_rule():
    c = CONVERSIONS["aws_cloudtrail_disable_logging.yml"]
    assert (c.rule_id, c.title, c.level, c.status) == (
        "4db60cc0-36fb-42b7-9b58-a5b53019fb74", "AWS CloudTrail Important Change", "medium", "test")
    assert c.author == "vitaliy0x1" and c.falsepositives == ("Valid change in a Trail",)
    assert c.references and all(r.startswith("https://") for r in c.references)
    assert c.description.startswith("Detects disabling, deleting and updating of a Trail")


def test_the_copies_are_the_shared_rules_unmodified():
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sigma" / "aws-cloudtrail"
    if not shared.is_dir():  # the quick-start runs without ../shared; the copies are what count then
        assert len(list(SIGMAHQ.glob("*.yml"))) == 40
        return
    for rule in shared.glob("*.yml"):
        assert (SIGMAHQ / rule.name).read_bytes() == rule.read_bytes()
    assert (SIGMAHQ / "LICENSE.Detection.Rules.md").read_bytes() == (
        shared.parent / "LICENSE.Detection.Rules.md").read_bytes()
