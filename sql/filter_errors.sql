--
-- Every error a filter expression can give, with its SQLSTATE, message and
-- detail.  By design (src/collection/filter_sql.c): syntax 42601; a number
-- out of range 22003; a bad escape or like pattern 22025; Milvus syntax not
-- supported here 0A000; too long 54000; too deep 54001; an unknown field
-- 42703; a type error 42804; a template without a value, or a bad schema or
-- filter_params, 22023; division by a literal zero 22012.
--

CREATE FUNCTION filter_err_schema(dynamic boolean DEFAULT true) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT jsonb_build_object('fields', '[
    {"name": "id", "type": "INT64"},
    {"name": "b", "type": "BOOL"},
    {"name": "i16", "type": "INT16"},
    {"name": "i32", "type": "INT32"},
    {"name": "f", "type": "FLOAT"},
    {"name": "d", "type": "DOUBLE"},
    {"name": "s", "type": "VARCHAR"},
    {"name": "j", "type": "JSON"},
    {"name": "ai", "type": "ARRAY", "element_type": "INT64"},
    {"name": "asmall", "type": "ARRAY", "element_type": "INT16"},
    {"name": "af", "type": "ARRAY", "element_type": "FLOAT"},
    {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR"},
    {"name": "emb", "type": "FLOAT_VECTOR", "dim": 4}]'::jsonb,
    'enable_dynamic_field', dynamic)
$$;

-- The error compiling a filter gives, or 'ok'
CREATE FUNCTION filter_error(filter text, params jsonb DEFAULT '{}', dynamic boolean DEFAULT true)
RETURNS text
LANGUAGE sql AS $$
    SELECT sqlstate_detail_of(format('SELECT * FROM milvus.compile_filter(%L, %L, %L)',
                                     filter, filter_err_schema(dynamic), params))
$$;

-- syntax: the position (1-based characters) and what was expected there
SELECT filter, filter_error(filter) AS error
FROM (VALUES
    (''),
    ('   '),
    ('i32 >'),
    ('i32 > > 1'),
    ('(i32 > 1'),
    ('i32 > 1)'),
    ('i32 = 1'),
    ('i32 > 1 i32 < 2'),
    ('i32 in [1,,2]'),
    ('i32 in [1, 2'),
    ('s == "abc'),
    ('s == ''abc'),
    ('s == "line' || E'\n' || 'break"'),
    ('j['),
    ('j["a"'),
    ('j[1.5] == 1'),
    ('j[-1] == 1'),
    ('j[01] == 1'),
    ('j[i32] == 1'),
    ('i32 is nul'),
    ('i32 is not'),
    ('i32 is ! null'),
    ('{} == 1'),
    ('i32 == {a'),
    ('array_length(1) > 0'),
    ('array_length(ai'),
    ('json_contains(j)'),
    ('exists'),
    ('s like i32'),
    ('i32 == 09'),
    ('i32 == 0x'),
    ('i32 == 0b2'),
    ('i32 == 0o8'),
    ('d == 0x1.8'),
    ('d == 1e'),
    ('i32 == 1 @ 2'),
    ('s == "é" and é'),
    ('$metadata == 1'),
    ('s == "x" "y"'),
    ('s == "x" "' || repeat('é', 30) || '"'),
    ('s == ''it''''s''')
) v(filter);

-- numbers out of range, bad escapes
SELECT filter, filter_error(filter) AS error
FROM (VALUES
    ('i32 == 9223372036854775808'),
    ('i32 == -9223372036854775809'),
    ('i32 == 99999999999999999999999'),
    ('i32 == 0x10000000000000000'),
    ('d == 1e309'),
    ('d == -1e400'),
    ('j[2147483648] == 1'),
    ('s == "\q"'),
    ('s == "\0"'),
    ('s == "\000"'),
    ('s == "\400"'),
    ('s == "\x4"'),
    ('s == "\x00"'),
    ('s == "\u00e"'),
    ('s == "\uD800"'),
    ('s == "\U00110000"'),
    ('s == "\xff"')
) v(filter);

