"""What a password must be: long enough, and not one that attackers try first.

The check is zxcvbn's (the Dropbox estimator, Python port): its 30,000 most common passwords,
English words, names, keyboard walks, repeats, dates and l33t spellings ship inside the package,
and the account's own e-mail and name count as guessable too. A password must be at least
``MIN_LENGTH`` characters and take zxcvbn's score 3, about 10^8 guesses: out of reach of an
online attacker and, against argon2, of an offline one for a long while.
"""

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3
_CHECKED_CHARS = 100  # zxcvbn's time grows with the length; beyond this a password is long enough anyway


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """Why ``password`` is refused, in words a user can act on; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password must be at most {MAX_LENGTH} characters"
    texts = [text.lower() for text in (email, name) if text]
    personal = texts + [part for text in texts for part in re.split(r"[@.\s_+-]+", text) if part]
    verdict = zxcvbn(password[:_CHECKED_CHARS], user_inputs=personal)
    if verdict["score"] >= MIN_SCORE:
        return None
    feedback = verdict["feedback"]
    reasons = [feedback.get("warning") or "This password is easy to guess."] + list(feedback.get("suggestions", []))
    return "the password is too easy to guess: " + " ".join(r.rstrip(".") + "." for r in reasons if r)
