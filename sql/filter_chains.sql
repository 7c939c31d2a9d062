--
-- Long chains of comparisons, run through the collection API.  Every literal
-- of a filter is an element of one text[] parameter, and the planner used to
-- copy the whole array for each reference to it: memory quadratic in the
-- filter's length (24,000 terms of id == N ran out of memory at 3 GB).  Now
-- an or chain of == on one field is one = ANY, and each other $1[N] is folded
-- from one reading of the array (src/planner/param_fold.c).  The bound below
-- is on the backend's peak resident memory (VmHWM, Linux), which these
-- queries took to 7 GB before and to less than 400 MB after.
--
\set SHOW_CONTEXT never

SELECT milvus.create_collection('chains', schema => $${"fields": [
  {"name": "id", "type": "INT64", "is_primary": true},
  {"name": "title", "type": "VARCHAR", "max_length": 16},
  {"name": "meta", "type": "JSON"},
  {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}],
  "enable_dynamic_field": true}$$);

SELECT insert_count FROM milvus.insert('chains', (
    SELECT jsonb_agg(jsonb_build_object('id', g, 'title', 't' || g, 'meta', jsonb_build_object('k', g),
                                        'color', 'c' || g, 'v', jsonb_build_array(g, 1)))
      FROM generate_series(1, 2000) g));

-- The ids a filter selects, summed up; and the backend's peak memory so far
CREATE FUNCTION chains_ids(filter text) RETURNS text
LANGUAGE sql AS $$
    SELECT format('%s rows, %s..%s, sum %s', count(*), min(id), max(id), sum(id))
      FROM (SELECT (q ->> 'id')::bigint id
              FROM milvus.query('chains', filter, output_fields => '{id}', "limit" => 16384) q) s
$$;
CREATE FUNCTION chains_peak_ok() RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN peak_kb < 1024 * 1024 THEN 'peak under 1 GB'
                ELSE 'peak ' || peak_kb / 1024 || ' MB' END
      FROM (SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s*(\d+) kB'))[1]::bigint) p(peak_kb)
$$;

-- 24,000 terms each: == on the primary key, a JSON path and a dynamic field
-- (merged); > (not merged: one fold per term); pairs of != and <; strings
SELECT what, octet_length(filter) AS bytes, chains_ids(filter) AS ids, chains_peak_ok() AS memory
FROM (VALUES
    ('id == 24000 or id == 23999 or ... or id == 1',
     (SELECT string_agg('id == ' || g, ' or ' ORDER BY g DESC) FROM generate_series(1, 24000) g)),
    ('meta["k"] == 5 or ...',
     (SELECT string_agg('meta["k"] == ' || (g * 5), ' or ') FROM generate_series(1, 24000) g)),
    ('color == "c7" or ...',
     (SELECT string_agg('color == "c' || (g * 7) || '"', ' or ') FROM generate_series(1, 24000) g)),
    ('id > 1990 or id > 1991 or ...',
     (SELECT string_agg('id > ' || (1989 + g), ' or ') FROM generate_series(1, 24000) g)),
    ('id != 2 and id < 100001 and id != 4 and ...',
     (SELECT string_agg('id != ' || (2 * g) || ' and id < ' || (100000 + g), ' and ')
        FROM generate_series(1, 12000) g)),
    ('title == "t3" or title > "t999990" or ...',
     (SELECT string_agg('title == "t' || (g * 3) || '" or title > "t99999' || g || '"', ' or ')
        FROM generate_series(1, 12000) g))
) v(what, filter);

-- Or-ed pairs of comparisons, which JIT would compile for seconds in gigabytes
-- (the collection API runs filters with jit off; here JIT is on for any cost)
SET jit_above_cost = 0;
SELECT chains_ids((SELECT string_agg('(id == ' || g || ' and title > "t' || (g - 1) || '")', ' or ')
                     FROM generate_series(1, 24000) g)) AS ids,
       chains_peak_ok() AS memory;
RESET jit_above_cost;

-- A template in every term, through search and delete as well
SELECT count(*) FROM milvus.search('chains', '[[1, 1]]', "limit" => 100,
    filter => (SELECT string_agg('id == {a' || g || '}', ' or ') FROM generate_series(1, 24000) g),
    filter_params => (SELECT jsonb_object_agg('a' || g, g * 40) FROM generate_series(1, 24000) g));
SELECT delete_count FROM milvus.delete('chains',
    filter => (SELECT string_agg('id > ' || (1000 + g), ' or ') FROM generate_series(1, 24000) g));
SELECT chains_ids('id >= 0') AS left, chains_peak_ok() AS memory;

-- The fold gives what PostgreSQL's own folding of $1[N] gives: NULL past
-- either end, for a NULL element or array and a NULL subscript; other lower
-- bounds; an array of two dimensions and a subscript that is not a constant
-- are left to the planner
CREATE FUNCTION chains_fold(sql text, params text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    EXECUTE 'SELECT (' || sql || ')::text' INTO r USING params;
    RETURN coalesce(r, 'NULL');
END
$$;
SELECT sql, params, chains_fold(sql, params) AS result
FROM (VALUES
    ('$1[1]', '{a,b,c}'::text[]),
    ('$1[3]', '{a,b,c}'),
    ('$1[4]', '{a,b,c}'),
    ('$1[0]', '{a,b,c}'),
    ('$1[-1]', '{a,b,c}'),
    ('$1[2]', '{a,NULL,c}'),
    ('$1[1]', NULL),
    ('$1[NULL]', '{a,b,c}'),
    ('$1[0]', '[0:2]={x,y,z}'),
    ('$1[3]', '[0:2]={x,y,z}'),
    ('$1[2147483647]', '[-2147483648:-2147483647]={x,y}'),
    ('$1[-2147483647]', '[-2147483648:-2147483647]={x,y}'),
    ('$1[1]', '{}'),
    ('$1[1]', '{{a,b},{c,d}}'),
    ('$1[1][2]', '{{a,b},{c,d}}'),
    ('$1[1:2]', '{a,b,c}'),
    ('$1[length($1[1])]', '{bb,x}'),
    ('($1[1])::bigint + ($1[2])::bigint', '{40,2}'),
    ('(SELECT $1[2] FROM (SELECT $1[1]) s)', '{a,b}')
) v(sql, params);
