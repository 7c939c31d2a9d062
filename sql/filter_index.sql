--
-- A compiled filter is a real WHERE clause: comparisons of a column with a
-- value are B-tree index quals, array tests and JSON equality / existence
-- on "$meta" are GIN index quals.  Sequential scans are disabled so that a
-- plan shows whether an index can serve the filter at all.  filter_ids()
-- is filter_conformance's.
--

CREATE TABLE filter_ix (
    id bigint PRIMARY KEY,
    age integer,
    name character varying(32),
    tags character varying(16)[],
    "$meta" jsonb
);
INSERT INTO filter_ix
SELECT g, g % 100, 'name' || g, ARRAY['t' || (g % 50), 'u' || (g % 7)],
       jsonb_build_object('color', 'c' || (g % 200), 'n', g)
  FROM generate_series(1, 20000) g;
CREATE INDEX filter_ix_age ON filter_ix (age);
CREATE INDEX filter_ix_name ON filter_ix (name varchar_pattern_ops);
CREATE INDEX filter_ix_tags ON filter_ix USING gin (tags);
CREATE INDEX filter_ix_meta ON filter_ix USING gin ("$meta");
ANALYZE filter_ix;

CREATE FUNCTION filter_ix_schema() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT '{"fields": [{"name": "id", "type": "INT64"}, {"name": "age", "type": "INT32"},
                    {"name": "name", "type": "VARCHAR"},
                    {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR"}],
         "enable_dynamic_field": true}'::jsonb
$$;

-- The indexes (and conditions) the plan of a compiled filter uses, run as
-- the API runs it; the kind of index scan is left out, it is the planner's
CREATE FUNCTION filter_ix_plan(filter text, params jsonb DEFAULT '{}') RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    line text;
    m text[];
BEGIN
    SELECT * INTO c FROM milvus.compile_filter(filter, filter_ix_schema(), params);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM filter_ix WHERE ' || c.sql USING c.params
    LOOP
        m := regexp_match(line, 'Index (?:Only )?Scan (?:using|on) (\S+)');
        IF m IS NOT NULL THEN
            RETURN NEXT 'index ' || m[1];
        ELSIF line ~ 'Seq Scan' THEN
            RETURN NEXT 'no index';
        ELSIF line ~ 'Index Cond' THEN
            RETURN NEXT btrim(line);
        END IF;
    END LOOP;
END
$$;

SET enable_seqscan = off;
SELECT filter, plan
FROM (VALUES
    ('age == 5'),
    ('age > 98'),
    ('10 <= age < 12'),
    ('age in [1, 2, 3]'),
    ('id in {ids}'),
    ('name == "name77"'),
    ('name like "name77%"'),
    ('array_contains(tags, "t7")'),
    ('array_contains_all(tags, ["t7", "u1"])'),
    ('array_contains_any(tags, ["t7", "t8"])'),
    ('color == "c7"'),
    ('$meta["n"] == 77'),
    ('exists color'),
    -- not indexable: an expression of the column, a typed JSON comparison
    ('age + 1 == 5'),
    ('n > 19990')
) v(filter), LATERAL filter_ix_plan(filter, '{"ids": [1, 2, 3]}') plan;
RESET enable_seqscan;

-- the index scans return the right rows
SET enable_seqscan = off;
SELECT filter, cardinality(filter_ids('filter_ix', filter_ix_schema(), filter)) AS count
FROM (VALUES ('age == 5'), ('name like "name77%"'), ('array_contains_all(tags, ["t7", "u1"])'),
             ('color == "c7"'), ('exists color')) v(filter);
RESET enable_seqscan;
