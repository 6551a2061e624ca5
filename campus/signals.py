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
