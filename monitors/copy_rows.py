"""Writing thousands of rows with PostgreSQL's COPY: what bulk_create does, without its cost
per value. bulk_create prepares each of a row's values through its field (about 35 a
monitor), and at 10,000 monitors that, not the database, was most of a bulk create's time
(docs/benchmarks.md, "Creating monitors in bulk")."""

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models
from psycopg import sql


def assign_ids(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Give unsaved instances their ids from the table's own sequence, in the order given,
    and stamp their auto_now fields, as bulk_create would, before they are written (rows
    that refer to them can be built meanwhile)."""
    if not instances:
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None  # every concrete model has one
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(instances)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    stamped = [
        field
        for field in meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for instance, pk_value in zip(instances, ids, strict=True):
        instance.pk = pk_value
        for field in stamped:
            field.pre_save(instance, add=True)
        instance._state.adding = False
        instance._state.db = connection.alias


def copy_instances(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """COPY instances given their ids by assign_ids into the model's table.

    The values go as the instances hold them: fit for the plain fields of our models and
    django-celery-beat's (text, numbers, booleans, times, JSON), not for fields that
    convert on save (encrypted or file fields, say)."""
    if not instances:
        return
    fields = list(model._meta.concrete_fields)
    json_fields = {index: field.encoder for index, field in enumerate(fields) if isinstance(field, models.JSONField)}
    attnames = [field.attname for field in fields]

    def row(instance: models.Model) -> list:
        values = [getattr(instance, name) for name in attnames]
        for index, encoder in json_fields.items():
            if values[index] is not None:
                values[index] = json.dumps(values[index], cls=encoder)
        return values

    columns = [str(field.column) for field in fields]  # a concrete field has its column
    copy_rows(model._meta.db_table, columns, (row(instance) for instance in instances))


def copy_rows(table: str, columns: list[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` (values in the order of `columns`) into `table`."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    # The raw cursor's COPY raises psycopg's errors: translated to Django's, as any query's
    # are, so callers catch IntegrityError and DatabaseError the one way.
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for values in rows:
            copy.write_row(values)
