-- Every backend caches the config in force and the rules; a change committed anywhere applies to
-- every backend's next call, even inside its open transaction. A second session through dblink.
CREATE EXTENSION webhook_routing;
CREATE EXTENSION dblink;
SELECT dblink_connect('other', format('dbname=%s host=%s port=%s user=%s', current_database(),
    split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user));
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'
\set call 'SELECT routed_to || '' '' || reason FROM route_decision(''' :jobs ''', log => false)'

SELECT set_routing_enabled(true, 'cache test');
SELECT update_routing_percentage(100, 'cache test');
-- The other session routes (and caches) ...
SELECT * FROM dblink('other', :'call') AS t(decision text);
-- ... this one pulls the kill switch ...
SELECT set_routing_enabled(false, 'kill switch from another session');
-- ... and the other session's next call obeys it.
SELECT * FROM dblink('other', :'call') AS t(decision text);

-- Inside an open transaction of the other session, too.
SELECT set_routing_enabled(true, 'back on');
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT set_routing_enabled(false, 'kill switch while the other session is in a transaction');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT dblink_exec('other', 'COMMIT');

-- Whatever the other session's isolation level. Its transaction's snapshot predates the kill
-- switch: the call that reloads the cache reads the newest config all the same, and no call
-- after it, in the transaction or after it, keeps the old one.
SELECT set_routing_enabled(true, 'back on');
SELECT dblink_exec('other', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT set_routing_enabled(false, 'kill switch under the other session''s REPEATABLE READ snapshot');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT dblink_exec('other', 'COMMIT');
SELECT * FROM dblink('other', :'call') AS t(decision text);

SELECT set_routing_enabled(true, 'back on');
SELECT dblink_exec('other', 'BEGIN ISOLATION LEVEL SERIALIZABLE');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT set_routing_enabled(false, 'kill switch under the other session''s SERIALIZABLE snapshot');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT dblink_exec('other', 'COMMIT');
SELECT * FROM dblink('other', :'call') AS t(decision text);

-- A transaction that took its snapshot before the change and routes for the first time after
-- it (its cache was already stale when it began).
SELECT set_routing_enabled(true, 'back on');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT dblink_exec('other', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('other', 'SELECT count(*) > 0 FROM pg_class') AS t(snapshot_taken boolean);
SELECT set_routing_enabled(false, 'kill switch before the other session''s first call');
SELECT * FROM dblink('other', :'call') AS t(decision text);
SELECT dblink_exec('other', 'COMMIT');
SELECT * FROM dblink('other', :'call') AS t(decision text);

-- An admin change made from an old snapshot builds on the newest committed row: it never turns
-- a concurrent kill switch back on.
SELECT set_routing_enabled(true, 'back on');
SELECT dblink_exec('other', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('other', 'SELECT enabled FROM webhook_routing_config ORDER BY id DESC LIMIT 1') AS t(enabled_in_snapshot boolean);
SELECT set_routing_enabled(false, 'EMERGENCY');
SELECT * FROM dblink('other', 'SELECT update_routing_percentage(50, ''from an old snapshot'') > 0') AS t(appended boolean);
SELECT dblink_exec('other', 'COMMIT');
SELECT percentage, enabled, reason FROM webhook_routing_config ORDER BY id DESC LIMIT 2;
SELECT set_routing_enabled(true, 'back on');
SELECT update_routing_percentage(100, 'cache test');

-- Rules edited by hand reach the other session as well.
SELECT set_routing_enabled(true, 'back on');
UPDATE webhook_routing_rules SET enabled = false WHERE domain = 'jobs' AND match_kind = 'keyword';
SELECT * FROM dblink('other', :'call') AS t(decision text);
UPDATE webhook_routing_rules SET enabled = true WHERE domain = 'jobs';
SELECT * FROM dblink('other', :'call') AS t(decision text);

-- An uncommitted change is not seen by others, and a rolled-back one is forgotten here.
BEGIN;
SELECT update_routing_percentage(0, 'never committed');
SELECT routed_to, reason FROM route_decision(:'jobs', log => false);
SELECT * FROM dblink('other', :'call') AS t(decision text);
ROLLBACK;
SELECT routed_to, reason FROM route_decision(:'jobs', log => false);

SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
DROP EXTENSION webhook_routing;
