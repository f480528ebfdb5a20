-- route_decision answers every jsonb: 100,000 payloads made from the shared fixtures by
-- replacing, deleting and nesting what the parser reads with junk of every type, then
-- bodies of several MB and deep nesting. A raised error is counted, never hidden.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'fuzz') > 1 AS appended;
SELECT update_routing_percentage(50, 'fuzz') > 1 AS appended;

\set text_jobs `cat tests/fixtures/text_jobs.json`
\set text_property `cat tests/fixtures/text_property.json`
\set button_reply_marketplace `cat tests/fixtures/button_reply_marketplace.json`
\set list_reply_jobs `cat tests/fixtures/list_reply_jobs.json`
\set template_button_insurance `cat tests/fixtures/template_button_insurance.json`
\set location_mobility `cat tests/fixtures/location_mobility.json`
\set image_caption_marketplace `cat tests/fixtures/image_caption_marketplace.json`
\set status_delivered `cat tests/fixtures/status_delivered.json`
CREATE TEMP TABLE seeds AS
SELECT (row_number() OVER () - 1)::int AS i, p
FROM (VALUES (:'text_jobs'::jsonb), (:'text_property'::jsonb), (:'button_reply_marketplace'::jsonb),
             (:'list_reply_jobs'::jsonb), (:'template_button_insurance'::jsonb),
             (:'location_mobility'::jsonb), (:'image_caption_marketplace'::jsonb),
             (:'status_delivered'::jsonb)) AS v(p);

-- Where the parser looks.
CREATE TEMP TABLE paths AS
SELECT (row_number() OVER () - 1)::int AS i, p::text[] AS p
FROM (VALUES ('{object}'), ('{entry}'), ('{entry,0}'), ('{entry,1}'), ('{entry,0,id}'),
             ('{entry,0,changes}'), ('{entry,0,changes,0}'), ('{entry,0,changes,0,field}'),
             ('{entry,0,changes,0,value}'), ('{entry,0,changes,0,value,messaging_product}'),
             ('{entry,0,changes,0,value,metadata}'), ('{entry,0,changes,0,value,contacts}'),
             ('{entry,0,changes,0,value,contacts,0}'), ('{entry,0,changes,0,value,contacts,0,wa_id}'),
             ('{entry,0,changes,0,value,contacts,0,profile,name}'), ('{entry,0,changes,0,value,statuses}'),
             ('{entry,0,changes,0,value,messages}'), ('{entry,0,changes,0,value,messages,0}'),
             ('{entry,0,changes,0,value,messages,1}'), ('{entry,0,changes,0,value,messages,0,from}'),
             ('{entry,0,changes,0,value,messages,0,id}'), ('{entry,0,changes,0,value,messages,0,type}'),
             ('{entry,0,changes,0,value,messages,0,text}'), ('{entry,0,changes,0,value,messages,0,text,body}'),
             ('{entry,0,changes,0,value,messages,0,image}'), ('{entry,0,changes,0,value,messages,0,image,caption}'),
             ('{entry,0,changes,0,value,messages,0,interactive}'),
             ('{entry,0,changes,0,value,messages,0,interactive,type}'),
             ('{entry,0,changes,0,value,messages,0,interactive,button_reply}'),
             ('{entry,0,changes,0,value,messages,0,interactive,button_reply,id}'),
             ('{entry,0,changes,0,value,messages,0,interactive,list_reply,title}'),
             ('{entry,0,changes,0,value,messages,0,button}'), ('{entry,0,changes,0,value,messages,0,button,payload}'),
             ('{entry,0,changes,0,value,messages,0,button,text}'), ('{entry,0,changes,0,value,messages,0,location}'),
             ('{entry,0,changes,0,value,messages,0,context}')) AS v(p);

-- Junk of every jsonb type: numbers beyond double, deep arrays and objects, long and odd text.
CREATE FUNCTION junk(k int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE k % 16
        WHEN 0 THEN 'null'::jsonb
        WHEN 1 THEN 'true'::jsonb
        WHEN 2 THEN to_jsonb(floor(random() * 1e6) - 5e5)
        WHEN 3 THEN '1e400'::jsonb
        WHEN 4 THEN '-123456789012345678901234567890.000000000001'::jsonb
        WHEN 5 THEN '""'::jsonb
        WHEN 6 THEN to_jsonb(repeat(chr(32 + (random() * 90)::int), (random() * 300)::int))
        WHEN 7 THEN to_jsonb('job ' || repeat('é🚀 ', (random() * 50)::int) || 'taxi')
        WHEN 8 THEN '[]'::jsonb
        WHEN 9 THEN '{}'::jsonb
        WHEN 10 THEN (SELECT (repeat('[', d) || '"x"' || repeat(']', d))::jsonb
                      FROM (SELECT 1 + (random() * 300)::int AS d) AS depth)
        WHEN 11 THEN (SELECT jsonb_agg(g) FROM generate_series(1, 1 + (random() * 50)::int) g)
        WHEN 12 THEN (SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 1 + (random() * 50)::int) g)
        WHEN 13 THEN '{"body": {"body": {"body": "job"}}, "id": ["jobs_"], "type": 7}'::jsonb
        WHEN 14 THEN to_jsonb('jobs_' || md5(random()::text))
        ELSE '"\u00e9\n\t\"quoted\" \\ back"'::jsonb
    END
