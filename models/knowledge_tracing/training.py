"""Training and prediction with PyTorch Lightning.

``fit`` trains one network on training sequences, keeps the weights of the epoch with the
best validation AUC (early stopping), and returns a ``KnowledgeTracer``: the trained network
with the skill count, ready to predict rows and per-skill mastery. With ``processes`` above one
it trains data-parallel (Lightning's DDP over gloo, on the CPU): the path to several machines.
"""

import copy
import logging
import time
from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.strategies import DDPStrategy
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from models.knowledge_tracing.batching import LengthBuckets, SequenceDataset, collate
from models.knowledge_tracing.data import Sequence
from models.knowledge_tracing.networks import NETWORKS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    network: str = "dkt"
    hidden: int = 128
    dropout: float = 0.2
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 12
    patience: int = 3
    window: int = 100  # long histories are cut into windows of this many rows (see ``windows``)
    seed: int = 0


def windows(sequences: list[Sequence], size: int, *, context: bool = False) -> list[Sequence]:
    """Cut each history into consecutive windows of ``size`` rows; each window starts afresh.

    Measured on ASSISTments 2009, an LSTM trained on windows of 100 rows predicts better than
    one that carries its state over a thousand rows: what a learner did recently matters most.
    For training, windows do not overlap. For prediction (``context=True``) each window also
    reads the ``size`` rows before it without scoring them, so every row is scored exactly
    once, with at least ``size`` rows of history when there are that many: the same rows as a
    model that reads whole histories, which makes the models comparable and averageable.
    """
    return [window for _, _, window in _windows(sequences, size, context=context)]


def _windows(sequences: list[Sequence], size: int, *, context: bool):
    """(sequence index, first row, window) for every window of every sequence."""
    for index, s in enumerate(sequences):
        if size <= 0:
            yield index, 0, s
            continue
        for start in range(0, len(s.skills), size):
            begin, stop = (max(0, start - size) if context else start), start + size
            yield index, begin, Sequence(s.skills[begin:stop], s.correct[begin:stop],
                                         np.maximum(s.group_start[begin:stop] - begin, 0), score_from=start - begin)


class KnowledgeTracingModule(L.LightningModule):
    def __init__(self, n_skills: int, config: TrainingConfig):
        super().__init__()
        self.config = config
        self.network = NETWORKS[config.network](n_skills, config.hidden, config.dropout)
        self._validation: list[tuple[np.ndarray, np.ndarray]] = []

    def forward(self, batch):
        return self.network(batch["skills"], batch["correct"], batch["group_start"])

    def training_step(self, batch, batch_index):
        logits = self(batch)[batch["scored"]]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["correct"][batch["scored"]].float())
        self.log("train_loss", loss, prog_bar=True, batch_size=int(batch["scored"].sum()))
        return loss

    def validation_step(self, batch, batch_index):
        probability = torch.sigmoid(self(batch)[batch["scored"]])
        self._validation.append((probability.cpu().numpy(), batch["correct"][batch["scored"]].cpu().numpy()))

    def on_validation_epoch_end(self):
        parts, self._validation = self._validation, []
        if torch.distributed.is_available() and torch.distributed.is_initialized():  # every process's share
            shares: list = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(shares, parts)
            parts = [part for share in shares for part in share]
        if not parts:
            return
        probability = np.concatenate([p for p, _ in parts])
        labels = np.concatenate([y for _, y in parts])
        auc = roc_auc_score(labels, probability) if len(set(labels.tolist())) == 2 else 0.5
        self.log("val_auc", float(auc), prog_bar=True)  # the same in every process: computed on all of them

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.config.learning_rate)

    def on_before_optimizer_step(self, optimizer):
        torch.nn.utils.clip_grad_norm_(self.parameters(), 1.0)


class KeepBestWeights(L.Callback):
    """Early stopping that restores the best epoch's weights, held in memory (no checkpoint files).

    With ``stop_at`` (a ``time.monotonic()`` deadline) training also stops once another epoch,
    as long as the last one, would end past it; the first epoch always runs.
    """

    def __init__(self, patience: int, *, stop_at: float | None = None):
        self.patience, self.best, self.best_state, self.best_epoch, self.waited = patience, -1.0, None, -1, 0
        self.stop_at, self.out_of_time = stop_at, False
        self._epoch_started = time.monotonic()

    def on_train_epoch_start(self, trainer, module):
        self._epoch_started = time.monotonic()

    def on_validation_end(self, trainer, module):
        # Not on_validation_epoch_end: Lightning runs callbacks' epoch-end hooks before the module's,
        # which is where this epoch's val_auc is logged.
        if trainer.sanity_checking:
            return
        auc = float(trainer.callback_metrics.get("val_auc", -1.0))
        if auc > self.best:
            self.best, self.best_epoch, self.waited = auc, trainer.current_epoch, 0
            self.best_state = copy.deepcopy(module.state_dict())
        else:
            self.waited += 1
            if self.waited >= self.patience:
                trainer.should_stop = True
        now = time.monotonic()
        late = self.stop_at is not None and now + (now - self._epoch_started) > self.stop_at
        if trainer.strategy.reduce_boolean_decision(late, all=False):  # every process stops at the same epoch
            self.out_of_time = not trainer.should_stop and trainer.current_epoch + 1 < trainer.max_epochs
            trainer.should_stop = True

    def on_fit_end(self, trainer, module):
        if self.best_state is not None:
            module.load_state_dict(self.best_state)
        # What this callback found, as metrics: they reach the main process when training ran in others.
        trainer.callback_metrics.update(best_val_auc=torch.tensor(self.best), best_epoch=torch.tensor(self.best_epoch),
                                        out_of_time=torch.tensor(self.out_of_time))


