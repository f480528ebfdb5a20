\set n random(1, 1000000000)
SELECT * FROM bench_plpgsql_route(pg_catalog.replace(:payload, 'wamid.A1', 'wamid.' || :n)::jsonb, log => false);
