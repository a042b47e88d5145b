"""Statements the console reads on every request, compiled once and run on the driver's cursor.

Run through ``Connection.execute``, a history page's one statement costs half again its SQL:
SQLAlchemy keys its statement cache, builds an execution context, dispatches events and wraps
the cursor in a ``Result`` on every call, each a few dozen microseconds, as much as SQLite
takes to answer. A ``Prepared`` does that work once per statement and database: the SQL text
and parameter order SQLAlchemy compiled for the dialect, and each column's and parameter's
type processors (the same ``UTCDateTime`` conversions, taken from SQLAlchemy's types); each
call then hands its parameters to the DB-API cursor of the pooled connection and converts the
few typed columns of the rows that come back. Only SELECTs go this way: writes keep the
engine's transactions. ``tests/store/test_prepared.py`` holds every such statement's rows equal
to what ``Connection.execute`` returns, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

Convert = Callable[[Any], Any]


class Prepared:
    """One SELECT compiled for one dialect; ``rows`` runs it on a connection of that dialect."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        # render_postcompile: an IN over a literal list becomes its own parameters, fixed here.
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler)
        self.statement = statement
        self.sql = str(compiled)
        self._compiled = compiled
        # None for a named paramstyle (psycopg's %(name)s): the parameters go as a mapping.
        self._order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup is not None else None
        )
        self._binders: dict[str, Convert] = {}
        for name, bind in compiled.binds.items():
            binder = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if binder is not None:
                self._binders[name] = binder
        self._readers: list[tuple[int, Convert]] = []
        for index, column in enumerate(statement.selected_columns):
            reader = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if reader is not None:
                self._readers.append((index, reader))

    def parameters(self, values: Mapping[str, Any] | None) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: SQLAlchemy's own (a LIMIT's offset, literal values) with
        ``values`` over them, each through its type's bind processor."""
        given = self._compiled.construct_params(dict(values or {}))
        for name, binder in self._binders.items():
            if name in given and given[name] is not None:
                given[name] = binder(given[name])
        if self._order is None:
            return dict(given)
        return tuple(given[name] for name in self._order)

    def rows(
        self, conn: Connection, values: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Every row, each column as ``Connection.execute`` would give it. Driver errors are
        raised as they are: ``StoreBase._guard`` turns them into the store's errors."""
        parameters = self.parameters(values)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            listeners = conn.dispatch.before_cursor_execute
            if listeners:  # whoever watches the engine's statements (tests count them) sees these
                listeners(conn, cursor, self.sql, parameters, None, False)
            cursor.execute(self.sql, parameters)
            found = cursor.fetchall()
        finally:
            cursor.close()
        if not self._readers:
            return [tuple(row) for row in found]
        readers = self._readers
        converted = []
        for row in found:
            values_out = list(row)
            for index, reader in readers:
                values_out[index] = reader(values_out[index])
            converted.append(tuple(values_out))
        return converted
