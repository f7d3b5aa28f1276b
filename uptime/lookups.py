"""`field__any=[...]`: `field = ANY(%s)`, the list passed as one array parameter.

Django compiles `field__in=[...]` into one placeholder per value, and that compiling is a
cost per id on every batch the outcome writer records (docs/benchmarks.md, "Measured costs
behind the code"). An array is one parameter, whatever its length; PostgreSQL turns an IN
list into the same `= ANY` test.
"""

from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    # The list goes to the driver as it is; the fields' per-value preparation is what we skip.
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Typed as the column: psycopg would type a list of small ints as smallint[].
        return f"{lhs} = ANY(%s::{self.lhs.output_field.db_type(connection)}[])", [*lhs_params, list(self.rhs)]
