import sys, duckdb, pathlib
wh, spark = sys.argv[1], pathlib.Path(sys.argv[2])
c = duckdb.connect(wh, read_only=True)
for d in sorted((spark/"marts.db").iterdir()):
    t = d.name
    try:
        cols = [r[0] for r in c.execute(f"select column_name from information_schema.columns where table_schema='marts' and table_name='{t}' order by ordinal_position").fetchall()]
        s = f"read_parquet('{d}/*.parquet')"
        sc = [r[0] for r in c.execute(f"describe select * from {s}").fetchall()]
        common = [x for x in cols if x in sc]
        sel = ", ".join(f'"{x}"' for x in common)
        a = c.execute(f"select count(*) from (select {sel} from marts.{t} except all select {sel} from {s})").fetchone()[0]
        b = c.execute(f"select count(*) from (select {sel} from {s} except all select {sel} from marts.{t})").fetchone()[0]
        n = c.execute(f"select count(*) from marts.{t}").fetchone()[0]
        print(f"{t:40s} rows={n:6d} only_duckdb={a:5d} only_spark={b:5d} cols_missing={set(cols)-set(sc) or ''}")
    except Exception as e:
        print(t, "ERR", str(e)[:150])
