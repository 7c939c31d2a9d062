--
-- Filter-expression conformance: each Milvus expression, compiled by
-- milvus.compile_filter and run as the WHERE clause of a real table through
-- EXECUTE ... USING params, must select exactly the ids written next to it.
-- The expected ids were worked out by hand from the rows below; "ok" means
-- the database agreed.
--

-- One column per Milvus type, NULLs in row 4, a JSON field whose row 6 is an
-- array at the root, arrays (one empty, one NULL), dynamic keys in "$meta"
-- (row 4 has none, row 6 has no "$meta" at all).  VARCHAR columns are
-- character varying(n), as the collection API creates them.
CREATE TABLE filter_t (
    id bigint PRIMARY KEY,
    b boolean,
    i8 smallint,
    i16 smallint,
    i32 integer,
    i64 bigint,
    f real,
    d double precision,
    s character varying(32),
    j jsonb,
    ai bigint[],
    tags character varying(16)[],
    emb floatvector(2),
    "$meta" jsonb
);
INSERT INTO filter_t VALUES
 (1, true,  1,   100,   10,         1000,                 0.5,    1.5,   'apple',
  '{"a": 1, "b": "x", "arr": [1, 2, 3], "o": {"k": "v"}}', '{1,2,3}', '{red,green}', '[1,1]',
  '{"color": "red", "n": 5, "flag": true}'),
 (2, false, 2,   200,   20,         2000,                 1.5,    2.5,   'banana',
  '{"a": 2, "b": "y", "arr": [4, 5]}', '{4,5}', '{blue}', '[2,2]',
  '{"color": "blue", "n": "5"}'),
 (3, true,  3,   300,   30,         -3000,                -2.5,   0.1,   'cherry',
  '{"a": 1.0, "b": null, "arr": [[1, 2], 3]}', '{}', '{red,blue}', '[3,3]',
  '{"color": "green", "n": 7.5, "flag": false}'),
 (4, NULL,  NULL, NULL, NULL,       NULL,                 NULL,   NULL,  NULL,
  NULL, NULL, NULL, NULL,
  '{}'),
 (5, false, -5,  -500,  -50,        9223372036854775807,  0.1,    -1e10, 'a%b_c\d',
  '{"a": "1", "arr": "nope"}', '{7}', '{}', '[5,5]',
  '{"color": "red", "extra": {"deep": [10, 20]}}'),
 (6, true,  0,   0,     0,          0,                    0,      0,     '',
  '[1, 2, "x"]', '{1,1,2}', '{green}', '[6,6]',
  NULL),
 (7, false, 127, 32767, 2147483647, -9223372036854775808, 3.4e38, 1e300, 'Apple pie',
  $${"a": true, "b": "x'y"}$$, '{3,2,1}', $${"it's","a\"b"}$$, '[7,7]',
  '{"color": "Red", "n": 5.0, "s": "8"}');

CREATE FUNCTION filter_t_schema() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "b", "type": "BOOL"},
    {"name": "i8", "type": "INT8"},
    {"name": "i16", "type": "INT16"},
    {"name": "i32", "type": "INT32"},
    {"name": "i64", "type": "INT64"},
    {"name": "f", "type": "FLOAT"},
    {"name": "d", "type": "DOUBLE"},
    {"name": "s", "type": "VARCHAR", "max_length": 32},
    {"name": "j", "type": "JSON"},
    {"name": "ai", "type": "ARRAY", "element_type": "INT64", "max_capacity": 8},
    {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR", "max_capacity": 8},
    {"name": "emb", "type": "FLOAT_VECTOR", "dim": 2}],
  "enable_dynamic_field": true}'::jsonb
$$;

-- The ids of the rows of a table that a filter selects, run the way the
-- collection API runs it (filter_index and filter_injection use it too)
CREATE FUNCTION filter_ids(rel regclass, schema jsonb, filter text, params jsonb DEFAULT '{}')
RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    ids bigint[];
BEGIN
    SELECT * INTO c FROM milvus.compile_filter(filter, schema, params);
    EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %s WHERE ', rel) || c.sql
        INTO ids USING c.params;
    RETURN ids;
END
$$;

CREATE FUNCTION filter_t_check(filter text, expected bigint[], params jsonb DEFAULT '{}')
RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN got = expected THEN 'ok' ELSE 'MISMATCH: got ' || got::text END
      FROM filter_ids('filter_t', filter_t_schema(), filter, params) got
