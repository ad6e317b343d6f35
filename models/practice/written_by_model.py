"""Practice questions a language model writes from a passage, at the configured OpenAI-compatible
endpoint (``LEARNLAKE_LLM_URL``), each checked to be answerable from the passage before a learner sees it.

The model is asked for multiple-choice and cloze questions with, for each, the sentence of the passage
that answers it (its evidence). A question is kept only when:

- the evidence is a sentence of the passage, copied (case, spacing and code marks aside);
- the answer is said in the evidence, as whole words, and not in the question (which would give it away);
- a cloze question has exactly one blank; a multiple-choice one has 3 to 5 distinct options, the answer
  exactly once among them, and no wrong option said in the evidence (reading it settles the choice);
- the question with its answer means what the evidence says: a MiniLM cosine of at least
  ``ANSWERABLE_SIMILARITY`` (a question about something else scores well below it);
- prompt and answer are of a length a page shows.

Whatever the model replies, nothing else reaches a learner: a reply that is not JSON, or questions that
fail a check, are dropped (``WrittenQuestions.dropped`` says why, for the logs).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field

from models.chat import ChatEndpoint
from models.embeddings import embed_kept
from models.practice.questions import BLANK, PracticeQuestion, normalised, stable_order
from models.tutor.chunks import Chunk

GENERATOR = "openai-compatible"
QUESTIONS_PER_PASSAGE = 2
# MiniLM cosine of "question + answer" to the evidence sentence: a question asking what the sentence
# says scores 0.6 to 1, one on another subject under 0.2 ("Which colour is the sky? true" against "...
# as long as its condition is true": 0.05). The tutor counts 0.35 as on the topic.
ANSWERABLE_SIMILARITY = 0.4
MIN_EVIDENCE_WORDS = 5
MAX_PROMPT_CHARS = 400
MAX_ANSWER_CHARS = 100
OPTIONS = range(3, 6)
BLANKS = re.compile(r"_{3,}")
SYSTEM_PROMPT = (
    "You write practice questions for learners of an online course, from one passage of its material. "
    "Every question must be answered by one sentence of the passage: copy that sentence exactly as its evidence. "
    "Never ask about anything the passage does not say. Reply with JSON only, in this form: "
    '{"questions": [{"kind": "multiple_choice", "prompt": "the question?", "options": ["four", "short", '
    '"options", "..."], "answer": "the right option, word for word", "evidence": "the sentence"}, '
    '{"kind": "cloze", "prompt": "a sentence with the missing words replaced by _____", "options": [], '
    '"answer": "the missing words", "evidence": "the sentence"}]}. '
    "The wrong options of a multiple-choice question must be wrong according to the passage."
)


class Rejected(ValueError):
    """A reply or question the checks turned down; the message says which check."""


@dataclass
class WrittenQuestions:
    questions: list[PracticeQuestion]
    dropped: list[str] = field(default_factory=list)  # why each question the model wrote was not kept


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").lower().split())


def _says(text: str, words: str) -> bool:
    """``words`` appear in ``text`` as whole words (``1`` is not in ``126``), case and code marks aside."""
    return re.search(rf"(?<!\w){re.escape(_plain(words))}(?!\w)", _plain(text)) is not None


def _reply_questions(reply: str) -> list:
    """The list of questions in a reply, from its outermost JSON object (models wrap it in prose or fences)."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        raise Rejected("the reply holds no JSON object")
    found = json.loads(reply[start:end + 1]).get("questions")
    if not isinstance(found, list):
        raise Rejected('the reply has no "questions" list')
    return found


def _text(raw: dict, key: str, limit: int) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Rejected(f"no {key}")
    value = " ".join(value.split())
    if len(value) > limit:
        raise Rejected(f"{key} over {limit} characters")
    return value


