#!/usr/bin/env python3
"""Check an evidence pack offline: its signature, and every file against its SHA-256.

    python3 verify_pack.py pack.zip                 # the ZIP as downloaded
    python3 verify_pack.py unzipped-folder/          # or the folder it was unzipped into
    python3 verify_pack.py pack.zip --fingerprint "3f2a 91bc …"   # and insist on the published key

What it checks, in order:
1. manifest.sha256.sig is a valid Ed25519 signature (RFC 8032) of manifest.sha256 by the public key — the one in
   the pack (public-key.pem) unless --key names another PEM file. The pack's own key proves nothing by itself:
   compare the fingerprint printed here with the one the organisation publishes (its portal's "pack signing key"
   page), or pass it with --fingerprint.
2. Every file the manifest lists is present and has the SHA-256 written there; no file is present that the
   manifest does not list (besides the manifest and its signature).

Prints OK, or exactly which file is altered, missing or extra; exit code 0 when everything holds, 1 otherwise
(2 for a usage error). Python 3.8 or later, standard library only: nothing to install.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
import zipfile

MANIFEST = "manifest.sha256"
SIGNATURE = "manifest.sha256.sig"
PUBLIC_KEY = "public-key.pem"
CHUNK = 1024 * 1024

# ----------------------------------------------------------------------------------------------------------------
# Ed25519 verification, after the reference code of RFC 8032 section 6 (verification only: no secret involved,
# so constant time does not matter here).

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % _P
    bb = (y1 + x1) * (y2 + x2) % _P
    cc = 2 * t1 * t2 * _D % _P
    dd = 2 * z1 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s: int, point):
    q = (0, 1, 1, 0)  # the neutral element
    while s > 0:
        if s & 1:
            q = _add(q, point)
        point = _add(point, point)
        s >>= 1
    return q


def _equal(a, b) -> bool:
    x1, y1, z1, _ = a
    x2, y2, z2, _ = b
    return (x1 * z2 - x2 * z1) % _P == 0 and (y1 * z2 - y2 * z1) % _P == 0


def _recover_x(y: int, sign: int):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(s: bytes):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` (64 bytes) is `public`'s (32 bytes) Ed25519 signature of `message`."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


# ----------------------------------------------------------------------------------------------------------------
# The pack.

# The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING }.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def public_key_from_pem(pem: bytes) -> bytes:
    """The 32 raw bytes of an Ed25519 public key in a PEM file ("-----BEGIN PUBLIC KEY-----")."""
    text = pem.decode("ascii", "replace")
    found = re.search(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", text, re.S)
    if not found:
        raise ValueError("not a PEM public key (no BEGIN PUBLIC KEY line)")
    der = base64.b64decode("".join(found.group(1).split()))
    if len(der) != 44 or not der.startswith(_SPKI_PREFIX):
        raise ValueError("not an Ed25519 public key")
    return der[12:]


def fingerprint(raw: bytes) -> str:
    """SHA-256 of the raw public key in groups of four hex digits (as the organisation's page shows it)."""
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def _normalised(fp: str) -> str:
    return re.sub(r"[^0-9a-f]", "", fp.lower())


class Folder:
    """An unzipped pack."""

    def __init__(self, root: str):
        self.root = root

    def names(self) -> set:
        found = set()
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                path = os.path.relpath(os.path.join(folder, name), self.root)
                found.add(path.replace(os.sep, "/"))
        return found

    def read(self, name: str) -> bytes:
        with open(os.path.join(self.root, *name.split("/")), "rb") as f:
            return f.read()

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with open(os.path.join(self.root, *name.split("/")), "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()


class Zip:
    """A pack as downloaded."""

    def __init__(self, path: str):
        self.zip = zipfile.ZipFile(path)

    def names(self) -> set:
        return {info.filename for info in self.zip.infolist() if not info.is_dir()}

    def read(self, name: str) -> bytes:
        return self.zip.read(name)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.zip.open(name) as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()


def parse_manifest(text: str) -> dict:
    """{path: sha256} from `sha256sum` output ("<hash>  <path>" or "<hash> *<path>" per line)."""
    entries = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if not found:
            raise ValueError(f"line {number} of {MANIFEST} is not '<sha256>  <file>'")
        entries[found.group(2)] = found.group(1).lower()
    return entries


def verify(pack, key_pem: bytes | None = None, expected_fingerprint: str | None = None, out=sys.stdout) -> bool:
    """Check `pack` (Folder or Zip); print what is wrong; True when nothing is."""
    names = pack.names()
    for needed in (MANIFEST, SIGNATURE) + (() if key_pem else (PUBLIC_KEY,)):
        if needed not in names:
            print(f"FAILED: {needed} is missing from the pack: it cannot be checked.", file=out)
            return False
    try:
        public = public_key_from_pem(key_pem if key_pem else pack.read(PUBLIC_KEY))
    except ValueError as exc:
        print(f"FAILED: the public key cannot be read ({exc}).", file=out)
        return False
    print(f"Signing key fingerprint: {fingerprint(public)}", file=out)
    if expected_fingerprint is not None and _normalised(expected_fingerprint) != _normalised(fingerprint(public)):
        print(
            "FAILED: the key that signed this pack is not the one whose fingerprint you gave: do not trust the pack.",
            file=out,
        )
        return False
    manifest = pack.read(MANIFEST)
    try:
        signature = base64.b64decode(pack.read(SIGNATURE).strip(), validate=True)
    except ValueError:
        signature = b""
    if not ed25519_verify(public, manifest, signature):
        print(
            f"FAILED: the signature does not match {MANIFEST}: the manifest (or its signature) was changed after "
            "the pack was signed.",
            file=out,
        )
        return False
    print(f"Signature of {MANIFEST}: valid.", file=out)
    try:
        entries = parse_manifest(manifest.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        print(f"FAILED: {exc}", file=out)
        return False
    problems = []
    for name in sorted(entries):
        if name not in names:
            problems.append(f"MISSING: {name}")
        elif pack.sha256(name) != entries[name]:
            problems.append(f"ALTERED: {name} (its SHA-256 differs from the manifest)")
    for name in sorted(names - set(entries) - {MANIFEST, SIGNATURE}):
        problems.append(f"EXTRA: {name} (not in the manifest)")
    for problem in problems:
        print(problem, file=out)
    if problems:
        print(f"FAILED: {len(problems)} problem(s) in {len(entries)} files.", file=out)
        return False
    print(f"OK: {len(entries)} files match the signed manifest.", file=out)
    if expected_fingerprint is None and key_pem is None:
        print("Compare the fingerprint above with the one the organisation publishes.", file=out)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check an evidence pack's signature and every file's SHA-256.")
    parser.add_argument("pack", help="the pack's ZIP file, or the folder it was unzipped into")
    parser.add_argument("--key", help="a PEM file with the organisation's public key (instead of the pack's own)")
    parser.add_argument("--fingerprint", help="the key fingerprint the organisation publishes: the pack must match")
    args = parser.parse_args(argv)
    key_pem = None
    if args.key:
        with open(args.key, "rb") as f:
            key_pem = f.read()
    if os.path.isdir(args.pack):
        pack = Folder(args.pack)
    elif zipfile.is_zipfile(args.pack):
        pack = Zip(args.pack)
    else:
        print(f"{args.pack} is neither a folder nor a ZIP file.", file=sys.stderr)
        return 2
    return 0 if verify(pack, key_pem, args.fingerprint) else 1


if __name__ == "__main__":
    sys.exit(main())
