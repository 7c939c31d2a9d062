--
-- Privileges: the API runs with the caller's rights, so table GRANTs and
-- row-level security decide what insert, query, get and search may do, and
-- the catalog lets a role change only the entries of what it owns.
--
\set SHOW_CONTEXT never

-- nothing in the API is SECURITY DEFINER
SELECT count(*) AS security_definer FROM pg_proc
 WHERE pronamespace = 'milvus'::regnamespace AND prosecdef;

CREATE ROLE regress_milvus_owner;
CREATE ROLE regress_milvus_alice;
CREATE ROLE regress_milvus_bob;
GRANT CREATE ON SCHEMA public TO regress_milvus_owner;

SET ROLE regress_milvus_owner;
SELECT milvus.create_collection('shared', schema => '{"enable_dynamic_field": true, "fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "owner", "type": "VARCHAR", "max_length": 64},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}');
SELECT * FROM milvus.insert('shared', '[
    {"id": 1, "owner": "regress_milvus_alice", "v": [1, 0]},
    {"id": 2, "owner": "regress_milvus_alice", "v": [0, 1]},
    {"id": 3, "owner": "regress_milvus_bob", "v": [1, 1]}]');
SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'shared'::regclass;

-- without a GRANT, every data function is refused
SET ROLE regress_milvus_alice;
SELECT sqlstate_of($$SELECT * FROM milvus.search('shared', '[[1, 0]]')$$);
SELECT sqlstate_of($$SELECT * FROM milvus.query('shared', 'id > 0')$$);
SELECT sqlstate_of($$SELECT * FROM milvus.get('shared', '[1]')$$);
SELECT sqlstate_of($$SELECT milvus.get_collection_stats('shared')$$);
SELECT sqlstate_of($$SELECT * FROM milvus.insert('shared', '[{"id": 4, "owner": "x", "v": [1, 0]}]')$$);
SELECT sqlstate_of($$SELECT * FROM milvus.delete('shared', ids => '[1]')$$);
SELECT sqlstate_of($$SELECT milvus.load_collection('shared')$$);
-- the catalog is readable, so the collection can be described
SELECT milvus.describe_collection('shared') -> 'collection_name';

-- nor may another role change what it does not own
SELECT sqlstate_detail_of($$SELECT milvus.drop_collection('shared')$$);
SELECT sqlstate_detail_of($$SELECT milvus.create_partition('shared', 'mine')$$);
SELECT sqlstate_detail_of($$SELECT milvus.create_alias('shared', 'mine')$$);
SELECT sqlstate_detail_of($$SELECT milvus.create_index('shared', 'v', 'FLAT', 'L2')$$);
SELECT sqlstate_detail_of($$SELECT milvus.rename_collection('shared', 'mine')$$);
SELECT sqlstate_detail_of($$SELECT milvus.release_collection('shared')$$);
-- not even by writing to the catalog directly
WITH d AS (DELETE FROM milvus.collections WHERE collection_name = 'shared' RETURNING 1) SELECT count(*) AS deleted FROM d;
WITH u AS (UPDATE milvus.collections SET description = 'hijacked' WHERE collection_name = 'shared' RETURNING 1)
SELECT count(*) AS updated FROM u;
WITH d AS (DELETE FROM milvus.fields WHERE collection_name = 'shared' RETURNING 1) SELECT count(*) AS deleted FROM d;
WITH u AS (UPDATE milvus.databases SET schema_name = 'pg_catalog' RETURNING 1) SELECT count(*) AS updated FROM u;
SELECT sqlstate_of($$INSERT INTO milvus.aliases VALUES ('default', 'mine', 'shared')$$);
SELECT sqlstate_of($$INSERT INTO milvus.collections (db_name, collection_name, relid) VALUES ('default', 'x', 'shared')$$);
SELECT sqlstate_of($$INSERT INTO milvus.collections (db_name, collection_name, relid) VALUES ('default', 'x', 4000000000::oid)$$);
SELECT sqlstate_of($$INSERT INTO milvus.databases VALUES ('x', 'no_such_schema')$$);
RESET ROLE;
SELECT description, (SELECT count(*) FROM milvus.fields WHERE collection_name = 'shared') AS fields,
       (SELECT schema_name FROM milvus.databases WHERE db_name = 'default') AS default_schema
  FROM milvus.collections WHERE collection_name = 'shared';

-- GRANT SELECT: search, query and get work; writing still does not
SET ROLE regress_milvus_owner;
GRANT SELECT ON shared TO regress_milvus_alice, regress_milvus_bob;
SET ROLE regress_milvus_alice;
SELECT * FROM milvus.search('shared', '[[1, 0]]', output_fields => '{owner}');
SELECT * FROM milvus.query('shared', output_fields => '{count(*)}');
SELECT sqlstate_of($$SELECT * FROM milvus.insert('shared', '[{"id": 4, "owner": "x", "v": [1, 0]}]')$$);

-- row-level security applies to every read path
SET ROLE regress_milvus_owner;
ALTER TABLE shared ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON shared USING (owner = current_user);
GRANT INSERT, DELETE ON shared TO regress_milvus_alice;
SET ROLE regress_milvus_alice;
SELECT * FROM milvus.search('shared', '[[1, 1]]', output_fields => '{owner}');
SELECT * FROM milvus.query('shared', 'id > 0', '{owner}');
SELECT * FROM milvus.get('shared', '[1, 2, 3]');
SELECT * FROM milvus.query('shared', output_fields => '{count(*)}');
SELECT * FROM milvus.hybrid_search('shared', '[{"data": [[1, 1]], "anns_field": "v"}]');
-- and to writes: a row for someone else is refused, one's own goes in
SELECT sqlstate_of($$SELECT * FROM milvus.insert('shared', '[{"id": 4, "owner": "regress_milvus_bob", "v": [1, 0]}]')$$);
SELECT * FROM milvus.insert('shared', '[{"id": 4, "owner": "regress_milvus_alice", "v": [0.5, 0.5]}]');
SELECT * FROM milvus.delete('shared', filter => 'id > 0');
SET ROLE regress_milvus_bob;
SELECT * FROM milvus.query('shared', 'id > 0', '{owner}');
RESET ROLE;
SELECT id, owner FROM shared ORDER BY id;

-- the owner drops it; the catalog follows
SET ROLE regress_milvus_owner;
SELECT milvus.drop_collection('shared');
RESET ROLE;
SELECT count(*) FROM milvus.collections;

-- databases: a role needs CREATE on the database to make one, and owns its schema
SET ROLE regress_milvus_alice;
SELECT sqlstate_of($$SELECT milvus.create_database('alice_db')$$);
RESET ROLE;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_milvus_alice', current_database()); END $$;
SET ROLE regress_milvus_alice;
SELECT milvus.create_database('alice_db');
SET ROLE regress_milvus_bob;
SELECT sqlstate_detail_of($$SELECT milvus.drop_database('alice_db')$$);
SET ROLE regress_milvus_alice;
SELECT milvus.drop_database('alice_db');
RESET ROLE;
SELECT * FROM milvus.list_databases();

DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM regress_milvus_alice', current_database()); END $$;
REVOKE CREATE ON SCHEMA public FROM regress_milvus_owner;
DROP ROLE regress_milvus_owner, regress_milvus_alice, regress_milvus_bob;