$$;

-- One to three changes to a fixture: replace (or add) a node with junk, or delete it. A
-- change that does not fit the shape (an array index into an object) leaves it as it was.
CREATE FUNCTION mutate(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    path text[];
    pick int;
BEGIN
    FOR step IN 1 .. 1 + (random() * 2)::int LOOP
        pick := floor(random() * (SELECT count(*) FROM paths))::int;
        path := (SELECT x.p FROM paths x WHERE x.i = pick);
        BEGIN
            IF random() < 0.2 THEN
                p := p #- path;
            ELSE
                p := jsonb_set(p, path, junk(floor(random() * 1000)::int), true);
            END IF;
        EXCEPTION WHEN invalid_parameter_value OR invalid_text_representation THEN
            NULL;
        END;
    END LOOP;
    -- Now and then the whole body is junk, or wrapped in something else.
    IF random() < 0.03 THEN
        p := junk(floor(random() * 1000)::int);
    ELSIF random() < 0.03 THEN
        p := jsonb_build_array(p, p);
    END IF;
    RETURN p;
END $$;

-- Decides on each payload; counts answers by reason, and errors (with the first few).
CREATE TEMP TABLE fuzz_errors (n int, sqlstate text, message text, payload text);
CREATE FUNCTION fuzz(payloads int) RETURNS TABLE (reason text, answered bigint) LANGUAGE plpgsql AS $$
DECLARE
    p jsonb;
    r text;
    counts jsonb := '{}';
BEGIN
    FOR n IN 1 .. payloads LOOP
        p := mutate((SELECT s.p FROM seeds s WHERE s.i = n % 8));
        BEGIN
            SELECT d.reason INTO r FROM route_decision(p, log => false) AS d;
            counts := jsonb_set(counts, ARRAY[r], to_jsonb(coalesce((counts ->> r)::bigint, 0) + 1));
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO fuzz_errors SELECT n, SQLSTATE, SQLERRM, left(p::text, 300)
            WHERE (SELECT count(*) FROM fuzz_errors) < 5;
            counts := jsonb_set(counts, '{ERROR}', to_jsonb(coalesce((counts ->> 'ERROR')::bigint, 0) + 1));
        END;
    END LOOP;
    RETURN QUERY SELECT key, value::bigint FROM jsonb_each_text(counts);
END $$;

SELECT setseed(0.2026);
CREATE TEMP TABLE fuzzed AS SELECT * FROM fuzz(100000);
SELECT reason, answered > 0 AS answered FROM fuzzed ORDER BY reason;
SELECT sum(answered) AS payloads, coalesce(sum(answered) FILTER (WHERE reason = 'ERROR'), 0) AS errors,
       count(*) AS distinct_reasons
FROM fuzzed;
SELECT * FROM fuzz_errors;

-- Large and deep: a 4 MB text body, 20,000 messages, 50,000 contacts keys, 5,000 levels.
SELECT label, d.domain, d.routed_to, d.reason
FROM (VALUES
    ('4 MB body', jsonb_set(:'text_jobs'::jsonb, '{entry,0,changes,0,value,messages,0,text,body}',
                           to_jsonb(repeat('looking for a job in kigali ', 150000)))),
    ('20,000 messages', jsonb_set(:'text_jobs'::jsonb, '{entry,0,changes,0,value,messages}',
                           (SELECT jsonb_agg(m) FROM (SELECT (:'text_property'::jsonb) #> '{entry,0,changes,0,value,messages,0}' AS m
                                                      FROM generate_series(1, 20000)) AS x))),
    ('50,000 keys', jsonb_set(:'location_mobility'::jsonb, '{entry,0,changes,0,value,contacts,0}',
                           (SELECT jsonb_object_agg('k' || g, repeat('x', 20)) FROM generate_series(1, 50000) g))),
    ('5,000 levels', jsonb_set(:'text_jobs'::jsonb, '{entry,0,changes,0,value,messages,0,text}',
                           (repeat('{"body":', 5000) || '"job"' || repeat('}', 5000))::jsonb)),
    ('5,000 levels of arrays', (repeat('[', 5000) || :'text_jobs' || repeat(']', 5000))::jsonb)
) AS t(label, payload), route_decision(t.payload, log => false) AS d
ORDER BY label;

-- Nothing was logged by the dry runs.
SELECT count(*) AS logged FROM webhook_routing_logs;

DROP FUNCTION fuzz, mutate, junk;
DROP EXTENSION webhook_routing;
