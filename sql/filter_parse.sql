--
-- The filter grammar, through milvus.parse_filter, which prints the tree it
-- parsed fully parenthesized.  Precedence follows Milvus's Plan.g4, tightest
-- first: like, **, unary + - not, * / %, + -, in, < <= > >= (and ranges),
-- == !=, &, ^, |, and, or.
--

-- precedence and associativity
SELECT filter, milvus.parse_filter(filter) AS parsed
FROM (VALUES
    ('a + b * c - d / e % f'),
    ('a - b - c'),
    ('a ** b ** c'),
    ('-a ** 2'),
    ('2 ** -a ** 2'),
    ('not a == b'),
    ('!a != b'),
    ('a == 1 and b == 2 or c == 3 and not d'),
    ('a or b or c and d and e'),
    ('(a or b) or c'),
    ('a || b && c'),
    ('a & 4 == 4'),
    ('a | b ^ c & d'),
    ('a < b == c > d'),
    ('a + 1 in [2] == true'),
    ('a not in [1] in [false]'),
    ('-a like "x%"'),
    ('a like "x" and b'),
    ('exists m["k"] and not exists m["j"]'),
    ('x is null or y IS NOT NULL'),
    ('- - a'),
    ('not not a'),
    ('+a > -b')
) v(filter);

-- chained ranges: a bare field in the middle, both operators the same way
SELECT filter, milvus.parse_filter(filter) AS parsed
FROM (VALUES
    ('1 < x < 5'),
    ('1 <= x <= 5'),
    ('10 > x >= 2'),
    ('a + 1 < meta["k"][0] < b * 2'),
    ('1 < x > 0'),
    ('1 < (x) < 5'),
    ('(1 < x) < 5'),
    ('1 < x < 5 < 7')
) v(filter);

-- literals: every integer base, floats, strings with either quote and
-- escapes, booleans in any case, keywords in any case
SELECT filter, milvus.parse_filter(filter) AS parsed
FROM (VALUES
    ('x == 42'),
    ('x == 0x2A and x == 0X2a'),
    ('x == 052 and x == 0o52 and x == 0O52'),
    ('x == 0b101010 and x == 0B101010'),
    ('x == 0 and x == 00'),
    ('x == 9223372036854775807'),
    ('x == -9223372036854775808'),
    ('x == -(5) and x == - 5 and x == --5'),
    ('x == 1.5 and x == 1. and x == .5 and x == 1e3 and x == 1.5E-3 and x == 2e+2'),
    ('x == 0x1.8p1 and x == 0x1p-2 and x == 0X.8P0'),
    ('x == -0.0'),
    ('s == "double" and s == ''single'''),
    ('s == "it''s" and s == ''say "hi"'''),
    ('s == "\a\b\f\n\r\t\v\\\''\"\?"'),
    ('s == "\x41\101\u00e9\U0001F600"'),
    ('s like "100\% sure\_"'),
    ('s == u8"x" and s == u"x" and s == U''x'' and s == L"x"'),
    ('s == ""'),
    ('b == true and b == True and b == TRUE and b != false and b != False and b != FALSE'),
    ('a AND b Or c aNd NOT d'),
    ('x In [1] AND y NOT IN [2] and s LIKE "a" and EXISTS m["k"]')
) v(filter);

-- lists, templates, paths, functions
SELECT filter, milvus.parse_filter(filter) AS parsed
FROM (VALUES
    ('x in [1, 2.5, "a", true, [1, [2]], {t}, -3,]'),
    ('x in []'),
    ('x in {ids} and y > {min_y}'),
    ('meta["a"]["b c"][0][12] == 1'),
    ('meta [ "a" ] [ 0 ] == 1'),
    ('$meta["color"] == "red" and $meta is null'),
    ('json_contains(m["t"], "x") and JSON_CONTAINS_ALL(m, [1]) and json_contains_any(m, [])'),
    ('array_contains(a, 1) and ARRAY_CONTAINS_ALL(a, [1, 2]) and array_contains_any(a, [3])'),
    ('array_length(a) == 2 and ARRAY_LENGTH(m["list"]) > 0'),
    ('a is not   null and b is' || E'\n' || 'null')
) v(filter);

-- white space: spaces, tabs and new lines anywhere between tokens
SELECT milvus.parse_filter(E'\n\ta\t>\r\n1\n');
