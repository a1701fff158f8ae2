"""Adapters between the tables users hold in memory and neardup's rows: a list of strings
or of dicts, a pandas or polars DataFrame, a pyarrow Table or dataset (a folder of
Parquet files), a Hugging Face ``datasets.Dataset``. Each adapter reads the text (and id, and any field the keep policy
needs) a slice at a time, never the whole column at once, and gives back the rows it is
asked for in the type that came in, every other column untouched.

No table library is imported unless the input is one of its objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .errors import InputError

#: rows read per slice of a column
SLICE = 8192


class Table:
    """The rows of one input. ``kind`` names its type; ``n`` is the row count."""

    kind = "rows"

    def __init__(self, data: Any):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def columns(self) -> list[str]:
        raise NotImplementedError

    def values(self, name: str) -> Iterator[Any]:
        """The values of column ``name``, row by row, read a slice at a time."""
        raise NotImplementedError

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        """Rows ``rows`` (positions, in order) as the input's type, with ``added``
        columns appended."""
        raise NotImplementedError

    def with_column(self, name: str, values: list) -> Any:
        """The whole input with column ``name`` replaced by ``values``."""
        raise NotImplementedError

    def require(self, name: str, role: str) -> None:
        if name not in self.columns():
            raise InputError(
                f"the {self.kind} has no {name!r} column (columns: "
                f"{', '.join(map(str, self.columns())) or 'none'}); pass {role}=NAME"
            )


class _Strings(Table):
    """A sequence of texts: the text is the row, the id its position."""

    kind = "list of strings"

    def columns(self) -> list[str]:
        return ["text"]

    def values(self, name: str) -> Iterator[Any]:
        return iter(self.data)

    def require(self, name: str, role: str) -> None:
        pass  # the rows are the texts, whatever text_field says

    def with_column(self, name: str, values: list) -> Any:
        return list(values)

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        if not added:
            return [self.data[i] for i in rows.tolist()]
        names = list(added)
        return [
            {"text": self.data[i], **{k: added[k][j] for k in names}}
            for j, i in enumerate(rows.tolist())
        ]


class _Dicts(Table):
    """A sequence of dicts (records)."""

    kind = "list of records"

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self.data[:1000]:  # the fields of the first records
            if isinstance(record, dict):
                seen.update(dict.fromkeys(record))
        return list(seen)

    def values(self, name: str) -> Iterator[Any]:
        for i, record in enumerate(self.data):
            if not isinstance(record, dict):
                raise InputError(f"row {i} is {type(record).__name__}, not a dict")
            yield record.get(name)

    def require(self, name: str, role: str) -> None:
        if self.data and not any(isinstance(r, dict) and name in r for r in self.data[:1000]):
            super().require(name, role)

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        names = list(added or {})
        return [
            {**self.data[i], **{k: added[k][j] for k in names}}  # type: ignore[index]
            for j, i in enumerate(rows.tolist())
        ]

    def with_column(self, name: str, values: list) -> Any:
        return [
            {**r, name: v} if isinstance(r, dict) else r
            for r, v in zip(self.data, values, strict=True)
        ]


class _Pandas(Table):
    kind = "pandas DataFrame"

    def columns(self) -> list[str]:
        return [str(c) for c in self.data.columns]

    def values(self, name: str) -> Iterator[Any]:
        column = self.data[name]
        for start in range(0, len(column), SLICE):
            yield from column.iloc[start : start + SLICE].tolist()

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        out = self.data.iloc[rows]
        return out.assign(**added) if added else out

    def with_column(self, name: str, values: list) -> Any:
        out = self.data.copy(deep=False)
        out[name] = values
        return out


class _Polars(Table):
    kind = "polars DataFrame"

    def columns(self) -> list[str]:
        return list(self.data.columns)

    def values(self, name: str) -> Iterator[Any]:
        column = self.data.get_column(name)
        for start in range(0, len(column), SLICE):
            yield from column.slice(start, SLICE).to_list()

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        import polars as pl

        out = self.data[rows.tolist()] if len(rows) else self.data.clear()
        if added:
            out = out.with_columns([pl.Series(k, v) for k, v in added.items()])
        return out

    def with_column(self, name: str, values: list) -> Any:
        import polars as pl

        return self.data.with_columns(pl.Series(name, values, dtype=self.data.schema[name]))


class _Arrow(Table):
    kind = "pyarrow Table"

    def _table(self):
        return self.data

    def columns(self) -> list[str]:
        return list(self._table().column_names)

    def values(self, name: str) -> Iterator[Any]:
        for chunk in self._table().column(name).chunks:
            for start in range(0, len(chunk), SLICE):
                yield from chunk.slice(start, SLICE).to_pylist()

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        import pyarrow as pa

        out = self.data.take(pa.array(rows, type=pa.int64()))
        for k, v in (added or {}).items():
            out = out.append_column(k, pa.array(v))
        return out

    def with_column(self, name: str, values: list) -> Any:
        import pyarrow as pa

        place = self.data.column_names.index(name)
        kind = self.data.schema.field(name).type
        return self.data.set_column(place, name, pa.array(values, type=kind))


class _Dataset(_Arrow):
    """A Hugging Face Dataset: its Arrow table is read column by column; rows are
    selected with ``Dataset.select`` (an indices mapping, no copy)."""

    kind = "datasets.Dataset"

    def _table(self):
        data = self.data
        if getattr(data, "_indices", None) is not None:  # a selection: flatten it once
            data = data.flatten_indices()
        return data.data.table if hasattr(data.data, "table") else data.data

    def take(self, rows: np.ndarray, added: dict[str, list] | None = None) -> Any:
        if not added:
            return self.data.select(rows.tolist())
        # with columns added: taken from the Arrow table in one step (add_column on a
        # selection would copy the rows once per column), the features kept
        import datasets
        import pyarrow as pa
        from datasets.table import InMemoryTable

        table = self._table().take(pa.array(rows, type=pa.int64()))
        for k, v in added.items():
            table = table.append_column(k, pa.array(v))
        new = datasets.Features.from_arrow_schema(pa.schema([table.schema.field(k) for k in added]))
        features = datasets.Features({**self.data.features, **new})
        return datasets.Dataset(InMemoryTable(table), info=datasets.DatasetInfo(features=features))

    def with_column(self, name: str, values: list) -> Any:
        features, order = self.data.features, self.data.column_names
        out = self.data.remove_columns(name).add_column(name, values, feature=features[name])
        return out.select_columns(order)


class _ArrowDataset(_Arrow):
    """A ``pyarrow.dataset.Dataset`` (a folder of Parquet files, as Hugging Face stores
    datasets): each column is read from the files on its own, batch by batch, and the
    rows asked for come back as a pyarrow Table."""

    kind = "pyarrow dataset"

    def __len__(self) -> int:
        return self.data.count_rows()

    def columns(self) -> list[str]:
        return list(self.data.schema.names)

    def values(self, name: str) -> Iterator[Any]:
        for batch in self.data.to_batches(columns=[name], batch_size=SLICE):
            yield from batch.column(0).to_pylist()

    def with_column(self, name: str, values: list) -> Any:
        return _Arrow(self.data.to_table()).with_column(name, values)


def table_of(data: Any) -> Table:
    """The adapter for ``data``; an error that names what is supported otherwise."""
    module = type(data).__module__.split(".")[0]
    name = type(data).__name__
    if module == "pandas" and name == "DataFrame":
        return _Pandas(data)
    if module == "polars" and name == "DataFrame":
        return _Polars(data)
    if module == "pyarrow" and name == "Table":
        return _Arrow(data)
    if module == "datasets" and name == "Dataset":
        return _Dataset(data)
    if module == "pyarrow" and name in ("FileSystemDataset", "UnionDataset", "InMemoryDataset"):
        return _ArrowDataset(data)
    if module in ("pandas", "polars", "pyarrow", "datasets"):
        raise InputError(
            f"a {module} {name} is not a table neardup reads: pass a DataFrame, a pyarrow "
            "Table or a datasets.Dataset"
        )
    if isinstance(data, str | bytes | dict):
        raise InputError(
            f"neardup.dedup takes a collection of documents, not one {type(data).__name__}: "
            "pass a list of texts, of dicts, or a table"
        )
    if not isinstance(data, Iterable):
        raise InputError(f"cannot read documents from a {name}")
    rows: Sequence = data if isinstance(data, list | tuple) else list(data)
    first = next((r for r in rows if r is not None), None)
    if isinstance(first, dict):
        return _Dicts(rows)
    return _Strings(rows)
