"""The tutor as the API runs it: retrieval over the indexed course content, then an answer.

With a Qdrant server (``LEARNLAKE_QDRANT_URL``) every search goes to it. Otherwise each API
replica searches the newest published snapshot of the passages (``models/tutor/published.py``),
loaded into its own memory, and looks for a newer one every few seconds: the indexer never waits
for an API, and any number of replicas, on any machine that reaches the lake, read the same
passages. Qdrant's local mode searches by brute force in memory too, so the copy answers the same.
"""

import threading
import time
from dataclasses import dataclass

from learnlake.settings import Settings
from models.embeddings import embed
from models.tutor import published
from models.tutor.answers import Answer, AnswerGenerator, answer_generator, relevant
from models.tutor.index import TutorIndex, qdrant_client
from models.tutor.retrieval import Passage, RatedAnswers, Retriever
from serving.telemetry.metrics import TUTOR_QUESTIONS, TUTOR_RETRIEVAL_SECONDS

PASSAGES = 5
CHECK_EVERY_S = 5.0  # how often an API looks for a newer published snapshot of the passages
WEAK_MASTERY = 0.6  # below this, a skill is one the learner is still weak in


@dataclass(frozen=True)
class TutorReply:
    answer: Answer
    passages: list[Passage]
    searched_for: str  # the query retrieval used (the question, or a follow-up with the turn before)


def weak_skills_first(passages: list[Passage], mastery: dict[str, float] | None) -> list[Passage]:
    """Relevant passages on the learner's weak skills (weakest first) ahead of the other relevant ones.

    Only the order among relevant passages changes: which passages answer is still decided by
    relevance, so a weak skill never pulls in an off-topic passage.
    """
    if not mastery:
        return passages
    usable = {id(p) for p in relevant(passages)}

    def weakness(passage: Passage) -> float:
        known = [mastery[s] for s in passage.chunk.skills if s in mastery]
        return min(known) if known and id(passage) in usable and min(known) < WEAK_MASTERY else 1.0

    ranked = sorted(passages, key=lambda p: (id(p) not in usable, weakness(p)))  # stable: retrieval order otherwise
    return ranked


class Tutor:
    def __init__(self, settings: Settings, generator: AnswerGenerator | None = None):
        self.settings = settings
        self.generator = generator or answer_generator(settings)
        self._retriever: Retriever | None = None
        self._version: int | None = None  # the published snapshot the retriever searches
        self._checked_at = float("-inf")
        self._lock = threading.Lock()  # held for a glance at the clock
        self._loading = threading.Lock()  # held while a snapshot loads: one load at a time

    def retriever(self) -> Retriever:
        """A retriever over the current passages: the server's, or the newest published snapshot. A newer
        snapshot loads while the one before keeps answering."""
        if self.settings.qdrant_url:
            with self._lock:
                if self._retriever is None:
                    self._retriever = Retriever(TutorIndex(qdrant_client(self.settings)))
                return self._retriever
        with self._lock:
            now = time.monotonic()
            if self._retriever is not None and now - self._checked_at < CHECK_EVERY_S:
                return self._retriever
            self._checked_at = now
        with self._loading:
            version = published.latest_version(self.settings)
            if self._retriever is None or version != self._version:
                self._retriever = Retriever(published.load(self.settings, version))
                self._version = version
            return self._retriever

    def warm_up(self) -> None:
        """Load the embedding model (a second or two) before the first question needs it."""
        embed(["warm up"])

    def ask(self, course_id: str, question: str, *, previous_question: str | None = None,
            mastery: dict[str, float] | None = None, rated: RatedAnswers | None = None) -> TutorReply:
        """Answer from the course's passages; a follow-up the passages miss is searched with the turn before.
        ``rated``: the course's rated answers, which sections helped with questions like this one."""
        retriever = self.retriever()
        query = question
        with TUTOR_RETRIEVAL_SECONDS.time():
            passages = retriever.search(course_id, question, k=PASSAGES, rated=rated)
            if previous_question and not relevant(passages):
                query = f"{previous_question} {question}"
                passages = retriever.search(course_id, query, k=PASSAGES, rated=rated)
        passages = weak_skills_first(passages, mastery)
        answer = self.generator.answer(question, passages)
        TUTOR_QUESTIONS.labels("answered" if answer.grounded else "dont_know").inc()
        return TutorReply(answer, passages, query)
