"""The tutor's answers: built only from retrieved passages, always with citations.

Two generators share one interface (``AnswerGenerator``):

- ``ExtractiveAnswerer`` (the offline default): the sentences of the retrieved passages that
  are closest to the question (MiniLM), read alone and under their passage's heading, a little
  less for each passage retrieval ranked lower; up to three, each nearly as close as the closest,
  in reading order, each followed by its citation.
  Nothing is written that is not in the course material.
- ``OpenAICompatibleAnswerer``: any chat-completions endpoint (vLLM, Ollama, llama.cpp server)
  at ``LEARNLAKE_LLM_URL``, with a prompt that allows the numbered passages only and asks for
  "I don't know" otherwise.

Both say they do not know, and point to the closest sections, when no passage is relevant
enough: the best cosine similarity to the question is below ``RELEVANCE_THRESHOLD``.
"""

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from learnlake.errors import LearnLakeError
from learnlake.settings import Settings
from models.chat import ChatCompletionError, ChatEndpoint
from models.embeddings import embed_kept
from models.tutor.chunks import section_path
from models.tutor.retrieval import Passage

# MiniLM cosine similarity; unrelated text sits around 0 to 0.2, a passage on the topic of
# the question above 0.4. Fixed from the model's scale, not fitted to a question set.
RELEVANCE_THRESHOLD = 0.35
# A sentence's closeness to the question, less this for each relevant passage retrieval ranked above its own: a
# sentence that merely shares the question's words ("return") in a lower passage no longer outranks the top
# passage's. On the OpenStax questions (``learnlake eval rag``, "answers": each question with its options), answers
# with a sentence from a gold section: development 0.711 -> 0.756, held-out chapters 0.606 -> 0.679; the share of
# the answers' sentences from a gold section 0.380 -> 0.460 and 0.324 -> 0.407. Asked without their options:
# 0.658 -> 0.706 and 0.574 -> 0.574; 0.370 -> 0.445 and 0.350 -> 0.387. 0.02, 0.05, 0.1 and 0.2 were tried, and
# 0.05 chosen on the development split asked without options.
RANK_PENALTY = 0.05
# A sentence's closeness is half its own and half that of "heading: sentence": "`for name in ages:` visits the keys"
# says little to MiniLM alone, and everything under "Iterating over a dictionary". On the OpenStax questions asked
# without their options, development split (where 0.25, 0.5, 0.75 and 1 were tried and 0.5 chosen): answers with a
# sentence from a gold section 0.706 -> 0.709, the share of their sentences from one 0.445 -> 0.467; held-out chapters
# 0.574 -> 0.611 and 0.387 -> 0.403. With their options (``learnlake eval rag``): development 0.756 -> 0.750 and
# 0.460 -> 0.469, held-out 0.679 -> 0.688 and 0.407 -> 0.416.
HEADING_WEIGHT = 0.5
# A sentence is quoted only when it is within this of the closest one (up to three): an answer no longer adds
# sentences that merely share the question's topic. Chosen on the development split as the smallest of 0.02, 0.05,
# 0.1, 0.15, 0.2, 0.25 and 0.3 that keeps every answer's sentence from a gold section, with and without the
# options: answers with one stay 0.750 and 0.709, the share of their sentences from a gold section goes 0.469 ->
# 0.497 and 0.467 -> 0.487, 2.86 sentences an answer, not 2.99. Held-out chapters (printed beside, not used to
# choose): 0.688 and 0.611 stay, 0.416 -> 0.434 and 0.403 -> 0.421.
MARGIN = 0.25
DONT_KNOW = "I don't know"
SYSTEM_PROMPT = (
    "You are a tutor for an online course. Answer the learner's question using only the numbered passages "
    "from the course material below. Cite every statement with the number of its passage in square brackets, "
    f"like [1]. If the passages do not contain the answer, reply exactly \"{DONT_KNOW}.\" and nothing else. "
    "Never add facts, code or advice that the passages do not contain."
)


class AnswerGenerationError(LearnLakeError):
    """The configured answer generator could not answer (unreachable, or an unexpected reply)."""


@dataclass(frozen=True)
class Citation:
    number: int
    title: str  # the section or lesson
    heading: str
    location: str
    passage: str
    document_id: str  # the section or lesson's id: what the tutor's askers rate, through its answer's citations

    @property
    def section(self) -> str:
        return section_path(self.title, self.heading)


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    grounded: bool  # False: the tutor does not know; the citations point to the closest sections
    generator: str


class AnswerGenerator(Protocol):
    name: str

    def answer(self, question: str, passages: list[Passage]) -> Answer: ...


def _citation(number: int, passage: Passage) -> Citation:
    chunk = passage.chunk
    return Citation(number, chunk.title, chunk.heading, chunk.location, chunk.text, chunk.document_id)


