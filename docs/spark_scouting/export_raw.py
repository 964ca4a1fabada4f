"""Export DuckDB raw.* to Parquet under SPARKWH/raw.db/<table>/ (one file per table)."""
import sys, pathlib, shutil, duckdb
wh, out = sys.argv[1], pathlib.Path(sys.argv[2]) / "raw.db"
c = duckdb.connect(wh, read_only=True)
for (t,) in c.sql("select table_name from information_schema.tables where table_schema='raw'").fetchall():
    d = out / t
    shutil.rmtree(d, ignore_errors=True); d.mkdir(parents=True)
    c.execute(f"copy raw.{t} to '{d}/part-0.parquet' (format parquet)")
    print(t, c.execute(f"select count(*) from raw.{t}").fetchone()[0])
