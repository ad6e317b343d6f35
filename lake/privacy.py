"""The lake never sees who a learner is (ARCHITECTURE.md decision 6).

Learners appear as pseudonymous ids (a keyed hash of their core user id or xAPI identifier),
and no e-mail address is ever written to a lake table: one typed into free text (a search, a
tutor question, a course's description, a field a client made up) is masked on the way in.

A person to erase is a ``Subject``: every identifier under which a store may hold them. Once
erased, they are remembered only as SHA-256 hashes of those identifiers (``identifier_hashes``).
"""

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What an e-mail address looks like in running text (RE2 syntax, as Arrow's regex kernels take it).
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
EMAIL_MASK = "<email>"
AT_SIGN = ord("@")


ERASED_PSEUDONYM = "lrn_erased"  # what a mention of an erased learner becomes
PSEUDONYM_PATTERN = r"lrn_[0-9a-f]{32}"


def learner_id_for(user_id: str, key: str) -> str:
    """The keyed hash of a core user id, stable for one key and not reversible without it."""
    digest = hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"lrn_{digest[:32]}"


@dataclass(frozen=True)
class Subject:
    """A person as the stores may hold them: the core account, its pseudonym in the lake, and the xAPI
    identifiers of their e-mail (``mbox``, ``mbox_sha1sum``) with the pseudonyms those give."""

    user_id: str
    email: str | None
    name: str | None
    pseudonyms: tuple[str, ...]
    xapi_keys: tuple[str, ...]


def subject_of(user_id: str, email: str | None, name: str | None, pseudonym_key: str) -> Subject:
    """Every identifier of the account ``user_id``; e-mail addresses compare lowercased."""
    email = email.lower() if email else None
    xapi_keys: tuple[str, ...] = ()
    if email:
        mailto = f"mailto:{email}"
        xapi_keys = (f"mbox:{mailto}", f"mbox_sha1sum:{hashlib.sha1(mailto.encode()).hexdigest()}")
    pseudonyms = tuple(dict.fromkeys([learner_id_for(user_id, pseudonym_key)]
                                     + [learner_id_for(key, pseudonym_key) for key in xapi_keys]))
    return Subject(user_id, email, name, pseudonyms, xapi_keys)


def identifier_hash(value: str) -> str:
    """How an identifier is remembered once its person is erased."""
    return hashlib.sha256(value.strip().casefold().encode()).hexdigest()


def identifier_hashes(subject: Subject) -> dict[str, list[str]]:
    """The hashes of a subject's identifiers, by kind."""
    kinds = {"user_id": [subject.user_id], "email": [subject.email] if subject.email else [],
             "name": [subject.name] if subject.name else [], "pseudonym": list(subject.pseudonyms),
             "xapi_key": list(subject.xapi_keys)}
    return {kind: [identifier_hash(v) for v in values] for kind, values in kinds.items()}


def mask_emails(table: pa.Table) -> pa.Table:
    """``table`` with every e-mail address in its string columns replaced by ``EMAIL_MASK``.

    A column is searched only if its characters hold an ``@`` at all, found by one scan of its
    data buffer (a tenth of a per-value search), so tables without one, nearly all of them,
    cost that scan and no copy.
    """
    for index, field in enumerate(table.schema):
        if not pa.types.is_string(field.type) and not pa.types.is_large_string(field.type):
            continue
        column = table.column(index)
        if not any(_holds_at_sign(chunk) for chunk in column.chunks):
            continue
        masked = pc.replace_substring_regex(column, EMAIL_PATTERN, EMAIL_MASK)
        table = table.set_column(index, field, masked)
    return table


def mask_emails_in(texts: list[str]) -> list[str]:
    """``texts`` with every e-mail address replaced by ``EMAIL_MASK``, by the lake's rule: for free text read
    from elsewhere (the core database's tutor turns) and shown to someone other than its writer."""
    return pc.replace_substring_regex(pa.array(texts, pa.string()), EMAIL_PATTERN, EMAIL_MASK).to_pylist()


def _holds_at_sign(strings: pa.Array) -> bool:
    # The whole data buffer, read in place: a slice's neighbours may answer yes, never a wrong no.
    data = strings.buffers()[2]
    return data is not None and bool((np.frombuffer(data, dtype=np.uint8) == AT_SIGN).any())