def relevant(passages: list[Passage], threshold: float = RELEVANCE_THRESHOLD) -> list[Passage]:
    """The passages close enough to the question (from a dense or hybrid search, which measure that)."""
    return [p for p in passages if p.similarity is not None and p.similarity >= threshold]


def dont_know(passages: list[Passage], generator: str, *, pointers: int = 3) -> Answer:
    """"I don't know", with the closest distinct sections to look at."""
    closest = list({p.chunk.document_id: p for p in passages}.values())[:pointers]
    citations = [_citation(n, p) for n, p in enumerate(closest, start=1)]
    where = "; ".join(c.section for c in citations)
    text = f"{DONT_KNOW}: the course material does not answer this." + (f" The closest sections: {where}." if where
                                                                         else "")
    return Answer(text, citations, grounded=False, generator=generator)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z`*\"(])", text) if len(s.split()) >= 3]


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, *, threshold: float = RELEVANCE_THRESHOLD, max_sentences: int = 3,
                 rank_penalty: float = RANK_PENALTY, heading_weight: float = HEADING_WEIGHT, margin: float | None = MARGIN):
        self.threshold, self.max_sentences, self.rank_penalty = threshold, max_sentences, rank_penalty
        self.heading_weight, self.margin = heading_weight, margin

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        usable = relevant(passages, self.threshold)
        if not usable:
            return dont_know(passages, self.name)
        # Retrieval's order, whatever order the passages come in (the tutor puts a learner's weak skills first).
        below = {id(p): n for n, p in enumerate(sorted(usable, key=lambda p: p.rank))}
        candidates, lower, seen, headed = [], [], set(), []
        for n, p in enumerate(usable, start=1):
            for position, sentence in enumerate(_sentences(p.chunk.text) or [p.chunk.text]):
                if sentence not in seen:  # overlapping passages repeat sentences: quote each once
                    seen.add(sentence)
                    candidates.append((n, position, sentence))
                    lower.append(below[id(p)])
                    headed.append(f"{p.chunk.heading}: {sentence}")
        # Sentences are kept embedded: the passages of a course's common questions come back often. One batch.
        vectors = embed_kept([question] + [sentence for _, _, sentence in candidates]
                             + (headed if self.heading_weight else []))
        closeness = vectors[1:len(candidates) + 1] @ vectors[0]
        if self.heading_weight:
            closeness = (1 - self.heading_weight) * closeness + self.heading_weight * (vectors[len(candidates) + 1:]
                                                                                      @ vectors[0])
        similarity = closeness - self.rank_penalty * np.array(lower)
        ranked = np.argsort(-similarity)[:self.max_sentences]
        if self.margin is not None:
            ranked = ranked[similarity[ranked] >= similarity[ranked[0]] - self.margin]
        chosen = sorted(ranked.tolist(),
                        key=lambda i: (candidates[i][0], candidates[i][1]))
        text = " ".join(f"{candidates[i][2]} [{candidates[i][0]}]" for i in chosen)
        used = sorted({candidates[i][0] for i in chosen})
        return Answer(text, [_citation(n, usable[n - 1]) for n in used], grounded=True, generator=self.name)


class OpenAICompatibleAnswerer:
    name = "openai-compatible"

    def __init__(self, endpoint: ChatEndpoint, *, threshold: float = RELEVANCE_THRESHOLD, max_passages: int = 5):
        self.endpoint = endpoint
        self.threshold, self.max_passages = threshold, max_passages

    def messages(self, question: str, passages: list[Passage]) -> list[dict]:
        numbered = "\n\n".join(f"[{n}] {p.chunk.section}\n{p.chunk.text}"
                               for n, p in enumerate(passages, start=1))
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"}]

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        usable = relevant(passages, self.threshold)[:self.max_passages]
        if not usable:
            return dont_know(passages, self.name)
        try:
            text = self.endpoint.reply(self.messages(question, usable))
        except ChatCompletionError as exc:
            raise AnswerGenerationError(f"the answer generator failed: {exc}") from exc
        if text.lower().startswith(DONT_KNOW.lower()):
            return dont_know(passages, self.name)
        cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", text) if 1 <= int(n) <= len(usable)})
        # A reply that cites nothing still came from these passages only: cite them all.
        return Answer(text, [_citation(n, usable[n - 1]) for n in cited or range(1, len(usable) + 1)],
                      grounded=True, generator=self.name)


def answer_generator(settings: Settings) -> AnswerGenerator:
    """The OpenAI-compatible generator when ``LEARNLAKE_LLM_URL`` is set, else the extractive one."""
    endpoint = ChatEndpoint.configured(settings)
    return OpenAICompatibleAnswerer(endpoint) if endpoint else ExtractiveAnswerer()