-- Milvus syntax this implementation does not support
SELECT filter, filter_error(filter) AS error
FROM (VALUES
    ('i32 << 2 == 4'),
    ('i32 >> 1 == 0'),
    ('~i32 == 0'),
    ('s =~ "a.*"'),
    ('s !~ "a.*"'),
    ('text_match(s, "word")'),
    ('phrase_match(s, "two words", 1)'),
    ('random_sample(0.1)'),
    ('starts_with(s, "a")'),
    ('st_contains(g, "POINT(0 0)")')
) v(filter);

-- limits: 1 MiB of text, 512 levels of nesting, a tree 256 levels high
SELECT filter_error('i32 == ' || repeat('1', 1048570)) AS too_long;
SELECT left(filter_error('i32 in [' || repeat('1,', 500000) || '1]'), 2) AS long_list_ok;
SELECT filter_error(repeat('(', 513) || 'b' || repeat(')', 513)) AS parentheses;
SELECT filter_error(repeat('(', 512) || 'b' || repeat(')', 512)) AS parentheses_at_limit;
SELECT filter_error(repeat('not ', 600) || 'b') AS prefix_operators;
SELECT filter_error('i32 == 0' || repeat(' + 1', 300)) AS tree_height;
SELECT filter_error('i32 == 0' || repeat(' + 1', 254)) AS tree_height_at_limit;
SELECT filter_error(repeat('[', 600) || repeat(']', 600)) AS nested_lists;
-- a long "or" chain is one node, not a deep tree
SELECT filter_error(string_agg('i32 == ' || g, ' or ')) AS or_chain
FROM generate_series(1, 5000) g;

-- unknown fields: only without a dynamic field
SELECT filter, filter_error(filter, dynamic => false) AS error
FROM (VALUES
    ('nope == 1'),
    ('I32 == 1'),
    ('nope["k"] == 1'),
    ('$meta["k"] == 1'),
    ('exists $meta["k"]'),
    ('i32 == 1 and color == "red"')
) v(filter);
SELECT filter_error('nope == 1 and $meta["k"] == 1', dynamic => true) AS with_dynamic_field;

-- type errors name the field
SELECT filter, filter_error(filter) AS error
FROM (VALUES
    ('i32'),
    ('s'),
    ('1 + 2'),
    ('"x"'),
    ('[1, 2]'),
    ('s > 1'),
    ('i32 == "10"'),
    ('b > true'),
    ('b == 1'),
    ('s == i32'),
    ('ai == 1'),
    ('ai > [1]'),
    ('i32 == [1]'),
    ('not i32 == 1'),
    ('not s'),
    ('i32 and b'),
    ('b or s'),
    ('s + 1 == 2'),
    ('-s == 1'),
    ('b * 2 == 2'),
    ('d % 2 == 1'),
    ('(f & 1) == 1'),
    ('f & 1 == 1'),
    ('(i32 | 1.5) == 1'),
    ('i32 | 1 == 101'),
    ('1 < i32 > 0'),
    ('emb == 1'),
    ('emb is null'),
    ('i32["a"] == 1'),
    ('ai["x"] == 1'),
    ('ai[0][1] == 1'),
    ('i32 in 5'),
    ('i32 in ["a"]'),
    ('i32 in [i16]'),
    ('i32 in [[1]]'),
    ('ai in [1]'),
    ('i32 like "1%"'),
    ('exists i32'),
    ('exists j'),
    ('exists $meta'),
    ('exists (i32 + 1)'),
    ('array_contains(ai, "x")'),
    ('array_contains(ai, 1.5)'),
    ('array_contains(tags, 1)'),
    ('array_contains(s, "x")'),
    ('array_contains(ai, [1])'),
    ('array_contains(ai, i32)'),
    ('array_contains_all(ai, 1)'),
    ('array_contains_any(ai, [i32])'),
    ('json_contains_any(j, "x")'),
    ('array_length(s) == 1'),
    ('array_length(ai) == "x"'),
    ('i32 == [i16]')
) v(filter);

