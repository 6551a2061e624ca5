"""Module kinds: a registry of classes, one per kind (in the spirit of CTFd's challenge types).

A kind owns everything that differs between modules: the keys its `module.toml` may use and
their checks, what its part of the module page shows, the form it posts to the one submit
route, how a submission is judged, and what it adds to a path badge's evidence. A new kind is a
subclass of `ModuleKindType` passed to `register`; nothing else in the campus names it.

The kind's key is what `module.toml` says (`kind = "quiz"`) and what `Module.kind` stores.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from flask import render_template
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from campus.paths.activities import ActivityError
from campus.paths.forms import ActionForm
from campus.paths.manifest import ManifestReader

if TYPE_CHECKING:
    from campus.auth.models import User
    from campus.paths.models import Module
    from campus.paths.services import CompletionResult

__all__ = [
    "ActivityError",
    "FieldError",
    "ModuleKind",
    "ModuleKindType",
    "Submission",
    "SubmitResult",
    "all_kinds",
    "attach_error",
    "badge_evidence",
    "get",
    "register",
    "unregister",
]


class FieldError(ActivityError):
    """An ActivityError about one field of the kind's form: shown next to that field."""

    def __init__(self, message: str, field_name: str) -> None:
        super().__init__(message)
        self.field_name = field_name


def attach_error(form: FlaskForm | None, error: ActivityError) -> bool:
    """Show a FieldError beside its field of `form`; False when it belongs to no field (the
    activity box shows it above the form)."""
    name = getattr(error, "field_name", None)
    field_ = form[name] if form is not None and name and name in form else None
    if field_ is None:
        return False
    if str(error) not in field_.errors:
        field_.errors = [*field_.errors, str(error)]
    return True


@dataclass(frozen=True)
class Submission:
    """One post to a module's submit route, as the kind's `submit` receives it."""

    form: FlaskForm  # the kind's form, already validated (CSRF included)
    data: MultiDict[str, str]  # every posted field: a quiz's questions come from its content
    now: datetime
    config: Mapping[str, Any]  # the app's configuration (upload folder, limits …)


@dataclass
class SubmitResult:
    """What the submit route tells the learner, and where on the page it sends them back."""

    completion: CompletionResult | None = None
    messages: list[tuple[str, str]] = field(default_factory=list)  # (text, flash category)
    anchor: str = ""


class ModuleKindType:
    """The behaviour of one module kind. Subclass it, set `key` and `label`, then `register`.

    Every hook has a default, so the smallest kind sets `key`, `label` and `submit`.
    """

    key: ClassVar[str]
    label: ClassVar[Any]  # lazy_gettext text: shown as the module's kind
    settings_keys: ClassVar[frozenset[str]] = frozenset()
    form: ClassVar[type[FlaskForm]] = ActionForm
    # False for a kind completed elsewhere (an LTI tool's score): its submit route is a 404.
    takes_submissions: ClassVar[bool] = True
    # True when the partial shows `activity_error` (why a submission was refused) above its form;
    # otherwise the page shows it as a flashed message.
    shows_own_errors: ClassVar[bool] = False

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        """Check the kind's own keys of a `module.toml` (problems go to the reader, with their
        lines) and return what `Module.settings` stores."""
        return {}

    @classmethod
    def template(cls) -> str:
        """The partial shown in the module page's activity box."""
        return f"paths/kinds/{cls.key}.html"

    @classmethod
    def page_context(
        cls, module: Module, user: User, form: FlaskForm | None = None
    ) -> dict[str, Any]:
        """What the partial needs besides the page's own context; `form` is a refused one to show
        again with its errors."""
        return {"form": form or cls.form()}

    @classmethod
    def render(cls, context: dict[str, Any]) -> Markup:
        """The activity box. A kind whose markup lives elsewhere than the templates folder
        overrides this."""
        return Markup(render_template(cls.template(), **context))

    @classmethod
    def submit(cls, user: User, module: Module, submission: Submission) -> SubmitResult:
        """Judge a submission; raise ActivityError for anything the learner can correct."""
        raise NotImplementedError

    @classmethod
    def badge_evidence(cls, user: User, module: Module) -> list[dict[str, Any]]:
        """Open Badges evidence items this module adds to its path's badge."""
        return []


_KINDS: dict[str, type[ModuleKindType]] = {}


def register(kind_cls: type[ModuleKindType]) -> type[ModuleKindType]:
    """Add a kind (usable as a class decorator). A key is registered once."""
    key = kind_cls.key
    if key in _KINDS and _KINDS[key] is not kind_cls:
        raise ValueError(f"module kind {key!r} is already registered")
    if len(key) > 16 or not key.isascii() or not key.replace("_", "").isalnum():
        raise ValueError(f"module kind key {key!r}: at most 16 letters, digits or _")
    _KINDS[key] = kind_cls
    return kind_cls


def unregister(key: str) -> None:
    _KINDS.pop(key, None)


def get(key: str) -> type[ModuleKindType] | None:
    """The kind stored as `key`, or None when no registered kind has that key."""
    return _KINDS.get(key)


def all_kinds() -> list[type[ModuleKindType]]:
    return list(_KINDS.values())


def badge_evidence(user: User, modules: Iterable[Module]) -> list[dict[str, Any]]:
    """Every module's badge evidence for `user`, in the order of `modules`."""
    items: list[dict[str, Any]] = []
    for module in modules:
        kind = get(module.kind)
        if kind is not None:
            items.extend(kind.badge_evidence(user, module))
    return items


# The built-in kinds are the modules of this package: each registers itself when imported, so a
# new one is a module here and its partial, and nothing else.
for _found in sorted(pkgutil.iter_modules(__path__), key=lambda found: found.name):
    importlib.import_module(f"{__name__}.{_found.name}")

# The built-in keys as an enum, for code that names one of them (`ModuleKind.EVIDENCE`). Kinds
# registered later (plugins, tests) are not in it: compare with `kind.key` instead.
ModuleKind = enum.StrEnum(  # type: ignore[misc]
    "ModuleKind", [(kind.key.upper(), kind.key) for kind in all_kinds()]
)
