"""The error every activity raises for input the learner can correct (pure: no Flask, no database).

The rules of each module kind live with the kind, in campus/paths/kinds/.
"""

from __future__ import annotations


class ActivityError(Exception):
    """A submission the learner can correct; the message is shown to them."""
