"""Where SigmaHQ publishes the CloudTrail rules this project knows, so a conversion can link to its
rule (the Detection Rule License 1.1 asks shared rules to keep "a URI or hyperlink to the Rule set or
explicit Rule"). Data: rule id -> file name under `rules/cloud/aws/cloudtrail/` at the commit the
copies in tests/data/sigma/sigmahq/ were taken from (see its README.md)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Mapping

COMMIT: Final = "8eaafff1f2845a696050e05e72ba1140ee190698"
FOLDER: Final = "rules/cloud/aws/cloudtrail"

RULE_FILES: Final[Mapping[str, str]] = MappingProxyType({
    "59b70e4d-dd17-44a9-b740-acf07ae3eb6a": "aws_cloudtrail_bedrock_guardrail_deleted.yml",
    "1c722651-254a-4b04-a9f4-99b62a2d0a1f": "aws_cloudtrail_bedrock_guardrail_updated.yml",
    "39c9f26d-6e3b-4dbb-9c7a-4154b0281112": "aws_cloudtrail_bucket_deleted.yml",
    "6393e346-1977-46ef-8987-ad414a145fad": "aws_cloudtrail_console_login_failed_authentication.yml",
    "77caf516-34e5-4df9-b4db-20744fea0a60": "aws_cloudtrail_console_login_success_without_mfa.yml",
    "4db60cc0-36fb-42b7-9b58-a5b53019fb74": "aws_cloudtrail_disable_logging.yml",
    "e1f7febb-7b94-4234-b5c6-00fb8500f5dd": "aws_cloudtrail_new_acl_entries.yml",
    "c803b2ce-c4a2-4836-beae-b112010390b1": "aws_cloudtrail_new_route_added.yml",
    "a840e606-7c8c-4684-9bc1-eb6b6155127f": "aws_cloudtrail_pua_trufflehog.yml",
    "a5ffb6ea-c784-4e01-b30a-deb6e58ca2ab": "aws_cloudtrail_region_enabled.yml",
    "6fb77778-040f-4015-9440-572aa9b6b580": "aws_cloudtrail_security_group_change_ingress_egress.yml",
    "7a4409fc-f8ca-45f6-8006-127d779eaad9": "aws_cloudtrail_security_group_change_loadbalancer.yml",
    "e386b9b5-af12-450e-afff-761730fb8a98": "aws_cloudtrail_vpc_flow_logs_deleted.yml",
    "07330162-dba1-4746-8121-a9647d49d297": "aws_config_disable_recording.yml",
    "f8103686-e3e8-46f3-be72-65f7fcb4aa53": "aws_console_getsignintoken.yml",
    "20f754db-d025-4a8f-9d74-e0037e999a9a": "aws_delete_identity.yml",
    "a136ac98-b2bc-4189-a14d-f0d0388e57a7": "aws_disable_bucket_versioning.yml",
    "16124c2d-e40b-4fcc-8f2c-5ab7870a2223": "aws_ec2_disable_encryption.yml",
    "92f84194-8d9a-4ee0-8699-c30bfac59780": "aws_ec2_import_key_pair_activity.yml",
    "1ab3c5ed-5baf-417b-bb6b-78ca33f6c3df": "aws_ec2_startup_script_change.yml",
    "54b9a76a-3c71-4673-b4b3-2edb4566ea7b": "aws_ec2_vm_export_failure.yml",
    "25cb1ba1-8a19-4a23-a198-d252664c8cef": "aws_efs_fileshare_modified_or_deleted.yml",
    "33d50d03-20ec-4b74-a74e-1e65a38af1c0": "aws_eks_cluster_created_or_deleted.yml",
    "4ae68615-866f-4304-b24b-ba048dfa5ca7": "aws_elasticache_security_group_created.yml",
    "6e61ee20-ce00-4f8d-8aee-bedd8216f7e3": "aws_guardduty_disruption.yml",
    "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2": "aws_iam_backdoor_users_keys.yml",
    "97fbabf8-8e1b-47a2-b7d5-a418d2b95e3d": "aws_new_lambda_layer_attached.yml",
    "8a63cdd4-6207-414a-85bc-7e032bd3c1a2": "aws_rds_change_master_password.yml",
    "457cc9ac-d8e6-4d1d-8c0e-251d0f11a74c": "aws_rds_dbcluster_actions.yml",
    "c3f265c7-ff03-4056-8ab2-d486227b4599": "aws_rds_public_db_restore.yml",
    "8ad1600d-e9dc-4251-b0ee-a65268f29add": "aws_root_account_usage.yml",
    "3940b5f1-3f46-44aa-b746-ebe615b879e0": "aws_route_53_domain_transferred_lock_disabled.yml",
    "78b3756a-7804-4ef7-8555-7b9024a02e2d": "aws_s3_data_management_tampering.yml",
    "a607e1fe-74bf-4440-a3ec-b059b9103157": "aws_securityhub_finding_evasion.yml",
    "abae8fec-57bd-4f87-aff6-6e3db989843d": "aws_snapshot_backup_exfiltration.yml",
    "d3adb3ef-b7e7-4003-9092-1924c797db35": "aws_sso_idp_change.yml",
    "905d389b-b853-46d0-9d3d-dea0d3a3cd49": "aws_sts_assumerole_misuse.yml",
    "9b1b8e9b-0a5d-4af1-9d2f-4c4b6e7c2c9d": "aws_sts_getcalleridentity_trufflehog.yml",
    "f43f5d2f-3f2a-4cc8-b1af-81fde7dbaf0e": "aws_susp_saml_activity.yml",
    "055fb148-60f8-462d-ad16-26926ce050f1": "aws_update_login_profile.yml",
})


def rule_link(rule_id: str) -> str | None:
    """The SigmaHQ URL of a known rule, pinned to the commit, or None."""
    name = RULE_FILES.get(rule_id)
    return None if name is None else f"https://github.com/SigmaHQ/sigma/blob/{COMMIT}/{FOLDER}/{name}"
