"""Hugging Face Trainer plus training accuracy, counted from the logits it computes anyway."""

from __future__ import annotations

import torch

# From its module: type checkers resolve the top-level name to transformers' no-torch placeholder.
from transformers.trainer import Trainer


class SentimentTrainer(Trainer):
    """Adds ``train_accuracy`` (since the previous log, over all ranks) to each training log.

    Counts stay on the device between logs: a .item() per step would stall the GPU pipeline.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._train_counts = torch.zeros(2, dtype=torch.long, device=self.args.device)  # correct, seen

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if model.training and "labels" in inputs:
            labels = inputs["labels"]
            correct = (outputs.logits.detach().argmax(dim=-1) == labels).sum()
            self._train_counts += torch.stack([correct, torch.tensor(labels.numel(), device=labels.device)])
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        # Training logs ("loss") are emitted on every rank at the same step, so the reduce is collective-safe.
        if "loss" in logs:
            counts = self.accelerator.reduce(self._train_counts.clone(), reduction="sum")
            if counts[1] > 0:
                logs["train_accuracy"] = round(counts[0].item() / counts[1].item(), 4)
            self._train_counts.zero_()
        super().log(logs, start_time)
