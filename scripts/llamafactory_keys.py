"""Regenerate lora_lint/data/llamafactory_keys.json: every key `llamafactory-cli train` accepts in a config file.

HfArgumentParser(_TRAIN_ARGS).parse_dict raises on any other key (unless ALLOW_EXTRA_ARGS). The keys are the init
fields of LLaMA-Factory's ModelArguments, DataArguments, TrainingArguments (which extends transformers'
Seq2SeqTrainingArguments), FinetuningArguments and GeneratingArguments, read with `ast` from the unpacked wheels
(no import: those modules need LLaMA-Factory's whole stack). transformers is read at LLaMA-Factory's top pin.

    pip download --no-deps llamafactory==0.9.5 transformers==5.6.0 -d /tmp/w   # then unzip both
    python scripts/llamafactory_keys.py /tmp/w/llamafactory /tmp/w/transformers
"""

import ast
import json
import sys
from pathlib import Path

SOURCES = {"hparams/model_args.py": "ModelArguments", "hparams/data_args.py": "DataArguments",
           "hparams/training_args.py": "TrainingArguments", "hparams/finetuning_args.py": "FinetuningArguments",
           "hparams/generating_args.py": "GeneratingArguments"}


def dataclass_fields(files: list[Path], prefix: str = "") -> dict[str, tuple[list[str], list[str]]]:
    """class name -> (bases, own annotated fields), over all the files; `prefix` keeps two packages' names apart."""
    classes = {}
    for path in files:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                own = [stmt.target.id for stmt in node.body if isinstance(stmt, ast.AnnAssign)
                       and isinstance(stmt.target, ast.Name) and not _no_init(stmt)]
                bases = [prefix + (b.id if isinstance(b, ast.Name) else b.attr) for b in node.bases]
                classes[prefix + node.name] = (bases, own)
    return classes


def _no_init(stmt: ast.AnnAssign) -> bool:
    call = stmt.value
    return (isinstance(call, ast.Call) and any(k.arg == "init" and isinstance(k.value, ast.Constant)
                                               and k.value.value is False for k in call.keywords))


def all_fields(name: str, classes: dict) -> list[str]:
    bases, own = classes.get(name, ([], []))
    names = []
    for base in bases:
        names += all_fields(base, classes)
    return names + own


def main(llamafactory: str, transformers: str) -> None:
    lf, tf = Path(llamafactory), Path(transformers)
    classes = dataclass_fields([lf / p for p in SOURCES])
    classes.update(dataclass_fields([tf / "training_args.py", tf / "training_args_seq2seq.py"], "transformers."))
    # LLaMA-Factory's training_args.py imports Seq2SeqTrainingArguments as BaseTrainingArguments.
    classes["BaseTrainingArguments"] = (["transformers.Seq2SeqTrainingArguments"], [])
    keys = {cls: sorted(set(all_fields(cls, classes))) for cls in SOURCES.values()}
    out = Path(__file__).resolve().parent.parent / "lora_lint/data/llamafactory_keys.json"
    out.write_text(json.dumps({"llamafactory": "0.9.5", "transformers": "5.6.0", "keys": keys}, indent=1) + "\n")
    print(out, {cls: len(names) for cls, names in keys.items()})


if __name__ == "__main__":
    main(*sys.argv[1:3])
