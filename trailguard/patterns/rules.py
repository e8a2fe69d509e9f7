"""The engine's behaviour where AWS's documentation is silent or contradicts itself.

Each rule is named after its entry in `filter-pattern-spec.md` section 4 (A1..A29) and lives here
only, so that when a rule is verified against AWS's TestMetricFilter it can be flipped in one place
(and the conformance tests that depend on it say which rule they rely on).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Mapping

# --- terms (unstructured patterns) ---
TERM_MATCH_IS_SUBSTRING: Final = True  # A1: "ERROR" matches "ERRORCODE"; case-sensitive
REJECT_UNQUOTED_NON_ALNUM_TERM: Final = True  # A2: `err:` must be written `"err:"`
OPTIONAL_TERMS_IGNORED_WITH_OTHERS: Final = True  # A3/A4: `?a b` == `b`, `?a -b` == `-b`
ALLOW_SPACE_AFTER_EXCLUDE: Final = True  # A5: `"ERROR" - "Exiting"`
QUOTED_ESCAPES: Final = {'"': '"', "\\": "\\"}  # A6: `\"` and `\\` inside "..."
MATCH_ALL_TEXTS: Final = frozenset({"", '""', '" "'})  # A28 (after stripping outer blanks)

# --- space-delimited patterns ---
DELIMITED_EXACT_FIELD_COUNT: Final = True  # A7: without `...` the token count must equal the fields
CONDITION_MAY_NAME_OTHER_FIELD: Final = True  # A8: `status_code = 4* && bytes > 1000` in one slot
MAX_ELLIPSES: Final = 1  # CDK permits one `...`; two would be ambiguous
TRAILING_COMMA_IS_UNNAMED_FIELD: Final = True  # A26: `[..., a, b,]` extracts `$7` in AWS's example

# --- JSON patterns ---
NOT_EQUAL_ON_MISSING_MATCHES: Final = False  # A12: `!=` on a missing field never matches
COMPARE_ARRAY_OR_OBJECT: Final = False  # A13/A14: a selector resolving to an array/object never matches
WILDCARD_SELECTOR_IS_EXISTENTIAL: Final = True  # A15: `[*]`/`.*` one level, some element satisfies
NUMBER_LITERAL_MATCHES_NUMERIC_STRING_EXACTLY: Final = True  # A16: `= 400` also matches "400" by text
STAR_MATCHES_NULL_OR_BOOLEAN: Final = False  # A11: `= *` matches present strings and numbers only
INNER_STAR_IS_LITERAL: Final = True  # A17: `Ev*ent` matches only the text `Ev*ent`
KEYWORDS_CASE_SENSITIVE: Final = True  # A18: `IS NULL`, `NOT EXISTS` upper case only
EQUALS_TRUE_IS_STRING_COMPARE: Final = True  # A19: `= true` never matches a JSON boolean
REGEX_IS_SEARCH: Final = True  # A21: `%Trail%` matches "UpdateTrail"
TEXT_OF_DECODED_EVENT_IS_COMPACT_JSON: Final = True  # term/regex patterns on a decoded event see
# the compact JSON text, which is how CloudTrail writes events to CloudWatch Logs

# --- AWS quotas (documented) ---
MAX_PATTERN_LENGTH: Final = 1024
MAX_REGEX_PER_PATTERN: Final = 2
MAX_WILDCARD_SELECTORS_PER_SELECTOR: Final = 1
MAX_WILDCARD_SELECTORS_PER_PATTERN: Final = 3
MAX_EVENT_BYTES: Final = 256 * 1024  # CloudTrail does not send larger events to CloudWatch Logs

# Characters a `%regex%` may contain besides alphanumerics (A20: `:` allowed; space seen in AWS's
# own `%^shutting down%` example).
REGEX_SYMBOLS: Final = frozenset(":_#=@/;,- ")
REGEX_OPERATORS: Final = frozenset("^$?[]{}|\\*+.")

# CloudTrail fields present in every management event record; `!=` on anything else may be
# comparing against a missing field, which never matches (lint W001).
ALWAYS_PRESENT_CLOUDTRAIL_FIELDS: Final = frozenset({
    "$.eventVersion", "$.userIdentity", "$.userIdentity.type", "$.eventTime", "$.eventSource",
    "$.eventName", "$.awsRegion", "$.sourceIPAddress", "$.userAgent", "$.requestID", "$.eventID",
    "$.eventType", "$.recipientAccountId", "$.eventCategory", "$.managementEvent", "$.readOnly",
})

# Fields CloudTrail writes on every event of one event name. W001 does not fire on `!=` over such a
# field when an `&&` sibling pins `$.eventName` to names that all carry it. Evidence: AWS's sign-in
# event reference (every ConsoleLogin example, success or failure, IAM user, root or federated, has
# `additionalEventData.MFAUsed` and `responseElements.ConsoleLogin`), the real Stratus Red Team
# sign-in in ../shared/data/cloudtrail and the catalogue's ConsoleLogin samples
# (tests/catalog/test_lint_clean.py holds the last two to it).
ALWAYS_PRESENT_BY_EVENT_NAME: Final[Mapping[str, frozenset[str]]] = MappingProxyType({
    "ConsoleLogin": frozenset({"$.additionalEventData.MFAUsed", "$.responseElements.ConsoleLogin"}),
})
