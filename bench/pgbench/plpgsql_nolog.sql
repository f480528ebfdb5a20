SELECT * FROM bench_plpgsql_route(:payload::jsonb, log => false);
