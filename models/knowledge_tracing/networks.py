"""Knowledge-tracing networks. Each predicts, for every row, the probability that the answer is
correct from the learner's history before that row's answer (``group_start``), and gives
per-skill mastery after a whole history.

- ``DKT`` (Piech et al., 2015): an LSTM over (skill, correct) interactions with one output per
  skill; the baseline.
- ``AttentiveDKT``: the same LSTM state, plus attention from the skill to be answered over every
  earlier interaction (keys: their skills; values: skill and outcome), with a learned decay by
  distance (as in AKT, Ghosh et al., 2020), read together by a small network with the skill's
  own embedding. The attention looks back directly at how this learner did on related skills
  however long ago, which an LSTM state blurs.
- ``AKT`` (Ghosh et al., 2020, without its Rasch item terms: these files name skills, not
  questions): a question encoder over the skills asked, a knowledge encoder over the
  (skill, outcome) interactions, and a knowledge retriever that attends from the encoded question
  to the encoded earlier interactions; every attention is monotonic (its scores fall with the
  distance to each earlier row, at a learned rate per head).
"""

import torch
from torch import nn


def state_before_answer(states: torch.Tensor, group_start: torch.Tensor) -> torch.Tensor:
    """For each row, the state after the last row of the previous answer (row ``group_start - 1``)."""
    index = (group_start - 1).clamp(min=0).unsqueeze(-1).expand(-1, -1, states.shape[-1])
    return torch.gather(states, 1, index)


class DKT(nn.Module):
    def __init__(self, n_skills: int, hidden: int = 128, dropout: float = 0.2):
        super().__init__()
        self.n_skills = n_skills
        self.interaction = nn.Embedding(2 * (n_skills + 1), hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_skills + 1)

    def states(self, skills: torch.Tensor, correct: torch.Tensor) -> torch.Tensor:
        states, _ = self.lstm(self.interaction(skills + correct * (self.n_skills + 1)))
        return self.dropout(states)

    def forward(self, skills, correct, group_start) -> torch.Tensor:
        before = state_before_answer(self.states(skills, correct), group_start)
        return torch.gather(self.out(before), 2, skills.unsqueeze(-1)).squeeze(-1)

    def mastery(self, skills, correct, lengths) -> torch.Tensor:
        """(batch, n_skills + 1) probabilities after each whole history (column 0 is padding)."""
        states = self.states(skills, correct)
        last = states[torch.arange(len(lengths)), lengths - 1]
        return torch.sigmoid(self.out(last))


class AttentiveDKT(nn.Module):
    def __init__(self, n_skills: int, hidden: int = 128, dropout: float = 0.2):
        super().__init__()
        self.n_skills = n_skills
        self.dkt = DKT(n_skills, hidden, dropout)
        self.query = nn.Embedding(n_skills + 1, hidden)
        self.key = nn.Embedding(n_skills + 1, hidden)
        self.value = nn.Embedding(2 * (n_skills + 1), hidden)
        self.decay = nn.Parameter(torch.tensor(-2.0))  # softplus(-2) = 0.13 per row of distance
        self.head = nn.Sequential(nn.Linear(3 * hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1))
        self.scale = hidden ** -0.5

    def _context(self, query: torch.Tensor, skills, correct, visible: torch.Tensor, distance: torch.Tensor):
        scores = torch.einsum("bqh,bkh->bqk", query, self.key(skills)) * self.scale
        scores = scores - nn.functional.softplus(self.decay) * distance
        scores = scores.masked_fill(~visible, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1) * visible.any(-1, keepdim=True)
        return torch.einsum("bqk,bkh->bqh", weights, self.value(skills + correct * (self.n_skills + 1)))

    def forward(self, skills, correct, group_start) -> torch.Tensor:
        length = skills.shape[1]
        positions = torch.arange(length, device=skills.device)
        visible = positions.view(1, 1, -1) < group_start.unsqueeze(-1)  # only rows before the answer
        distance = (positions.view(-1, 1) - positions.view(1, -1)).clamp(min=0).float().unsqueeze(0)
        query = self.query(skills)
        context = self._context(query, skills, correct, visible, distance)
        before = state_before_answer(self.dkt.states(skills, correct), group_start)
        return self.head(torch.cat([before, query, context], dim=-1)).squeeze(-1)

    def mastery(self, skills, correct, lengths) -> torch.Tensor:
        batch, length = skills.shape
        states = self.dkt.states(skills, correct)
        last = states[torch.arange(batch), lengths - 1]
        every_skill = torch.arange(self.n_skills + 1, device=skills.device)
        query = self.query(every_skill).unsqueeze(0).expand(batch, -1, -1)
        positions = torch.arange(length, device=skills.device)
        visible = (positions.view(1, 1, -1) < lengths.view(-1, 1, 1)).expand(-1, self.n_skills + 1, -1)
        distance = (lengths.view(-1, 1, 1) - positions.view(1, 1, -1)).clamp(min=0).float()
        context = self._context(query, skills, correct, visible, distance)
        hidden = torch.cat([last.unsqueeze(1).expand(-1, self.n_skills + 1, -1), query, context], dim=-1)
        return torch.sigmoid(self.head(hidden).squeeze(-1))


