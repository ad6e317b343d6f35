"""Signed statements (xAPI 1.0.3 part two, 2.6): a JWS of the statement travels as an attachment.

The LRS checks what the specification asks: the signature attachment is ``application/octet-stream``;
its content is a JWS in compact serialisation with an RSA algorithm (RS256, RS384, RS512); its
payload is a statement that matches the one sent (apart from what the LRS sets, and the attachments
themselves). When the JWS header carries an ``x5c`` certificate chain, the signature is verified
with the first certificate's key; without one the LRS has no key to verify with, as the
specification allows, and the statement is stored with its signature for consumers to check.
"""

import base64
import binascii

import jwt
import orjson
from cryptography import x509

from serving.xapi.errors import XapiError

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
ALGORITHMS = ("RS256", "RS384", "RS512")
NOT_COMPARED = ("attachments", "authority", "stored", "version")


def check_signatures(raw: dict, contents: dict[str, tuple[str, bytes]], where: str = "") -> None:
    """Raise XapiError(400) unless every signature attachment of the statement ``raw`` (as the client sent
    it; ``contents`` by sha2) is well formed and signs this statement."""
    for attachment in raw.get("attachments") or []:
        if attachment.get("usageType") != SIGNATURE:
            continue
        if attachment.get("contentType") != "application/octet-stream":
            raise XapiError(400, f"{where}a signature attachment must be application/octet-stream")
        content = contents.get(attachment.get("sha2", ""))
        if content is None:
            raise XapiError(400, f"{where}the signature must travel in the request (multipart/mixed)")
        _check(content[1], raw, where)


def _check(token_bytes: bytes, raw: dict, where: str) -> None:
    try:
        token = token_bytes.decode("ascii").strip()
        header = jwt.get_unverified_header(token)
        payload = orjson.loads(_b64url(token.split(".")[1]))
    except (UnicodeDecodeError, jwt.DecodeError, IndexError, binascii.Error, orjson.JSONDecodeError):
        raise XapiError(400, f"{where}the signature is not a JWS (compact serialisation) of a JSON statement") from None
    if header.get("alg") not in ALGORITHMS:
        raise XapiError(400, f"{where}a statement signature must use one of {ALGORITHMS}, not {header.get('alg')!r}")
    if not isinstance(payload, dict) or not _same_statement(payload, raw):
        raise XapiError(400, f"{where}the signature's payload is not the statement it is attached to")
    if "x5c" in header:
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            jwt.PyJWS().decode(token, key=certificate.public_key(), algorithms=[header["alg"]])
        except (jwt.InvalidTokenError, ValueError, TypeError, IndexError, KeyError, binascii.Error):
            raise XapiError(400, f"{where}the signature does not verify with the certificate in its x5c header") from None


def _same_statement(payload: dict, raw: dict) -> bool:
    ignored = set(NOT_COMPARED) | ({"id"} if "id" not in payload else set())
    return ({k: v for k, v in payload.items() if k not in ignored}
            == {k: v for k, v in raw.items() if k not in ignored})


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