$$;

-- Comparisons on scalar fields, field against field, mixed number types
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('i64 > 1000',                  '{2,5}'::bigint[]),
    ('i64 >= 1000',                 '{1,2,5}'),
    ('i32 == 20',                   '{2}'),
    ('i32 != 20',                   '{1,3,5,6,7}'),
    ('i8 < 2',                      '{1,5,6}'),
    ('i16 <= 0',                    '{5,6}'),
    ('f == 0.5',                    '{1}'),
    -- a FLOAT field compares in float32, as in Milvus: 0.1 is 0.1f
    ('f == 0.1',                    '{5}'),
    ('d == 0.1',                    '{3}'),
    ('d > 1e299',                   '{7}'),
    ('f > 1e38',                    '{7}'),
    -- 1e39 does not fit a float32: the comparison is made in float64
    ('f < 1e39',                    '{1,2,3,5,6,7}'),
    ('s == "apple"',                '{1}'),
    ('s != "apple"',                '{2,3,5,6,7}'),
    ('s > "b"',                     '{2,3}'),
    ('b == true',                   '{1,3,6}'),
    ('b',                           '{1,3,6}'),
    ('b != false',                  '{1,3,6}'),
    ('i32 > i8',                    '{1,2,3,7}'),
    ('f < d',                       '{1,2,3,7}'),
    ('i64 == 9223372036854775807',  '{5}'),
    ('i64 == -9223372036854775808', '{7}'),
    ('i32 > 2.5',                   '{1,2,3,7}'),
    ('i8 == 1.0',                   '{1}'),
    ('true',                        '{1,2,3,4,5,6,7}'),
    ('FALSE',                       '{}')
) v(filter, expected);

-- Chained ranges, in and not in
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('10 <= i32 < 30',              '{1,2}'::bigint[]),
    ('1000 > i64 >= -3000',         '{3,6}'),
    ('0 < f < 1',                   '{1,5}'),
    ('"b" <= s < "c"',              '{2}'),
    ('i32 in [10, 30, 99]',         '{1,3}'),
    ('i32 not in [10, 30]',         '{2,5,6,7}'),
    ('s in ["apple", "cherry", "x"]', '{1,3}'),
    ('i64 in []',                   '{}'),
    ('i64 not in []',               '{1,2,3,5,6,7}'),
    ('f in [0.5, 1.5]',             '{1,2}'),
    ('i8 in [1, 2.0]',              '{1,2}'),
    ('b in [true]',                 '{1,3,6}'),
    ('i8 IN [1, 2,] && NOT b',      '{2}')
) v(filter, expected);

-- x in [] matches nothing and x not in [] every row where x is not NULL, for
-- every field type: scalars, a whole ARRAY field (its only list), an ARRAY
-- element, a JSON path and a dynamic key (missing: true for not in, as above)
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('b in []',                     '{}'::bigint[]),
    ('b not in []',                 '{1,2,3,5,6,7}'),
    ('f not in []',                 '{1,2,3,5,6,7}'),
    ('d in []',                     '{}'),
    ('s not in []',                 '{1,2,3,5,6,7}'),
    ('not (s in [])',               '{1,2,3,5,6,7}'),
    ('ai in []',                    '{}'),
    ('ai not in []',                '{1,2,3,5,6,7}'),
    ('tags in []',                  '{}'),
    ('tags not in []',              '{1,2,3,5,6,7}'),
    ('not (tags in [])',            '{1,2,3,5,6,7}'),
    ('ai in [] or i32 == 20',       '{2}'),
    ('ai[0] in []',                 '{}'),
    ('ai[0] not in []',             '{1,2,5,6,7}'),
    ('j["a"] in []',                '{}'),
    ('j["a"] not in []',            '{1,2,3,4,5,6,7}'),
    ('j in []',                     '{}'),
    ('color in []',                 '{}'),
    ('color not in []',             '{1,2,3,4,5,6,7}')
) v(filter, expected);
SELECT filter_t_check('ai in {p}', '{}', '{"p": []}'),
       filter_t_check('tags not in {p}', '{1,2,3,5,6,7}', '{"p": []}');

