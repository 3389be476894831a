"""The organisation's evidence-pack signing key: an Ed25519 key pair.

Why Ed25519 and not an HMAC: an HMAC is checked with the same secret that makes it, so an auditor able to check a
pack would also hold what forges one (and the organisation would have to hand its secret out). With Ed25519 the
organisation signs with a private key that never leaves its server, and the auditor checks with the public key,
which can forge nothing; they compare its fingerprint with the one the organisation publishes (the public page
portal:pack_key and the packs page). Ed25519 signatures are small, deterministic, and can be checked by a short
standard-library script (tools/verify_pack.py) on a machine with nothing installed.

The private key is read from EVIDENCE_PACK_KEY_FILE (a PEM file, PKCS#8) when that setting is given; a missing
file is then an error, never replaced (a new key would not match the fingerprint already published). When the
setting is empty, a key is made once on first use under the private data folder (EVIDENCE_PACK_KEY_DIR, default
<ISMS_DATA_DIR>/keys, mode 0700; the file 0600) and kept there. Two workers making it at the same moment agree:
the file is created with a hard link that fails if the other got there first."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENERATED_NAME = "evidence-pack-ed25519.pem"


def key_path() -> Path:
    """Where the private key is read from (EVIDENCE_PACK_KEY_FILE, else the generated key's place)."""
    configured = getattr(settings, "EVIDENCE_PACK_KEY_FILE", "")
    if configured:
        return Path(configured)
    return Path(settings.EVIDENCE_PACK_KEY_DIR) / GENERATED_NAME


def _generate(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made the key first: theirs is kept
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


@lru_cache(maxsize=4)
def _load(path_str: str, mtime_ns: int):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(Path(path_str).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path_str} is not an Ed25519 private key (PKCS#8 PEM).")
    return key


def private_key():
    """The signing key (made on first use when no key file is configured)."""
    path = key_path()
    if not path.exists():
        if getattr(settings, "EVIDENCE_PACK_KEY_FILE", ""):
            raise ImproperlyConfigured(
                f"EVIDENCE_PACK_KEY_FILE names {path}, which does not exist: restore the key file, or leave the "
                "setting empty to have a key made (its fingerprint then changes: publish the new one)."
            )
        _generate(path)
    return _load(str(path), path.stat().st_mtime_ns)


def public_key_raw() -> bytes:
    """The 32 bytes of the public key."""
    from cryptography.hazmat.primitives import serialization

    return private_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem() -> str:
    """The public key as a PEM file (SubjectPublicKeyInfo), what public-key.pem in a pack holds."""
    from cryptography.hazmat.primitives import serialization

    return (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def fingerprint_of(raw: bytes) -> str:
    """SHA-256 of the 32 raw public-key bytes, in groups of four hex digits (tools/verify_pack.py prints the
    same)."""
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def fingerprint() -> str:
    """The fingerprint of the organisation's public key (what an auditor compares)."""
    return fingerprint_of(public_key_raw())


def sign(data: bytes) -> bytes:
    """The Ed25519 signature of `data`, base64-encoded (one line, no newline)."""
    return base64.b64encode(private_key().sign(data))
