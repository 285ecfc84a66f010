"""Column types for loading dslkit's JSONL files with ``datasets.load_dataset("json", ...)``.

``datasets`` infers column types from the values it sees, so the same kind of file can load
with different types: a scene-only rows file has an all-null ``answer`` column (``null``) and a
trace rows file a ``string`` one; a GSM8K trace file is ``int64`` until one answer is a decimal.
Passing these features makes every file of a kind load with one schema, so splits concatenate
and a trainer's collator sees the same types every run::

    import datasets
    from dslkit.train.hf_datasets import row_features
    ds = datasets.load_dataset("json", data_files="rows.jsonl", features=row_features())

Content mappings (scene content.json, different keys per layout family) are a ``Json`` column:
one column type for any shape, decoded back to the mapping.
"""

from __future__ import annotations

from typing import Any

from dslkit._extras import require

__all__ = ["GSM8K_TRACE_COLUMNS", "ROW_COLUMNS", "gsm8k_trace_features", "row_features"]

# Row.to_dict() keys (dslkit.train.data.write_jsonl) -> datasets type name.
ROW_COLUMNS: dict[str, str] = {
    "id": "string",
    "prompt": "string",
    "target": "string",
    "split": "string",
    "family": "string",
    "language": "string",
    "content": "json",  # scene content.json, null for traces
    "answer": "string",  # exact answer text for traces ("72", "2.5"), null for scenes
    "source": "string",
    "surface": "string",
}
# One record of ``python -m trace_dsl gsm8k ... --out`` -> datasets type name.
GSM8K_TRACE_COLUMNS: dict[str, str] = {
    "question": "string",
    "trace": "string",  # canonical trace text, null when the problem did not convert
    "answer": "float64",  # the gold answer; integers are exact in float64 up to 2**53
    "status": "string",
    "grounded_ratio": "float64",
    "failure_category": "string",
}


def _features(columns: dict[str, str]) -> Any:
    datasets: Any = require("datasets", extra="hf", feature="dataset features")
    return datasets.Features(
        {
            name: datasets.Json() if kind == "json" else datasets.Value(kind)
            for name, kind in columns.items()
        }
    )


def row_features() -> Any:
    """``datasets.Features`` of a rows JSONL file (:func:`dslkit.train.data.write_jsonl`)."""
    return _features(ROW_COLUMNS)


def gsm8k_trace_features() -> Any:
    """``datasets.Features`` of a GSM8K trace file (``python -m trace_dsl gsm8k ... --out``)."""
    return _features(GSM8K_TRACE_COLUMNS)