-- Arithmetic (integers in 64 bits, truncating division), bitwise operators
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('i32 + 5 == 15',               '{1}'::bigint[]),
    ('i32 * 2 > 50',                '{3,7}'),
    ('i32 / 3 == 3',                '{1}'),
    ('i32 % 7 == 6',                '{2}'),
    ('i32 % 7 == -1',               '{5}'),
    ('-i32 > 0',                    '{5}'),
    ('i8 ** 2 == 9',                '{3}'),
    ('i32 - 1 < 0',                 '{5,6}'),
    ('d * 2 == 3.0',                '{1}'),
    ('f + 1 == 1.5',                '{1}'),
    ('(i16 & 4) == 4',              '{1,3,5,7}'),
    ('(i16 | 1) == 101',            '{1}'),
    ('(i8 ^ 1) == 0',               '{1}'),
    ('i32 - 10 - 10 == 0',          '{2}'),
    ('i32 / 5 * 2 == 4',            '{1}'),
    -- ** is left-associative in Milvus: (2 ** 3) ** 2
    ('2 ** 3 ** 2 == 64',           '{1,2,3,4,5,6,7}'),
    -- and binds tighter than unary minus: -(i8 ** 2)
    ('-i8 ** 2 == -9',              '{3}')
) v(filter, expected);

-- Logic and precedence: not binds tighter than ==, and tighter than or
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('b and i32 > 15',              '{3}'::bigint[]),
    ('b or i32 > 25',               '{1,3,6,7}'),
    ('not (i32 > 15)',              '{1,5,6}'),
    ('not b',                       '{2,5,7}'),
    ('!b',                          '{2,5,7}'),
    ('not b == false',              '{1,3,6}'),
    ('b && !(i8 == 3) || i8 == 127', '{1,6,7}'),
    ('(i32 > 0 or i32 < -10) and not b', '{2,5,7}'),
    ('i8 == 1 or i8 == 2 and b',    '{1}'),
    ('i8 == 1 OR i8 == 2 AnD b',    '{1}')
) v(filter, expected);

-- Chains of one field: x == a or x == b ... compiles as x in [a, b, ...] (one
-- = ANY of one parameter), x != a and x != b ... as x not in [...] (<> ALL).
-- Each chain must give, row by row with NULL as NULL, what the SQL OR / AND of
-- its terms compiled one at a time gives, and what in / not in gives; then
-- not around it agrees too.  Row 4 is NULL in every column, row 3 has an empty
-- array, JSON values of other types and missing keys are in rows 2-7.
CREATE FUNCTION filter_t_truth(filter text, params jsonb DEFAULT '{}')
RETURNS TABLE (id bigint, truth boolean)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    SELECT * INTO c FROM milvus.compile_filter(filter, filter_t_schema(), params);
    RETURN QUERY EXECUTE 'SELECT id, ' || c.sql || ' FROM filter_t' USING c.params;
END
$$;

-- terms joined by joiner ('or' / 'and'), against each term alone and against
-- same_as (an in / not in)
CREATE FUNCTION filter_t_chain_check(terms text[], joiner text, same_as text,
                                     params jsonb DEFAULT '{}')
RETURNS text
LANGUAGE sql AS $$
    WITH chain AS (SELECT * FROM filter_t_truth(array_to_string(terms, ' ' || joiner || ' '), params)),
         single AS (SELECT t.id, t.truth FROM unnest(terms) term, filter_t_truth(term, params) t),
         folded AS (
             SELECT id, CASE
                 WHEN joiner = 'or' AND bool_or(truth) THEN true
                 WHEN joiner = 'and' AND NOT bool_and(truth) THEN false
                 WHEN count(*) FILTER (WHERE truth IS NULL) > 0 THEN NULL
                 ELSE joiner = 'and' END AS truth
               FROM single GROUP BY id),
         same AS (SELECT * FROM filter_t_truth(same_as, params)),
         bad AS (
             SELECT c.id FROM chain c JOIN folded f USING (id) JOIN same s USING (id)
              WHERE c.truth IS DISTINCT FROM f.truth OR c.truth IS DISTINCT FROM s.truth)
    SELECT CASE WHEN (SELECT count(*) FROM chain) <> 7 THEN 'MISSING ROWS'
                WHEN NOT EXISTS (SELECT FROM bad) THEN 'ok'
                ELSE 'MISMATCH in rows ' || (SELECT string_agg(id::text, ',' ORDER BY id) FROM bad) END
