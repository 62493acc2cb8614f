"""The Ed25519 signing key: load it, or generate it once (file mode 0600), and publish it as a JWKS."""

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    kid: str

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> "SigningKey":
        return cls(private_key, thumbprint(_public_x(private_key)))

    def public_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": _public_x(self.private_key), "kid": self.kid,
                "alg": "EdDSA", "use": "sig"}


def _public_x(private_key: Ed25519PrivateKey) -> str:
    return _b64url(private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def thumbprint(x: str) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key: SHA-256 over the required members, sorted, no spaces."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def jwks(keys: list[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


class KeyFileMissing(FileNotFoundError):
    pass


def load_or_generate(path: Path, *, generate: bool) -> SigningKey:
    """Read the PEM at `path`; if absent and `generate`, create it. Two processes racing both end up with the
    one key that won (written to a temp file, then hard-linked into place, which fails if the file exists)."""
    path = Path(path)
    if not path.exists():
        if not generate:
            raise KeyFileMissing(f"signing key {path} does not exist (AUTH_GENERATE_KEY_IF_MISSING is off)")
        _write_new_key(path)
    private_key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")  # noqa: TRY004 (a bad file, not a bad argument)
    return SigningKey.from_private_key(private_key)


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
    finally:
        tmp.unlink(missing_ok=True)
