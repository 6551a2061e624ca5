"""Events other capabilities subscribe to (badges follow path_completed, LTI passes scores back).

Receivers run inside the sending request's transaction and may only enqueue outbox items
(campus.outbox.services.enqueue): the follow-up itself runs after that transaction commits, so a
failing follow-up never undoes the learner's work. Receivers return nothing; senders ignore it.
"""

from __future__ import annotations

from blinker import Namespace

campus_signals = Namespace()
module_completed = campus_signals.signal("module-completed")
path_completed = campus_signals.signal("path-completed")

# Sent with the record as `sender`, inside the transaction that changed it; notifications
# (campus.notifications) turn them into messages through the outbox.
badge_awarded = campus_signals.signal("badge-awarded")  # sender: the new Assertion
badge_revoked = campus_signals.signal("badge-revoked")  # sender: the revoked Assertion
# sender: EvidenceSubmission or BadgeApplication; kwargs: accepted (bool)
evidence_reviewed = campus_signals.signal("evidence-reviewed")
evidence_submitted = campus_signals.signal("evidence-submitted")  # same senders, new and waiting
# sender: the OutboxItem that gave up after its last retry; admins are notified (notifications)
outbox_item_failed = campus_signals.signal("outbox-item-failed")
