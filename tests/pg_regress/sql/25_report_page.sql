-- routing_report as Markdown and as an HTML page: the same steps and numbers as the text,
-- everything from data escaped, refusals, and the bound on a long window's charts.
CREATE EXTENSION webhook_routing;
UPDATE webhook_routing_config SET created_at = '2026-01-09 12:00:00+00';
-- Operators' reasons are text: a table's cell separator, Markdown, and a script.
INSERT INTO webhook_routing_config (percentage, enabled, domain_percentages, action, reason, created_at) VALUES
    (0, true, '{"jobs": 5}',  'rollout_start',    'rollout 1 started: step 1 of 3',              '2026-01-10 09:00:00+00'),
    (0, true, '{"jobs": 10}', 'set_percentage',   'looks good | *raise* to 10% [ok]',            '2026-01-10 13:00:00+00'),
    (0, true, '{"jobs": 5}',  'rollout_rollback', 'rollout 1: rollback 10% → 5% (p95 critical)', '2026-01-10 17:00:00+00'),
    (0, false, '{"jobs": 5}', 'set_enabled',      E'<script>document.title = "owned"</script> & "stop"\nnow', '2026-01-10 18:00:00+00');

CREATE FUNCTION outcomes(domain text, target text, at timestamptz, n int, base int, error_every int DEFAULT 0) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
    SELECT 'whatsapp', domain, target,
           CASE WHEN error_every > 0 AND g % error_every = 0 THEN 'error' ELSE 'success' END,
           base + g % 100, at
    FROM generate_series(1, n) AS g
$$;
SELECT outcomes('jobs', 'legacy', '2026-01-10 08:30+00', 300, 550);
SELECT outcomes('jobs', 'legacy', '2026-01-10 10:00+00', 950, 600), outcomes('jobs', 'unified', '2026-01-10 10:00+00', 50, 700);
SELECT outcomes('jobs', 'legacy', '2026-01-10 14:00+00', 900, 600), outcomes('jobs', 'unified', '2026-01-10 14:00+00', 100, 3400, 20);
SELECT outcomes('jobs', 'legacy', '2026-01-10 17:30+00', 475, 600), outcomes('jobs', 'unified', '2026-01-10 17:30+00', 25, 700);
SELECT outcomes('jobs', 'legacy', '2026-01-10 18:30+00', 400, 600);

-- Markdown, without the line that says until when (now): the steps' table has the text's
-- numbers; the pipe, the emphasis and the brackets are backslashed, the markup made entities,
-- the line break a space.
SELECT line FROM regexp_split_to_table(routing_report('jobs', '2026-01-10 06:00+00', 'markdown'), E'\n') WITH ORDINALITY AS r(line, n)
WHERE line NOT LIKE '%UTC to%' ORDER BY n;
-- Every table row has the header's number of cells (a separator is a pipe not backslashed).
SELECT n, array_length(regexp_split_to_array(regexp_replace(line, '\\\|', '', 'g'), '\|'), 1) - 2 AS cells
FROM regexp_split_to_table(routing_report('jobs', '2026-01-10 06:00+00', 'markdown'), E'\n') WITH ORDINALITY AS r(line, n)
WHERE line LIKE '|%' ORDER BY n;

-- The page: a step line per step, a mark per step's end (the kill switch is "routing off"),
-- the text's numbers in its table, and the reasons as text: no script element anywhere.
CREATE TEMP TABLE page AS SELECT routing_report('jobs', '2026-01-10 06:00+00', 'html') AS html;
SELECT (SELECT count(*) FROM regexp_matches(html, '<line class="step[^"]*" data-step', 'g')) AS steps,
       (SELECT string_agg(m[1], ', ') FROM regexp_matches(html, '<g class="mark ([a-z-]+)"', 'g') AS m) AS marks,
       (SELECT count(*) FROM regexp_matches(html, '<svg ', 'g')) AS charts,
       html ~* '<script' AS has_script,
       position('&lt;script&gt;document.title = &quot;owned&quot;&lt;/script&gt; &amp; &quot;stop&quot;' IN html) > 0 AS reason_as_text,
       html ~ '(src|href)=' AS fetches,
       (regexp_match(html, 'buckets of ([^ ]+ [a-z]+)'))[1] AS bucket_width
