"""The back-test at scale: filter patterns compiled to SQL over AWS's CloudTrail table.

`compile_predicate(pattern, dialect)` turns a JSON filter pattern into a SQL boolean over one row
of the documented Athena table for CloudTrail logs, for DuckDB (the local engine) or Athena (Trino),
or raises `SqlRefusal` naming why it cannot keep the pattern's meaning; `trailguard.sql.table`
holds that table as data and loads records into DuckDB. Needs the `sql` extra (duckdb, sqlglot);
the core never imports this package.
"""

from .compile import DIALECTS, REFUSALS, SqlRefusal, compile_predicate, predicate_expression
from .table import CLOUDTRAIL_COLUMNS, create_table, load_records

__all__ = ["compile_predicate", "predicate_expression", "SqlRefusal", "REFUSALS", "DIALECTS", "CLOUDTRAIL_COLUMNS",
           "create_table", "load_records"]
