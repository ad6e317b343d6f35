"""multipart/mixed requests and answers: statements with the contents of their attachments.

The first part is the JSON (statements, or a statement result); each further part is one
attachment's content, named by the ``X-Experience-API-Hash`` header (its SHA-2 hex digest),
sent with ``Content-Transfer-Encoding: binary``.
"""

import email.parser
import email.policy
import hashlib
import uuid

from serving.xapi.errors import XapiError

# SHA-2 digests by the length of their hex form.
SHA2 = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def parse_multipart(content_type: str, body: bytes) -> tuple[bytes, dict[str, tuple[str, bytes]]]:
    """(the raw JSON of the first part, {sha2: (content type, bytes)} of the others); XapiError(400) if
    malformed. The JSON is left to the caller, who parses it within the API's bounds."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise XapiError(400, "a multipart/mixed body needs a boundary and parts")
    parts = list(message.iter_parts())
    if not parts or parts[0].get_content_type() != "application/json":
        raise XapiError(400, "the first part of a multipart/mixed request must be application/json")
    statements = parts[0].get_payload(decode=True) or b""
    attachments: dict[str, tuple[str, bytes]] = {}
    for part in parts[1:]:
        sha2 = (part.get("X-Experience-API-Hash") or "").strip()
        if not sha2:
            raise XapiError(400, "every attachment part needs an X-Experience-API-Hash header")
        if (part.get("Content-Transfer-Encoding") or "").strip().lower() != "binary":
            raise XapiError(400, "attachment parts need Content-Transfer-Encoding: binary")
        content = part.get_payload(decode=True) or b""
        digest = SHA2.get(len(sha2))
        if digest is None or digest(content).hexdigest() != sha2.lower():
            raise XapiError(400, f"the content of part {sha2} does not match its SHA-2 hash")
        attachments[sha2] = (part.get_content_type(), content)
    return statements, attachments


def build_multipart(json_body: bytes, attachments: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """(body, content type) of a multipart/mixed answer: the JSON, then each attachment."""
    boundary = uuid.uuid4().hex
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), json_body, b"\r\n"]
    for sha2, (content_type, content) in attachments.items():
        chunks += [
            f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode(),
            content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


def attachment_hashes(statements: list[dict]) -> set[str]:
    """The sha2 of every attachment (and SubStatement attachment) of these statements."""
    hashes = set()
    for statement in statements:
        for holder in (statement, statement.get("object") or {}):
            hashes.update(a["sha2"] for a in holder.get("attachments") or [] if "sha2" in a)
    return hashes