$$;

SELECT terms, joiner, filter_t_chain_check(terms, joiner, same_as, params) AS result
FROM (VALUES
    (ARRAY['i32 == 10', 'i32 == 30', 'i32 == 99'], 'or', 'i32 in [10, 30, 99]', '{}'::jsonb),
    (ARRAY['i32 != 10', '30 != i32', 'i32 != 99'], 'and', 'i32 not in [10, 30, 99]', '{}'),
    (ARRAY['i8 == 1', 'i8 == 100000', 'i8 == 3'], 'or', 'i8 in [1, 100000, 3]', '{}'),
    (ARRAY['i64 == 1000', 'i64 == 2000.0', 'i64 == 9223372036854775807'], 'or',
     'i64 in [1000, 9223372036854775807] or i64 == 2000.0', '{}'),
    (ARRAY['f == 0.5', 'f == 0.1', 'f == 1.5'], 'or', 'f in [0.5, 0.1, 1.5]', '{}'),
    (ARRAY['f != 0.1', 'f != 1e300', 'f != 0.5'], 'and', 'f not in [0.1, 0.5] and f != 1e300', '{}'),
    (ARRAY['d == 0.1', 'd == 1e300'], 'or', 'd in [0.1, 1e300]', '{}'),
    (ARRAY['s == "apple"', 's == ""', 's == "nope"'], 'or', 's in ["apple", "", "nope"]', '{}'),
    (ARRAY['s != "apple"', 's != ""'], 'and', 's not in ["apple", ""]', '{}'),
    (ARRAY['b == true', 'b == false'], 'or', 'b in [true, false]', '{}'),
    (ARRAY['b != true', 'b != false'], 'and', 'b not in [true, false]', '{}'),
    (ARRAY['j["a"] == 1', 'j["a"] == "1"', 'j["a"] == true'], 'or', 'j["a"] in [1, "1", true]', '{}'),
    (ARRAY['j["a"] != 1', 'j["a"] != "1"'], 'and', 'j["a"] not in [1, "1"]', '{}'),
    (ARRAY['j["b"] == "x"', 'j["b"] == "y"', 'j["b"] == "x''y"'], 'or', 'j["b"] in ["x", "y", "x''y"]', '{}'),
    (ARRAY['j["arr"][0] == 1', 'j["arr"][0] == 4'], 'or', 'j["arr"][0] in [1, 4]', '{}'),
    (ARRAY['j == 1', 'j == "x"'], 'or', 'j in [1, "x"]', '{}'),
    (ARRAY['color == "red"', 'color == "blue"'], 'or', 'color in ["red", "blue"]', '{}'),
    (ARRAY['color != "red"', 'color != "blue"'], 'and', 'color not in ["red", "blue"]', '{}'),
    (ARRAY['$meta["n"] == 5', '$meta["n"] == "5"', 'n == 7.5'], 'or', 'n in [5, "5", 7.5]', '{}'),
    (ARRAY['ai[0] == 1', 'ai[0] == 4', 'ai[0] == 7'], 'or', 'ai[0] in [1, 4, 7]', '{}'),
    (ARRAY['ai[0] != 1', 'ai[0] != 4'], 'and', 'ai[0] not in [1, 4]', '{}'),
    (ARRAY['tags[1] == "green"', 'tags[1] == "blue"'], 'or', 'tags[1] in ["green", "blue"]', '{}'),
    (ARRAY['i32 == {a}', 'i32 == {b}', '{a} == i32'], 'or', 'i32 in {ab}', '{"a": 20, "b": -50, "ab": [20, -50]}'),
    (ARRAY['i32 == 10', 's == "banana"', 'i32 == 30', 'b', 's == "cherry"'], 'or',
     'i32 in [10, 30] or s in ["banana", "cherry"] or b', '{}'),
    (ARRAY['i32 != 10', 'not b', 'i32 != 20', 'j["a"] != 2', 'j["a"] != "1"'], 'and',
     'i32 not in [10, 20] and not b and j["a"] not in [2, "1"]', '{}')
) v(terms, joiner, same_as, params);

SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('i32 == 10 or i32 == 30',            '{1,3}'::bigint[]),
    ('not (i32 == 10 or i32 == 30)',      '{2,5,6,7}'),
    ('i32 != 10 and i32 != 30',           '{2,5,6,7}'),
    ('not (i32 != 10 and i32 != 30)',     '{1,3}'),
    ('not (color == "red" or color == "blue")', '{3,4,6,7}'),
    ('not (ai[0] == 1 or ai[0] == 4)',    '{5,7}'),
    ('f == 0.1 or f == 1e300',            '{5}')
) v(filter, expected);

-- what a merged chain compiles to; an operand of another field stays a term
SELECT * FROM milvus.compile_filter('i32 == 10 or b or i32 == 30 or 20 == i32', filter_t_schema());
SELECT * FROM milvus.compile_filter('color != "red" and f != 0.1 and color != "blue" and f != 1e300 and f != 0.5',
                                    filter_t_schema());

-- like (% and _, escapes), is null, is not null
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('s like "a%"',                 '{1,5}'::bigint[]),
    ('s LIKE "%e"',                 '{1,7}'),
    ('s like "%an%"',               '{2}'),
    ('s like "_pple"',              '{1}'),
    ('s like "a\\%b%"',             '{5}'),
    ('s like "a\%b\_c%"',           '{5}'),
    ('s like "%\\\\d"',             '{5}'),
    ('s like ""',                   '{6}'),
    ('s like "%"',                  '{1,2,3,5,6,7}'),
    ('s is null',                   '{4}'),
    ('s IS NOT NULL',               '{1,2,3,5,6,7}'),
    ('j is null',                   '{4}'),
    ('ai is null',                  '{4}'),
    ('$meta is null',               '{6}'),
    ('j["b"] is null',              '{3,4,5,6}'),
    ('color is null',               '{4,6}'),
    ('n is not null',               '{1,2,3,7}')
) v(filter, expected);

-- JSON paths: typed at run time; another type (or no value) is false, and
-- != is then true
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('j["a"] == 1',                 '{1,3}'::bigint[]),
    ('j["a"] != 1',                 '{2,4,5,6,7}'),
    ('j["a"] > 1',                  '{2}'),
    ('j["a"] >= 1',                 '{1,2,3}'),
    ('j["a"] == "1"',               '{5}'),
    ('j["a"] == true',              '{7}'),
    ('j["b"] == "x"',               '{1}'),
    ('j["b"] < "y"',                '{1,7}'),
    ('j["arr"][0] == 1',            '{1}'),
    ('j["arr"][1] > 2',             '{2,3}'),
    ('j[0] == 1',                   '{6}'),
    ('j[2] == "x"',                 '{6}'),
    -- a key that reads as a number is an index into an array, as a Milvus
    -- JSON pointer is
    ('j["0"] == 1',                 '{6}'),
    ('exists j["1"]',               '{6}'),
    ('j["o"]["k"] == "v"',          '{1}'),
    ('j["a"] in [2, "1", true]',    '{2,5,7}'),
    ('j["a"] not in [1]',           '{2,4,5,6,7}'),
    ('j["a"] + 1 == 2',             '{1,3}'),
    ('j["a"] * 2 > 3',              '{2}'),
    ('j["a"] == i8',                '{1,2}'),
    ('j["a"] like "1%"',            '{5}'),
    ('1 <= j["a"] < 2',             '{1,3}')
) v(filter, expected);

-- Dynamic fields: keys of "$meta" used bare or as $meta["key"]; a schema
-- field wins over a key of the same name (row 7's "s")
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('color == "red"',              '{1,5}'::bigint[]),
    ('color != "red"',              '{2,3,4,6,7}'),
    ('$meta["color"] == "blue"',    '{2}'),
    ('n == 5',                      '{1,7}'),
    ('n > 5',                       '{3}'),
    ('flag == true',                '{1}'),
    ('flag',                        '{1}'),
    ('not flag',                    '{2,3,4,5,6,7}'),
    ('extra["deep"][1] == 20',      '{5}'),
    ('color in ["red", "Red"]',     '{1,5,7}'),
    ('s == "8"',                    '{}'),
    ('I8 == 1',                     '{}')
) v(filter, expected);

