"""A batch of rows as one parameter of one SQL statement: a JSON array of objects, which
the statement turns back into typed rows with json_to_recordset.

Why not one array per column: Django's psycopg cursors quote parameters into the SQL on
the client, and quoting Python lists as array literals costs several times what json.dumps
takes to write the same row. The writer passes every tick, and its rollup and status rows,
this way (docs/benchmarks.md, "Measured costs behind the code").
"""

import json
from datetime import date


def _iso(value: object) -> str:
    # datetime is a date too. isoformat keeps the microseconds and the UTC offset, so a
    # slot comes back as exactly the instant it was (its tick is unique on it).
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be passed in a batch of rows")


def rows_json(rows: list[dict]) -> str:
    return json.dumps(rows, default=_iso)
