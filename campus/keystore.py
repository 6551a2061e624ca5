"""RSA private keys as files outside the database (mode 600, optionally encrypted).

Shared by Open Badges signing and the LTI platform; only public halves go to the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


class KeyUnavailable(Exception):
    """The private key file is missing or cannot be opened: nothing can be signed."""


def key_file(keys_dir: Path, name: str) -> Path:
    return keys_dir / f"{name}.pem"


def generate(keys_dir: Path, name: str, passphrase: str | None) -> str:
    """Create an RSA-2048 key, write the private half to `<name>.pem`, return the public PEM."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
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


_CACHE: dict[tuple[str, str], RSAPrivateKey] = {}


def load(keys_dir: Path, name: str, passphrase: str | None) -> RSAPrivateKey:
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
    if not isinstance(loaded, RSAPrivateKey):
        raise KeyUnavailable(f"key {name} is not an RSA key")
    _CACHE[cache_key] = loaded
    return loaded
