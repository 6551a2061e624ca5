"""Multibase base58btc ("z…") and Ed25519 Multikey encoding, written out rather than a dependency:
the whole of it is the Bitcoin alphabet and two multicodec bytes."""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}
_CHUNK = 58**10
_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]  # 58 * 58 = 3364
BASE58BTC = "z"
# multicodec ed25519-pub (0xed) as an unsigned varint
ED25519_PUB = b"\xed\x01"


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    pairs = []
    while number:  # ten digits a step, two at a time from a table: divisions are the cost
        number, chunk = divmod(number, _CHUNK)
        for _ in range(5):
            chunk, pair = divmod(chunk, 3364)
            pairs.append(_PAIRS[pair])
    return "1" * zeros + "".join(reversed(pairs)).lstrip("1")


def b58decode(text: str) -> bytes:
    """Raises ValueError on a character outside the alphabet."""
    zeros = len(text) - len(text.lstrip("1"))
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError(f"not base58btc: {char!r}")
        number = number * 58 + _INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode(data: bytes) -> str:
    return BASE58BTC + b58encode(data)


def decode(text: str) -> bytes:
    if not text.startswith(BASE58BTC):
        raise ValueError("only base58btc multibase ('z…') is supported")
    return b58decode(text[1:])


def ed25519_multikey(public: bytes) -> str:
    """`publicKeyMultibase` of an Ed25519 key: "z6Mk…" (multicodec header + 32 raw bytes)."""
    return encode(ED25519_PUB + public)


def ed25519_from_multikey(text: str) -> bytes:
    raw = decode(text)
    if not raw.startswith(ED25519_PUB) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return raw[2:]
