"""Evidence files on disk: type and size limits, and modes that keep them private."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import BinaryIO

from flask_babel import gettext as _

from campus.insert_once import Model
from campus.insert_once import insert_once
from campus.paths.activities import ActivityError


@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class UploadRules:
    """Where evidence files go and which ones are taken: read from the config in one place."""

    directory: Path
    extensions: tuple[str, ...]
    max_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UploadRules:
        return cls(
            Path(config["UPLOAD_DIR"]),
            tuple(config["EVIDENCE_EXTENSIONS"]),
            int(config["EVIDENCE_MAX_BYTES"]),
        )

    @property
    def max_megabytes(self) -> int:
        return self.max_bytes // (1024 * 1024)


def insert_with_upload(model: type[Model], upload_dir: Path, **values: Any) -> Model | None:
    """insert_once for a row that owns an uploaded file (`stored_name`): when the row is not
    stored (an error, or a concurrent twin that got in first), the file goes too."""
    stored_name = values.get("stored_name")
    try:
        row = insert_once(model, **values)
    except BaseException:
        discard_upload(upload_dir, stored_name)
        raise
    if row is None:
        discard_upload(upload_dir, stored_name)
    return row


def insert_with_file(
    model: type[Model],
    file: EvidenceFile | None,
    rules: UploadRules,
    **values: Any,
) -> Model | None:
    """Store the optional file, then insert the row that owns it (see insert_with_upload).

    Module evidence and badge applications both keep a file this way.
    """
    file_name = stored_name = file_size = None
    if file:
        file_name, stored_name, file_size = store_upload(file, rules)
    return insert_with_upload(
        model,
        rules.directory,
        file_name=file_name,
        stored_name=stored_name,
        file_size=file_size,
        **values,
    )


def discard_upload(upload_dir: Path, stored_name: str | None) -> None:
    if stored_name:
        (upload_dir / stored_name).unlink(missing_ok=True)


def store_upload(file: EvidenceFile, rules: UploadRules) -> tuple[str, str, int]:
    """Write the file under a random name; returns (safe original name, stored name, size)."""
    from werkzeug.utils import secure_filename

    name = secure_filename(file.filename) or "evidence"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in rules.extensions:
        raise ActivityError(
            _(
                "Files of this type are not accepted. Allowed: %(types)s",
                types=", ".join(rules.extensions),
            )
        )
    _private_dir(rules.directory)
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    target = rules.directory / stored_name
    size = 0
    try:
        # Evidence is personal: readable by the service account only (0600, whatever the umask).
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := file.stream.read(64 * 1024):
                size += len(chunk)
                if size > rules.max_bytes:
                    raise ActivityError(
                        _(
                            "The file is too large (at most %(megabytes)d MB).",
                            megabytes=rules.max_megabytes,
                        )
                    )
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise ActivityError(_("The file is empty."))
    return name, stored_name, size


def _private_dir(directory: Path) -> None:
    """Create the upload folder as 0700, and tighten one that an earlier version left open."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # not ours to change: the files still are 0600
            directory.chmod(0o700)
