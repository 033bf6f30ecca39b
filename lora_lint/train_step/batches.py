"""The batch one step trains on: synthetic tokens shaped for the model's task, or a few real rows (--data FILE)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

BATCH = 2
SEQUENCE = 16
DATA_ROWS = 4  # rows of --data used for the step
# Token ids the synthetic batch avoids: the miniature puts special tokens at both ends of its vocabulary.
_SPECIAL_MARGIN = 16


class DataError(Exception):
    """--data cannot give a batch; the message says why."""


def task_of(model_class: str) -> str:
    """The training objective of a concrete model class, as the trainer would compute its loss."""
    for suffix, task in (("ForCausalLM", "causal_lm"), ("LMHeadModel", "causal_lm"),
                         ("ForConditionalGeneration", "seq2seq"), ("ForSeq2SeqLM", "seq2seq"),
                         ("ForSequenceClassification", "seq_cls"), ("ForTokenClassification", "token_cls"),
                         ("ForQuestionAnswering", "question_ans"), ("ForMaskedLM", "masked_lm")):
        if model_class.endswith(suffix):
            return task
    return "features"  # a bare backbone (BertModel, BartModel): no head, no loss of its own


def synthetic_batch(model: Any, task: str, seed: int = 0) -> dict:
    import torch

    config = model.config
    vocab = config.get_text_config().vocab_size if hasattr(config, "get_text_config") else config.vocab_size
    generator = torch.Generator().manual_seed(seed)
    low, high = (_SPECIAL_MARGIN, vocab - _SPECIAL_MARGIN) if vocab > 4 * _SPECIAL_MARGIN else (0, vocab)
    ids = torch.randint(low, high, (BATCH, SEQUENCE), generator=generator)
    eos = getattr(config, "eos_token_id", None)
    if task == "seq_cls" and isinstance(eos, int):
        ids[:, -1] = eos  # encoder-decoder classifiers (BART, T5) pool the hidden state at each row's <eos>
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    return _with_labels(batch, model, task, generator)


def data_batch(path: Path, model: Any, task: str, tokenizer: Any) -> dict:
    """A batch from the first rows of a JSON Lines, JSON or CSV file of the training data: every row's string
    fields joined, tokenized by the checkpoint's own tokenizer, labels as for the synthetic batch."""
    import torch

    texts = [_row_text(row) for row in _rows(path)[:DATA_ROWS]]
    texts = [text for text in texts if text]
    if not texts:
        raise DataError(f"{path}: no row with text in it")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    encoded = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=128)
    batch = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    return _with_labels(batch, model, task, torch.Generator().manual_seed(0))


def _with_labels(batch: dict, model: Any, task: str, generator: Any) -> dict:
    import torch

    ids = batch["input_ids"]
    config = model.config
    if task in ("causal_lm", "masked_lm"):
        batch["labels"] = ids.masked_fill(batch["attention_mask"] == 0, -100)
    elif task == "seq2seq":
        batch["labels"] = ids.flip(1)
    elif task == "seq_cls":
        batch["labels"] = torch.randint(0, config.num_labels, (ids.shape[0],), generator=generator)
    elif task == "token_cls":
        batch["labels"] = torch.randint(0, config.num_labels, ids.shape, generator=generator)
    elif task == "question_ans":
        batch["start_positions"] = torch.randint(0, ids.shape[1], (ids.shape[0],), generator=generator)
        batch["end_positions"] = torch.randint(0, ids.shape[1], (ids.shape[0],), generator=generator)
    return batch


def fit_for_task(model: Any, task: str) -> Any:
    """What a trainer sets on the model for its task. Decoder classifiers pool the last non-pad token and refuse
    batches without a pad token id, which trainers take from the tokenizer; the synthetic batch holds no padding,
    so any id outside the batch does."""
    if task == "seq_cls" and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = 0
    return model


def loss_of(outputs: Any, task: str) -> Any:
    """The scalar the trainer minimises. A bare backbone has none, so the step minimises its output's mean square,
    over every output (hidden states, pooled output), which reaches every parameter an output depends on."""
    if task == "features":
        import torch

        tensors = [value for value in outputs.values() if torch.is_tensor(value) and value.is_floating_point()]
        return sum(value.float().pow(2).mean() for value in tensors)
    return outputs.loss


def _rows(path: Path) -> list:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return list(csv.DictReader(text.splitlines()))
        if suffix == ".json":
            data = json.loads(text)
            return data if isinstance(data, list) else [data]
        return [json.loads(line) for line in text.splitlines()[:DATA_ROWS * 4] if line.strip()]
    except (json.JSONDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is not JSON Lines, JSON or CSV: {exc}") from None


def _row_text(row: Any) -> str:
    if isinstance(row, str):
        return row
    if isinstance(row, dict):
        return "\n".join(str(value) for value in row.values() if isinstance(value, str) and value)
    return ""