@dataclass
class KnowledgeTracer:
    """A trained network and what it was trained with."""

    module: KnowledgeTracingModule
    n_skills: int
    config: TrainingConfig
    best_epoch: int
    validation_auc: float
    out_of_time: bool = False  # training stopped at its deadline, not by early stopping or max_epochs

    def predict(self, sequences: list[Sequence]) -> tuple[np.ndarray, np.ndarray]:
        """(probability, label) of every scored row, sequence by sequence and row by row.

        The order does not depend on the window size, so two tracers' predictions line up.
        """
        self.module.eval()
        pieces = list(_windows(sequences, self.config.window, context=True))
        predicted = [np.full(len(s.skills), np.nan) for s in sequences]
        order = sorted(range(len(pieces)), key=lambda j: len(pieces[j][2].skills))
        size = self.config.batch_size * 2
        with torch.no_grad():
            for chunk in (order[i:i + size] for i in range(0, len(order), size)):
                batch = collate([pieces[j][2] for j in chunk])
                probability = torch.sigmoid(self.module(batch)).numpy()
                scored = batch["scored"].numpy()
                for row, j in enumerate(chunk):
                    index, begin, window = pieces[j]
                    n = len(window.skills)
                    rows = np.flatnonzero(scored[row, :n])
                    predicted[index][begin + rows] = probability[row, rows]
        keep = [~np.isnan(p) for p in predicted]
        return (np.concatenate([p[k] for p, k in zip(predicted, keep, strict=True)]),
                np.concatenate([s.correct[k] for s, k in zip(sequences, keep, strict=True)]))

    def mastery(self, sequence: Sequence) -> dict[int, float]:
        """Probability of answering each skill correctly next, after this learner's history."""
        recent = windows([sequence], self.config.window, context=True)[-1] if len(sequence.skills) else sequence
        self.module.eval()
        with torch.no_grad():
            if not len(recent.skills):  # no history: the network's prior for a new learner
                recent = Sequence(np.array([0]), np.array([0]), np.array([0]))
            batch = collate([recent])
            probability = self.module.network.mastery(batch["skills"], batch["correct"],
                                                      torch.tensor([len(recent.skills)]))[0].numpy()
        return {skill: float(probability[skill]) for skill in range(1, self.n_skills + 1)}


def _loader(sequences: list[Sequence], batch_size: int, *, shuffle: bool, seed: int = 0) -> DataLoader:
    dataset = SequenceDataset(sequences)
    return DataLoader(dataset, batch_sampler=LengthBuckets(dataset, batch_size, shuffle=shuffle, seed=seed),
                      collate_fn=collate)


def fit(train: list[Sequence], valid: list[Sequence], n_skills: int, config: TrainingConfig, *,
        progress: bool = False, stop_at: float | None = None, processes: int = 1) -> KnowledgeTracer:
    """Train one network; with ``stop_at`` (``time.monotonic()``), no epoch starts that would end past it.

    With ``processes`` > 1: data-parallel in that many processes started here (DDP, gloo), each on its share of
    every step's batch (``LengthBuckets``), gradients averaged at every step; the weights come back to this
    process.
    Across machines the same strategy runs under ``torchrun`` (one process per node).
    """
    L.seed_everything(config.seed, workers=True, verbose=False)
    module = KnowledgeTracingModule(n_skills, config)
    keep_best = KeepBestWeights(config.patience, stop_at=stop_at)
    # The progress bar goes to stderr, so that stdout stays the command's JSON.
    bar = [RichProgressBar(console_kwargs={"stderr": True})] if progress else []
    parallel = {"devices": 1} if processes == 1 else {
        "devices": processes, "strategy": DDPStrategy(process_group_backend="gloo", start_method="spawn"),
        "use_distributed_sampler": False}  # LengthBuckets shares the batches out itself
    trainer = L.Trainer(max_epochs=config.max_epochs, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=progress, enable_model_summary=False,
                        num_sanity_val_steps=0, callbacks=[keep_best, *bar], deterministic=True, **parallel)
    # Each process takes a share of every step's batch, so a step averages the same number of sequences
    # (and an epoch takes the same number of steps) as in one process: the learning rate still fits.
    per_process = max(1, config.batch_size // processes)
    trainer.fit(module, _loader(windows(train, config.window), per_process, shuffle=True, seed=config.seed),
                _loader(windows(valid, config.window), config.batch_size * 2, shuffle=False))
    found = trainer.callback_metrics  # KeepBestWeights's findings, also from processes started for DDP
    best, best_epoch, out_of_time = float(found["best_val_auc"]), int(found["best_epoch"]), bool(found["out_of_time"])
    log.info("%s: best validation AUC %.4f at epoch %d%s", config.network, best, best_epoch,
             " (stopped by the time budget)" if out_of_time else "")
    return KnowledgeTracer(module, n_skills, config, best_epoch, best, out_of_time)
