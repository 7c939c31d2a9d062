--
-- Memory for parsing and compiling a filter grows linearly with its length.
-- milvus._filter_memory parses and compiles in a memory context of its own
-- and returns the bytes it holds at the end (the tree, the SQL and the
-- parameters); its parser may take max_bytes and no more, so a parser that
-- needed much more fails with "out of memory" here instead of taking the
-- server's memory.  The bound is 128 bytes per byte of filter, 128 MiB for
-- the longest (1 MiB); a parser that copied the rest of the input for each
-- string took gigabytes for these.
--

CREATE FUNCTION filter_memory_ok(filter text, schema jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    bound bigint := 128 * octet_length(filter);
    used bigint;
BEGIN
    IF octet_length(filter) NOT BETWEEN 900 * 1024 AND 1024 * 1024 THEN
        RETURN format('the filter is %s bytes, not about 1 MiB', octet_length(filter));
    END IF;
    used := milvus._filter_memory(filter, schema, bound);
    RETURN CASE WHEN used <= bound THEN 'within 128 bytes per byte'
                ELSE format('%s bytes per byte', round(used::numeric / octet_length(filter), 1)) END;
EXCEPTION WHEN out_of_memory THEN
    RETURN 'the parse took more than 128 bytes per byte';
END
$$;

CREATE FUNCTION filter_memory_schema() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT '{"fields": [
    {"name": "id", "type": "INT64"},
    {"name": "title", "type": "VARCHAR"},
    {"name": "meta", "type": "JSON"},
    {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR"}],
  "enable_dynamic_field": true}'::jsonb
$$;

SELECT what, filter_memory_ok(filter, filter_memory_schema())
FROM (VALUES
    -- a list of 95,000 strings
    ('title in ["v1", ...]',
     (SELECT 'title in [' || string_agg(format('"v%s"', g), ', ') || ']' FROM generate_series(1, 95000) g)),
    -- 43,000 comparisons of a JSON path, of a JSON field and of the dynamic field
    ('meta["a"]["b"] == 1 or ...',
     (SELECT string_agg('meta["a"]["b"] == 1', ' or ') FROM generate_series(1, 43000))),
    -- 65,000 comparisons of one field, merged into one list
    ('id == 100001 or id == 100002 or ...',
     (SELECT string_agg('id == ' || (100000 + g), ' or ') FROM generate_series(1, 65000) g)),
    ('color["a"] == "x" and ...',
     (SELECT string_agg('color["a"] == "x"', ' and ') FROM generate_series(1, 45000))),
    -- strings with escapes, in an array test
    ('array_contains_any(tags, ["\\"\\u00e9", ...])',
     (SELECT 'array_contains_any(tags, [' || string_agg('"\"\u00e9' || g || '"', ',') || '])'
        FROM generate_series(1, 60000) g)),
    -- the shortest elements: the tree of a list is most of it
    ('id in [1, 1, ...]',
     (SELECT 'id in [' || string_agg('1', ',') || ']' FROM generate_series(1, 500000))),
    -- a long string, and many short ones after it
    ('title == "xxx..." or title in ["a", ...]',
     (SELECT 'title == "' || repeat('x', 500000) || '" or title in ['
             || string_agg('"a"', ',') || ']' FROM generate_series(1, 110000)))
) v(what, filter);

-- max_bytes is enforced: the same list in 64 kB
SELECT sqlstate_of(format('SELECT milvus._filter_memory(%L, filter_memory_schema(), 65536)', f))
  FROM (SELECT 'title in [' || string_agg(format('"v%s"', g), ', ') || ']' AS f
          FROM generate_series(1, 95000) g) s;
SELECT sqlstate_of('SELECT milvus._filter_memory(''id == 1'', filter_memory_schema(), 0)');
