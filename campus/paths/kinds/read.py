"""`read`: the learner reads the material and marks the module as done."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from campus.auth.models import User
from campus.paths import kinds
from campus.paths import services
from campus.paths.models import CompletionSource
from campus.paths.models import Module


def mark_read(user: User, module: Module, now: datetime) -> services.CompletionResult:
    return services.complete_module(user, module, CompletionSource.SELF, now)


@kinds.register
class Read(kinds.ModuleKindType):
    key = "read"
    label = _l("Reading")

    @classmethod
    def submit(cls, user: User, module: Module, submission: kinds.Submission) -> kinds.SubmitResult:
        return kinds.SubmitResult(completion=mark_read(user, module, submission.now))