-- values that do not fit, division by a literal zero
SELECT filter, filter_error(filter) AS error
FROM (VALUES
    ('array_contains(asmall, 40000)'),
    ('array_contains_any(asmall, [1, -40000])'),
    ('array_contains(af, 1e39)'),
    ('i32 / 0 == 1'),
    ('i32 % 0 == 1'),
    ('d / 0.0 == 1'),
    ('ai[2147483647] == 1'),
    ('s like "abc\\"'),
    ('s like {p}')
) v(filter);
SELECT filter_error('s like {p}', '{"p": "x\\"}') AS pattern_from_template;

-- templates
SELECT filter, params, filter_error(filter, params) AS error
FROM (VALUES
    ('i32 > {a}', '{}'::jsonb),
    ('i32 > {a}', '{"b": 1}'),
    ('i32 > {a}', '{"a": null}'),
    ('i32 > {a}', '{"a": {"x": 1}}'),
    ('i32 in {a}', '{"a": [1, {"x": 1}]}'),
    ('i32 > {a}', '{"a": 1e20}'),
    ('i32 > {a}', '{"a": 9223372036854775808}'),
    ('i32 > {a}', '{"a": "5"}'),
    ('i32 in {a}', '{"a": 5}'),
    ('i32 > {a}', '[1]'),
    ('i32 > {a}', '"a"')
) v(filter, params);
-- filter_params NULL is no parameters; unused ones are ignored
SELECT * FROM milvus.compile_filter('i32 > 1', filter_err_schema(), NULL);
SELECT * FROM milvus.compile_filter('i32 > 1', filter_err_schema(), '{"unused": [1, {"x": null}]}');

-- the arguments themselves
SELECT sqlstate_of('SELECT * FROM milvus.compile_filter(NULL, ''{"fields": []}'')') AS null_filter;
SELECT sqlstate_of('SELECT * FROM milvus.compile_filter(''a == 1'', NULL)') AS null_schema;
SELECT milvus.parse_filter(NULL) AS parse_null;
SELECT sqlstate_of($$SELECT milvus.parse_filter('s == "\xff"')$$) AS parse_invalid_bytes;

-- schemas
SELECT schema, sqlstate_detail_of(format('SELECT * FROM milvus.compile_filter(%L, %L)', 'true', schema)) AS error
FROM (VALUES
    ('[]'::jsonb),
    ('{}'),
    ('{"fields": {}}'),
    ('{"fields": [1]}'),
    ('{"fields": [{"name": "a"}]}'),
    ('{"fields": [{"type": "INT64"}]}'),
    ('{"fields": [{"name": 1, "type": "INT64"}]}'),
    ('{"fields": [{"name": "a", "type": "INT128"}]}'),
    ('{"fields": [{"name": "a", "type": "ARRAY"}]}'),
    ('{"fields": [{"name": "a", "type": "ARRAY", "element_type": "JSON"}]}'),
    ('{"fields": [{"name": "a", "type": "ARRAY", "element_type": "ARRAY"}]}'),
    ('{"fields": [{"name": "a", "type": "INT64"}, {"name": "a", "type": "BOOL"}]}'),
    ('{"fields": [{"name": "a\"b", "type": "INT64"}]}'),
    ('{"fields": [{"name": "$meta", "type": "JSON"}]}'),
    ('{"fields": [{"name": "1a", "type": "INT64"}]}'),
    ('{"fields": [{"name": "", "type": "INT64"}]}'),
    ('{"fields": [], "enable_dynamic_field": "yes"}'),
    -- type names are case-insensitive; unknown keys are ignored
    ('{"fields": [{"name": "a", "type": "int64", "description": "x"}], "enable_dynamic_field": null}')
) v(schema);
