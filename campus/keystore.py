"""Private keys as files outside the database (mode 600, optionally encrypted): RSA for Open
Badges 2.0 and LTI, Ed25519 for Open Badges 3.0 Data Integrity proofs.

Only public halves go to the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


class KeyUnavailable(Exception):
    """The private key file is missing or cannot be opened: nothing can be signed."""


def key_file(keys_dir: Path, name: str) -> Path:
    return keys_dir / f"{name}.pem"


def generate(keys_dir: Path, name: str, passphrase: str | None) -> str:
    """Create an RSA-2048 key, write the private half to `<name>.pem`, return the public PEM."""
    return _store(
        keys_dir, name, passphrase, rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )


def generate_ed25519(keys_dir: Path, name: str, passphrase: str | None) -> str:
    """Create an Ed25519 key, write the private half to `<name>.pem`, return the public PEM."""
    return _store(keys_dir, name, passphrase, Ed25519PrivateKey.generate())


def _store(
    keys_dir: Path, name: str, passphrase: str | None, private: RSAPrivateKey | Ed25519PrivateKey
) -> str:
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_file(keys_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


_CACHE: dict[tuple[str, str], PrivateKeyTypes] = {}


def _load(keys_dir: Path, name: str, passphrase: str | None) -> PrivateKeyTypes:
    cache_key = (str(keys_dir), name)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    try:
        loaded = serialization.load_pem_private_key(
            key_file(keys_dir, name).read_bytes(),
            password=passphrase.encode() if passphrase else None,
        )
    except (OSError, ValueError, TypeError) as error:
        raise KeyUnavailable(f"key {name} cannot be loaded from {keys_dir}") from error
    _CACHE[cache_key] = loaded
    return loaded


def load(keys_dir: Path, name: str, passphrase: str | None) -> RSAPrivateKey:
    loaded = _load(keys_dir, name, passphrase)
    if not isinstance(loaded, RSAPrivateKey):
        raise KeyUnavailable(f"key {name} is not an RSA key")
    return loaded


def load_ed25519(keys_dir: Path, name: str, passphrase: str | None) -> Ed25519PrivateKey:
    loaded = _load(keys_dir, name, passphrase)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyUnavailable(f"key {name} is not an Ed25519 key")
    return loaded
