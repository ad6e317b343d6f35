"""Course content as passages the tutor can retrieve and cite: heading-aware chunks.

A document (an OpenStax section, a lesson's Markdown) is split at its headings first, so a
passage never straddles two topics, then each block into windows of about ``words`` words
that overlap by ``overlap`` words, so a sentence cut at one window's edge is whole in the
next. Every chunk keeps where it came from: the document, its title, the heading it sits
under, and its position, which is what an answer cites.
"""

import hashlib
import re
from dataclasses import asdict, dataclass

HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # "<course>/<document>#<n>": stable while the document keeps its shape
    course_id: str
    document_id: str  # e.g. the OpenStax module id
    title: str  # the document's title
    heading: str  # the heading path inside the document: "Variables > Assignment"
    location: str  # where a reader finds it: file or URL, with the heading
    text: str  # the passage itself
    skills: tuple[str, ...] = ()  # the skills its content item practises: the tutor shows weak ones first

    @property
    def indexed_text(self) -> str:
        """What is embedded and matched: the passage under its titles (they carry the topic)."""
        path = self.heading if self.heading.startswith(self.title) else f"{self.title} > {self.heading}"
        return f"{path}\n{self.text}"

    @property
    def fingerprint(self) -> str:
        """Changes when anything a reader sees changes: re-indexing skips unchanged chunks."""
        return hashlib.sha256(repr(sorted(asdict(self).items())).encode()).hexdigest()[:16]


def _blocks(markdown: str, title: str) -> list[tuple[str, str]]:
    """(heading path, text) for each run of text between headings."""
    blocks, path, position = [], [], 0
    for match in HEADING.finditer(markdown):
        text = markdown[position:match.start()].strip()
        if text:
            blocks.append((" > ".join(path) or title, text))
        level, name = len(match.group(1)), match.group(2)
        path = path[:max(0, level - 1)] + [name]
        position = match.end()
    text = markdown[position:].strip()
    if text:
        blocks.append((" > ".join(path) or title, text))
    return blocks


def document_chunks(*, course_id: str, document_id: str, title: str, markdown: str, location: str,
                    skills: tuple[str, ...] = (), words: int = 120, overlap: int = 40) -> list[Chunk]:
    """The chunks of one Markdown document, in reading order."""
    if not 0 <= overlap < words:
        raise ValueError(f"overlap must be in [0, words); got words={words}, overlap={overlap}")
    chunks = []
    for heading, text in _blocks(markdown, title):
        tokens = text.split()
        for start in range(0, max(1, len(tokens) - overlap), words - overlap):
            piece = " ".join(tokens[start:start + words])
            n = len(chunks)
            anchor = heading.split(" > ")[-1]
            chunks.append(Chunk(f"{course_id}/{document_id}#{n}", course_id, document_id, title, heading,
                                f"{location}#{anchor}", piece, tuple(skills)))
    return chunks