def checked_question(raw: object, chunk: Chunk) -> PracticeQuestion:
    """The model's question as a learner gets it, or ``Rejected`` saying which check it failed."""
    if not isinstance(raw, dict):
        raise Rejected("not an object")
    kind = raw.get("kind")
    if kind not in ("cloze", "multiple_choice"):
        raise Rejected(f"kind {kind!r}")
    prompt = _text(raw, "prompt", MAX_PROMPT_CHARS)
    answer = _text(raw, "answer", MAX_ANSWER_CHARS)
    evidence = _text(raw, "evidence", len(chunk.text))
    if len(evidence.split()) < MIN_EVIDENCE_WORDS:
        raise Rejected("the evidence is not a sentence")
    if _plain(evidence).rstrip(".!?") not in _plain(chunk.text):
        raise Rejected("the evidence is not a sentence of the passage")
    if not _says(evidence, answer):
        raise Rejected("the evidence does not say the answer")
    if _says(prompt, answer):
        raise Rejected("the question gives the answer away")
    options: tuple[str, ...] = ()
    if kind == "cloze":
        if len(BLANKS.findall(prompt)) != 1 or raw.get("options"):
            raise Rejected("a cloze question needs one blank and no options")
        prompt = BLANKS.sub(BLANK, prompt)
        stated = prompt.replace(BLANK, answer)
    else:
        given = raw.get("options")
        if not isinstance(given, list) or len(given) not in OPTIONS or not all(
                isinstance(o, str) and o.strip() and len(o) <= MAX_ANSWER_CHARS for o in given):
            raise Rejected(f"a multiple-choice question needs {OPTIONS.start} to {OPTIONS.stop - 1} short options")
        given = [" ".join(o.split()) for o in given]
        if len({normalised(o) for o in given}) != len(given) or [normalised(o) for o in given].count(
                normalised(answer)) != 1:
            raise Rejected("the options are not distinct with the answer once among them")
        if any(_says(evidence, o) for o in given if normalised(o) != normalised(answer)):
            raise Rejected("the evidence says a wrong option too")
        options = tuple(given)
        stated = f"{prompt} {answer}"
    statement, sentence = embed_kept([stated, evidence])
    if float(statement @ sentence) < ANSWERABLE_SIMILARITY:
        raise Rejected("the question and its answer do not mean what the evidence says")
    question_id = hashlib.sha256(f"{chunk.fingerprint}|{kind}|{prompt}|{answer}".encode()).hexdigest()[:16]
    if options:
        options = tuple(stable_order(question_id, list(options)))  # models put the answer first
    return PracticeQuestion(question_id, kind, prompt, options, answer, evidence, chunk, chunk.skills, GENERATOR)


class QuestionWriter:
    """Asks the endpoint for questions on one passage and keeps those that pass every check."""

    def __init__(self, endpoint: ChatEndpoint, *, per_passage: int = QUESTIONS_PER_PASSAGE):
        """``endpoint``: ``ChatEndpoint.configured(settings)``, or one of a test's own."""
        self.endpoint, self.per_passage = endpoint, per_passage

    def messages(self, chunk: Chunk) -> list[dict]:
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Write at most {self.per_passage} questions from this passage of "
                                            f"\"{chunk.section}\":\n\n{chunk.text}"}]

    def write(self, chunk: Chunk) -> WrittenQuestions:
        """Checked questions on the passage; ``ChatCompletionError`` when the endpoint fails."""
        reply = self.endpoint.reply(self.messages(chunk))
        try:
            found = _reply_questions(reply)
        except ValueError as exc:  # Rejected, or json.JSONDecodeError
            return WrittenQuestions([], [f"reply: {exc}"])
        written = WrittenQuestions([])
        for raw in found[:self.per_passage]:
            try:
                question = checked_question(raw, chunk)
            except Rejected as exc:
                written.dropped.append(str(exc))
                continue
            if all(q.question_id != question.question_id for q in written.questions):
                written.questions.append(question)
        return written