FROM page;
SELECT (regexp_match(r, '^data-step="(\d+)"'))[1] AS step,
       (regexp_match(r, 'unified requests">([^<]*)<'))[1] AS unified,
       (regexp_match(r, 'unified error-rate">([^<]*)<'))[1] AS unified_error,
       (regexp_match(r, 'unified p95">([^<]*)<'))[1] AS unified_p95,
       (regexp_match(r, 'legacy requests">([^<]*)<'))[1] AS legacy,
       (regexp_match(r, 'legacy error-rate">([^<]*)<'))[1] AS legacy_error,
       (regexp_match(r, 'legacy p95">([^<]*)<'))[1] AS legacy_p95
FROM page, regexp_split_to_table(html, '<tr ') WITH ORDINALITY AS t(r, n)
WHERE r LIKE 'data-step=%' ORDER BY n;
-- The text report's lines of the same steps, to compare.
SELECT line FROM regexp_split_to_table(routing_report('jobs', '2026-01-10 06:00+00'), E'\n') AS line
WHERE line LIKE '  unified%' OR line LIKE '  legacy%';

-- The escapes alone.
SELECT webhook_routing_html(E'<a href="x">Tom\'s & co</a>') AS html,
       webhook_routing_markdown(E'a|b \\ *c* _d_ `e` [f] ~g~ <h>\r\ni') AS markdown;

-- The bound: buckets as wide as it takes for at most 240 a chart.
SELECT span, webhook_routing_report_width(span) AS width,
       ceil(extract(epoch FROM span) / extract(epoch FROM webhook_routing_report_width(span))) AS buckets
FROM unnest('{1 hour,4 hours,1 day,7 days,30 days,90 days,365 days}'::interval[]) AS span;
-- Thirty days of property's outcomes, one every 20 minutes per target: 3-hour buckets, 240 at
-- most a chart, and a page that stays small.
SELECT count(*) AS outcomes
FROM (SELECT outcomes('property', t.target, now() - interval '30 days' + g * interval '20 minutes', 1, 100 + g % 50, 7)
      FROM generate_series(1, 2150) AS g, unnest(ARRAY['unified', 'legacy']) AS t(target)) AS x;
WITH p AS (SELECT routing_report('property', now() - interval '30 days', 'html') AS html)
SELECT (regexp_match(html, 'buckets of ([^ ]+ [a-z]+)'))[1] AS bucket_width,
       (regexp_match(html, '(\d+) buckets of'))[1]::int BETWEEN 238 AND 241 AS about_240,
       (SELECT max(cardinality(regexp_split_to_array(m[1], '[ML]')) - 1)
        FROM regexp_matches(html, '<path class="series [a-z]+" d="([^"]*)"', 'g') AS m) <= 241 AS points_bounded,
       octet_length(html) < 100000 AS under_100_kb
FROM p;

-- Refusals; readers and admins may render it, the caller role may not.
SELECT routing_report('jobs', '2026-01-10 06:00+00', 'pdf');
SELECT routing_report('jobs', '2026-01-10 06:00+00', NULL);
SELECT routing_report('nosuch', '2026-01-10 06:00+00', 'html');
SET ROLE webhook_routing_reader;
SELECT length(routing_report('jobs', '2026-01-10 06:00+00', 'html')) > 0 AS reader_renders,
       length(routing_report('jobs', '2026-01-10 06:00+00', format => 'markdown')) > 0 AS reader_markdown;
SET ROLE webhook_routing_caller;
SELECT routing_report('jobs', '2026-01-10 06:00+00', 'html');
RESET ROLE;
-- Every report function runs without JIT.
SELECT p.proname, p.proconfig FROM pg_proc AS p
WHERE p.pronamespace = 'webhook_routing'::regnamespace
  AND (p.proname = 'routing_report' OR p.proname LIKE 'webhook_routing_report%')
  AND NOT 'jit=off' = ANY (coalesce(p.proconfig, '{}'))
ORDER BY 1;

DROP FUNCTION outcomes;
DROP EXTENSION webhook_routing;
