--
-- Attempts to smuggle SQL through a filter: in strings, JSON path keys,
-- dynamic keys, template values and names, field names and the filter text
-- itself.  Each payload must reach the query only as a parameter value: it
-- never appears in the compiled SQL, and the filter selects exactly the row
-- that holds the payload as data.  filter_ids() is filter_conformance's.
--

CREATE TABLE filter_inj (
    id bigint PRIMARY KEY,
    s character varying(64),
    "select" bigint,
    "Order" character varying(16),
    "user" jsonb,
    "$meta" jsonb
);

CREATE TABLE filter_inj_payloads (n int PRIMARY KEY, payload text);
INSERT INTO filter_inj_payloads VALUES
    (1, $p$x'); DROP TABLE filter_inj; --$p$),
    (2, $p$' OR '1'='1$p$),
    (3, $p$" OR ""="$p$),
    (4, $p$\'; SELECT pg_sleep(10); --$p$),
    (5, $p$$1[1]) OR (true$p$),
    (6, $p$$$; DROP TABLE filter_inj; $$$p$),
    (7, $p$)) OR TRUE OR ((TRUE$p$),
    (8, $p$"); DROP TABLE filter_inj; --$p$),
    (9, $p$*/ OR 1=1 /*$p$),
    (10, E'tab\there, new\nline');

-- row n holds payload n in s, as a key of "user" and of "$meta"
INSERT INTO filter_inj
SELECT n, payload, n, 'o' || n, jsonb_build_object(payload, n), jsonb_build_object(payload, n)
  FROM filter_inj_payloads;
INSERT INTO filter_inj VALUES (100, 'harmless', 100, 'o100', '{}', '{}');

CREATE FUNCTION filter_inj_schema() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT '{"fields": [
    {"name": "id", "type": "INT64"},
    {"name": "s", "type": "VARCHAR"},
    {"name": "select", "type": "INT64"},
    {"name": "Order", "type": "VARCHAR"},
    {"name": "user", "type": "JSON"}],
  "enable_dynamic_field": true}'::jsonb
$$;

-- A string as a Milvus double-quoted literal
CREATE FUNCTION filter_inj_quote(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '"' || replace(replace(replace(replace(s, '\', '\\'), '"', '\"'), E'\n', '\n'), E'\t', '\t') || '"'
$$;

-- The values a compiled filter passes: its parameters, and the elements of
-- those that are lists (a list is one parameter, the text of an array,
-- which the SQL reads through milvus._filter_list)
CREATE FUNCTION filter_inj_values(sql text, params text[]) RETURNS text[]
LANGUAGE sql AS $$
    SELECT params || coalesce(array_agg(e), '{}')
      FROM generate_subscripts(params, 1) i, unnest(params[i]::text[]) e
     WHERE position(format('milvus._filter_list($1[%s],', i) IN sql) > 0
$$;

-- For a filter built around payload n: is the payload absent from the SQL,
-- present among the values passed, and does the filter select row n alone?
CREATE FUNCTION filter_inj_check(filter text, payload text, row_id int, template_values jsonb DEFAULT '{}')
RETURNS TABLE (n int, not_in_sql boolean, is_a_param boolean, selects_only_its_row boolean)
LANGUAGE sql AS $$
    SELECT row_id, position(payload IN c.sql) = 0, payload = ANY (filter_inj_values(c.sql, c.params)),
           filter_ids('filter_inj', filter_inj_schema(), filter, template_values) = ARRAY[row_id::bigint]
      FROM milvus.compile_filter(filter, filter_inj_schema(), template_values) c
$$;

-- strings
SELECT c.* FROM filter_inj_payloads p,
    filter_inj_check('s == ' || filter_inj_quote(p.payload), p.payload, p.n) c ORDER BY n;
-- single-quoted Milvus strings
SELECT c.* FROM filter_inj_payloads p,
    filter_inj_check('s == ''' || replace(replace(p.payload, '\', '\\'), '''', '\''') || '''',
                     p.payload, p.n) c
 WHERE p.payload NOT LIKE E'%\n%' ORDER BY n;
-- like patterns and in-lists
SELECT c.* FROM filter_inj_payloads p,
    filter_inj_check('s like ' || filter_inj_quote(replace(replace(replace(p.payload, '\', '\\'),
                                                                     '%', '\%'), '_', '\_'))
                     || ' and s in [' || filter_inj_quote(p.payload) || ']', p.payload, p.n) c ORDER BY n;
-- JSON path keys, of a JSON field and of the dynamic field
SELECT c.* FROM filter_inj_payloads p,
    filter_inj_check('user[' || filter_inj_quote(p.payload) || '] == ' || p.n, p.payload, p.n) c ORDER BY n;
SELECT c.* FROM filter_inj_payloads p,
    filter_inj_check('$meta[' || filter_inj_quote(p.payload) || '] == ' || p.n
                     || ' and exists $meta[' || filter_inj_quote(p.payload) || ']', p.payload, p.n) c ORDER BY n;
-- template values
SELECT c.* FROM filter_inj_payloads p,
    filter_inj_check('s == {v} and s in {list}', p.payload, p.n,
                     jsonb_build_object('v', p.payload, 'list', jsonb_build_array(p.payload))) c ORDER BY n;

-- what the compiled SQL looks like: the payload is $1[1], nothing else
SELECT * FROM milvus.compile_filter('s == "x''); DROP TABLE filter_inj; --"', filter_inj_schema());
SELECT * FROM milvus.compile_filter('user["x''); DROP TABLE filter_inj; --"] == 1', filter_inj_schema());

-- names cannot carry SQL: identifiers are [A-Za-z_][A-Za-z0-9_]*, and the
-- filter text is not SQL
SELECT filter, sqlstate_detail_of(format('SELECT * FROM milvus.compile_filter(%L, %L)',
                                         filter, filter_inj_schema())) AS error
FROM (VALUES
    ('s == "a" OR 1=1 --'),
    ('s == "a"; DROP TABLE filter_inj'),
    ('s == "a") OR (true'),
    ('s == "a" -- comment'),
    ('s == "a" /* comment */'),
    ('"s" == "a"'),
    ('s"; DROP TABLE filter_inj; --" == 1'),
    ('s == {v''); DROP TABLE filter_inj; --}'),
    ('{v} == 1 or {x"y} == 2'),
    ('$meta["k"]; DROP TABLE filter_inj == 1'),
    ('pg_sleep(10)'),
    ('s == E''a''')
) v(filter);
-- a template name is looked up in filter_params, never used as SQL
SELECT sqlstate_detail_of(format('SELECT * FROM milvus.compile_filter(%L, %L, %L)', 's == {v}',
                                 filter_inj_schema(), '{"v); DROP TABLE filter_inj; --": "a"}')) AS error;

-- field names that are SQL keywords or mixed case are quoted; a field name
-- that is not a Milvus name is refused before anything is compiled
SELECT * FROM milvus.compile_filter('select > 5 and Order == "o7" and user["k"] == 1 and exists k',
                                    filter_inj_schema());
SELECT filter_ids('filter_inj', filter_inj_schema(), 'select >= 9 or Order == "o2"');
SELECT filter_ids('filter_inj', filter_inj_schema(), 'select >= 9 and select in [10, 100]');
SELECT sqlstate_detail_of(format('SELECT * FROM milvus.compile_filter(%L, %L)', 'true',
    '{"fields": [{"name": "a\"; DROP TABLE filter_inj; --", "type": "INT64"}]}')) AS bad_field_name;

-- after all of it, the table is intact
SELECT count(*) FROM filter_inj;
