"""The badge services in one import, for callers outside the package.

The code lives by sub-capability: issuers (context, issuer profiles, badge sync), awarding,
revocation, rotation, checklist, applications (review badges) and bulk. Reviewing module
evidence is campus.paths.review.
"""

from __future__ import annotations

from campus.badges.applications import accept_application
from campus.badges.applications import apply_for_badge
from campus.badges.applications import latest_application
from campus.badges.applications import pending_applications
from campus.badges.applications import return_application
from campus.badges.awarding import AwardResult
from campus.badges.awarding import active_assertion
from campus.badges.awarding import all_assertions
from campus.badges.awarding import award
from campus.badges.awarding import award_for_path
from campus.badges.awarding import held_assertions
from campus.badges.awarding import held_badge_slugs
from campus.badges.awarding import is_expired
from campus.badges.awarding import path_evidence
from campus.badges.awarding import reissue_to_current_email
from campus.badges.awarding import status_of
from campus.badges.bulk import MAX_BULK_ROWS
from campus.badges.bulk import BulkRow
from campus.badges.bulk import BulkStatus
from campus.badges.bulk import apply_bulk_award
from campus.badges.bulk import parse_bulk_csv
from campus.badges.checklist import ChecklistItem
from campus.badges.checklist import checklist
from campus.badges.issuers import CAMPUS_ISSUER
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import campus_issuer
from campus.badges.issuers import get_badge
from campus.badges.issuers import list_badges
from campus.badges.issuers import organisation_issuer
from campus.badges.issuers import sync_badges
from campus.badges.revocation import find_assertion
from campus.badges.revocation import revoke
from campus.badges.revocation import revoke_many
from campus.badges.revocation import revoked_for_issuer
from campus.badges.rotation import rotate_and_resign

__all__ = [
    "CAMPUS_ISSUER",
    "MAX_BULK_ROWS",
    "AwardResult",
    "BadgeError",
    "BulkRow",
    "BulkStatus",
    "ChecklistItem",
    "IssuingContext",
    "accept_application",
    "active_assertion",
    "all_assertions",
    "apply_bulk_award",
    "apply_for_badge",
    "award",
    "award_for_path",
    "campus_issuer",
    "checklist",
    "find_assertion",
    "get_badge",
    "held_assertions",
    "held_badge_slugs",
    "is_expired",
    "latest_application",
    "list_badges",
    "organisation_issuer",
    "parse_bulk_csv",
    "path_evidence",
    "pending_applications",
    "reissue_to_current_email",
    "return_application",
    "revoke",
    "revoke_many",
    "revoked_for_issuer",
    "rotate_and_resign",
    "status_of",
    "sync_badges",
]