-- exists, json_contains*, array_contains*, array_length, array elements
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('exists color',                '{1,2,3,5,7}'::bigint[]),
    ('exists j["b"]',               '{1,2,3,7}'),
    ('EXISTS extra["deep"]',        '{5}'),
    ('exists j[0]',                 '{6}'),
    ('json_contains(j["arr"], 1)',  '{1}'),
    ('json_contains(j["arr"], [1, 2])', '{3}'),
    ('json_contains(j["arr"], 3)',  '{1,3}'),
    ('json_contains_all(j["arr"], [1, 3])', '{1}'),
    ('json_contains_any(j["arr"], [5, [1, 2]])', '{2,3}'),
    ('json_contains_any(j["arr"], [])', '{}'),
    ('JSON_CONTAINS_ALL(j["arr"], [])', '{1,2,3}'),
    ('json_contains(j, "x")',       '{6}'),
    ('json_contains(extra["deep"], 10)', '{5}'),
    ('json_contains(j["a"], 1)',    '{}'),
    ('array_contains(ai, 1)',       '{1,6,7}'),
    ('array_contains_all(ai, [1, 2])', '{1,6,7}'),
    ('array_contains_any(ai, [5, 7])', '{2,5}'),
    ('array_contains_all(ai, [])',  '{1,2,3,5,6,7}'),
    ('array_contains_any(ai, [])',  '{}'),
    ('array_contains(tags, "red")', '{1,3}'),
    ('ARRAY_CONTAINS(tags, "it''s")', '{7}'),
    ('json_contains(ai, 7)',        '{5}'),
    ('array_contains(j["arr"], 4)', '{2}'),
    ('array_length(ai) == 3',       '{1,6,7}'),
    ('array_length(ai) == 0',       '{3}'),
    ('array_length(tags) < 1',      '{5}'),
    ('array_length(j["arr"]) == 2', '{2,3}'),
    ('ai[0] == 1',                  '{1,6}'),
    ('ai[2] > 1',                   '{1,6}'),
    ('tags[1] == "green"',          '{1}'),
    ('tags == ["red", "green"]',    '{1}'),
    ('ai != [4, 5]',                '{1,3,5,6,7}')
) v(filter, expected);

-- Literal forms: integers in every base, floats, both quotes, escapes
SELECT filter, expected, filter_t_check(filter, expected) AS result
FROM (VALUES
    ('i32 == 0xA',                  '{1}'::bigint[]),
    ('i32 == 0b10100',              '{2}'),
    ('i32 == 036',                  '{3}'),
    ('i32 == 0o36',                 '{3}'),
    ('i32 == 0',                    '{6}'),
    ('d == 1.5e0',                  '{1}'),
    ('d == .1',                     '{3}'),
    ('d == 0x1.4p1',                '{2}'),
    ('d == -1e10',                  '{5}'),
    ('s == ''apple''',              '{1}'),
    ('s == "Apple\x20pie"',         '{7}'),
    ('s == "\u0041pple pie"',       '{7}'),
    ('s == "\101pple pie"',         '{7}'),
    ('s == "a%b_c\\d"',             '{5}'),
    ('j["b"] == "x\''y"',           '{7}'),
    ('j["b"] == ''x\''y''',         '{7}'),
    ('tags[1] == "a\"b"',           '{7}')
) v(filter, expected);

-- Templates: values from filter_params
SELECT filter, params, expected, filter_t_check(filter, expected, params) AS result
FROM (VALUES
    ('i32 > {lo} and s in {names}', '{"lo": 5, "names": ["apple", "cherry", "banana"]}'::jsonb,
     '{1,2,3}'::bigint[]),
    ('{lo} < i32 < {hi}',           '{"lo": 0, "hi": 25}', '{1,2}'),
    ('f == {x}',                    '{"x": 0.5}', '{1}'),
    ('b == {t}',                    '{"t": false}', '{2,5,7}'),
    ('json_contains_any(ai, {v})',  '{"v": [3, 8]}', '{1,7}'),
    ('s like {p}',                  '{"p": "%an%"}', '{2}'),
    ('color == {c}',                '{"c": "red"}', '{1,5}'),
    ('id in {ids} and id not in {none}', '{"ids": [2, 4, 6], "none": []}', '{2,4,6}')
) v(filter, params, expected);

-- The SQL a filter becomes: columns quoted, every value a parameter
SELECT * FROM milvus.compile_filter('i64 > 5 and s in ["a", "b"] and color == "red"', filter_t_schema());
SELECT * FROM milvus.compile_filter('10 <= i32 < 30 or array_contains_any(tags, {t})', filter_t_schema(),
                                    '{"t": ["x", "y"]}');