class MonotonicAttention(nn.Module):
    """Multi-head attention (AKT's: queries and keys share one projection) whose scores fall by a learned
    rate per head times the distance to each row, then a feed-forward layer; residuals and layer norms."""

    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.query_key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.decay = nn.Parameter(torch.full((heads,), -2.0))
        self.feed_forward = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(), nn.Dropout(dropout),
                                          nn.Linear(2 * hidden, hidden))
        self.norms = nn.ModuleList([nn.LayerNorm(hidden), nn.LayerNorm(hidden)])
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        return x.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)

    def forward(self, query, key, value, visible: torch.Tensor, distance: torch.Tensor) -> torch.Tensor:
        """``visible`` and ``distance``: (batch or 1, queries, keys); a query that sees no row attends to none."""
        q, k, v = self._split(self.query_key(query)), self._split(self.query_key(key)), self._split(self.value(value))
        scores = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5
        scores = scores - nn.functional.softplus(self.decay).view(1, -1, 1, 1) * distance.unsqueeze(1)
        scores = scores.masked_fill(~visible.unsqueeze(1), torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1) * visible.unsqueeze(1).any(-1, keepdim=True)
        attended = (weights @ v).transpose(1, 2).reshape(query.shape)
        x = self.norms[0](query + self.dropout(self.out(attended)))
        return self.norms[1](x + self.dropout(self.feed_forward(x)))


class AKT(nn.Module):
    def __init__(self, n_skills: int, hidden: int = 128, dropout: float = 0.2, heads: int = 4):
        super().__init__()
        self.n_skills = n_skills
        self.question = nn.Embedding(n_skills + 1, hidden)
        self.interaction = nn.Embedding(2 * (n_skills + 1), hidden)
        self.question_encoder = MonotonicAttention(hidden, heads, dropout)
        self.knowledge_encoder = MonotonicAttention(hidden, heads, dropout)
        self.retriever = MonotonicAttention(hidden, heads, dropout)
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1))

    def _encode(self, skills, correct) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each row's question and interaction, encoded from the rows up to it (itself included)."""
        positions = torch.arange(skills.shape[1], device=skills.device)
        up_to = (positions.view(-1, 1) >= positions.view(1, -1)).unsqueeze(0)
        distance = (positions.view(-1, 1) - positions.view(1, -1)).clamp(min=0).float().unsqueeze(0)
        questions = self.question(skills)
        interactions = self.interaction(skills + correct * (self.n_skills + 1))
        return (self.question_encoder(questions, questions, questions, up_to, distance),
                self.knowledge_encoder(interactions, interactions, interactions, up_to, distance), distance)

    def forward(self, skills, correct, group_start) -> torch.Tensor:
        questions, knowledge, distance = self._encode(skills, correct)
        positions = torch.arange(skills.shape[1], device=skills.device)
        visible = positions.view(1, 1, -1) < group_start.unsqueeze(-1)  # only rows before the answer
        retrieved = self.retriever(questions, questions, knowledge, visible, distance)
        return self.head(torch.cat([retrieved, self.question(skills)], dim=-1)).squeeze(-1)

    def mastery(self, skills, correct, lengths) -> torch.Tensor:
        """Each skill asked as the next row after the history: the same path as ``forward``."""
        batch, length = skills.shape
        questions, knowledge, _ = self._encode(skills, correct)
        every_skill = self.question(torch.arange(self.n_skills + 1, device=skills.device)).unsqueeze(0)
        every_skill = every_skill.expand(batch, -1, -1)
        positions = torch.arange(length, device=skills.device)
        history = (positions.view(1, 1, -1) < lengths.view(-1, 1, 1)).expand(-1, self.n_skills + 1, -1)
        distance = (lengths.view(-1, 1, 1) - positions.view(1, 1, -1)).clamp(min=0).float()
        distance = distance.expand(-1, self.n_skills + 1, -1)
        itself = torch.eye(self.n_skills + 1, dtype=torch.bool, device=skills.device).unsqueeze(0).expand(batch, -1, -1)
        asked = self.question_encoder(every_skill, torch.cat([self.question(skills), every_skill], 1),
                                      torch.cat([self.question(skills), every_skill], 1),
                                      torch.cat([history, itself], -1),
                                      torch.cat([distance, torch.zeros_like(itself, dtype=distance.dtype)], -1))
        retrieved = self.retriever(asked, questions, knowledge, history, distance)
        return torch.sigmoid(self.head(torch.cat([retrieved, every_skill], dim=-1)).squeeze(-1))


NETWORKS = {"dkt": DKT, "attentive_dkt": AttentiveDKT, "akt": AKT}
