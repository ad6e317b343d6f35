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

HEADING = re.compile(r"(#{1,6})\s+(.*\S)\s*")


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
    def section(self) -> str:
        """Where the passage sits, as a reader names it: "Variables > Assignment"."""
        return section_path(self.title, self.heading)

    @property
    def indexed_text(self) -> str:
        """What is embedded and matched: the passage under its titles (they carry the topic)."""
        return f"{self.section}\n{self.text}"

    @property
    def fingerprint(self) -> str:
        """Changes when anything a reader sees changes: re-indexing skips unchanged chunks."""
        return hashlib.sha256(repr(sorted(asdict(self).items())).encode()).hexdigest()[:16]


def section_path(title: str, heading: str) -> str:
    """The document's title, then the heading path inside it, once: a lesson's heading path starts with its
    title already ("Lesson 6.1: dictionaries > Iterating over a dictionary"), an OpenStax section's does not."""
    return heading if heading.startswith(title) else f"{title} > {heading}"


def _headings(lines: list[str]) -> dict[int, tuple[int, str]]:
    """{line number: (level, name)} of the headings, not counting comments in fenced code."""
    found, fenced = {}, False
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (match := HEADING.fullmatch(line)):
            found[number] = (len(match.group(1)), match.group(2))
    return found


def _blocks(markdown: str, title: str) -> list[tuple[str, str]]:
    """(heading path, text) for each run of text between headings.

    A heading with no text of its own before the next heading of its level or above (the title
    of an interactive the Markdown cannot hold, such as an OpenStax book's slides and practice
    questions) stays as a line of the text before it instead of vanishing from every passage:
    it names what that text teaches."""
    lines = markdown.split("\n")
    headings = _headings(lines)
    blocks, path, text = [], [], []

    def close_block() -> None:
        if "\n".join(text).strip():
            blocks.append((" > ".join(path) or title, "\n".join(text).strip()))
        text.clear()

    for number, line in enumerate(lines):
        if number not in headings:
            text.append(line)
            continue
        level, name = headings[number]
        following = next((n for n in range(number + 1, len(lines)) if lines[n].strip()), None)
        if following is None or (following in headings and headings[following][0] <= level):
            text.append(f"{name.rstrip('.')}.")
            continue
        close_block()
        path = path[:max(0, level - 1)] + [name]
    close_block()
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
