-- milvus.insert and milvus.upsert with rows as JSON text (read without the
-- jsonb parse, src/collection/rows_text.c) give the same rows and the same
-- errors as with jsonb, input by input.
SELECT milvus.create_collection(c, schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "vector", "type": "FLOAT_VECTOR", "dim": 3},
    {"name": "title", "type": "VARCHAR", "max_length": 12, "nullable": true},
    {"name": "n", "type": "INT16", "default_value": 7},
    {"name": "score", "type": "DOUBLE", "nullable": true},
    {"name": "ok", "type": "BOOL", "nullable": true}]}')
  FROM unnest('{by_text, by_jsonb}'::text[]) c;

-- the outcome of a call: its result, or its error
CREATE FUNCTION tr_outcome(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
    detail text;
BEGIN
    EXECUTE statement INTO r;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' DETAIL: ' || nullif(detail, ''), '');
END
$$;

CREATE TABLE tr_inputs (k serial, fn text, data text);
INSERT INTO tr_inputs (fn, data) VALUES
    ('insert', '[{"id": 1, "vector": [0.1, 0.2, 0.3], "title": "plain"}]'),
    ('insert', '{"id": 2, "vector": [1e-3, -0, 2.5E+2], "title": "esc \" \\ \/ \n\t", "n": 3}'),
    ('insert', '  [ {"vector":[1,2,3] , "id" : 3 , "score": 0.1, "ok": true} ]  '),
    ('insert', '[{"id": 4, "vector": [3.4028234663852886e38, 0, 0]}]'),
    ('insert', '[{"id": 5, "vector": [3.4028235e38, 0, 0]}]'),
    ('insert', '[{"id": 6, "vector": [1e-40, 0, 0]}]'),
    ('insert', '[{"id": 7, "vector": [1e-46, 0, 0]}]'),
    ('insert', '[{"id": 8, "vector": [0.1, 0.2, 0.30000000000000004441]}]'),
    ('insert', '[{"id": 9, "vector": [16777217, 0.000000059604644775390625, 1]}]'),
    ('insert', '[{"id": 10, "vector": [1, 2, 3], "title": "caf\u00e9"}]'),
    ('insert', '[{"id": 11, "vector": [1, 2, 3], "id": 12}]'),
    ('insert', '[{"id": 13, "vector": [1, 2, 3], "extra": 1}]'),
    ('insert', '[{"id": 14, "vector": [1, 2]}]'),
    ('insert', '[{"id": 15, "vector": [1, 2, "3"]}]'),
    ('insert', '[{"id": 16, "vector": null}]'),
    ('insert', '[{"id": 17, "vector": [1, 2, 3], "title": "thirteen char"}]'),
    ('insert', '[{"id": 18, "vector": [1, 2, 3], "n": 40000}]'),
    ('insert', '[{"id": 19, "vector": [1, 2, 3], "n": 1.0}]'),
    ('insert', '[{"id": 20, "vector": [1, 2, 3], "score": 1e400}]'),
    ('insert', '[{"id": 21, "vector": [1, 2, 3]},]'),
    ('insert', '[{"id": 22, "vector": [1, 2, 3]}] x'),
    ('insert', '[{"id": 23, "vector": [01, 2, 3]}]'),
    ('insert', '[{"id": 24, "vector": [1, 2, 3], "ok": "true"}]'),
    ('insert', '[]'),
    ('insert', '5'),
    ('insert', '[5]'),
    ('insert', '[{"id": 25, "vector": [1, 2, 3]}, {"id": 25, "vector": [1, 2, 3]}]'),
    ('insert', '[{"id": 1, "vector": [1, 2, 3]}]'),
    ('insert', '[{"id": 26, "vector": [1, 2, 3], "title": null, "score": null}]'),
    ('insert', '[{"id": 27, "vector": [1, 2, 3], "title": "a\u0000b"}]'),
    ('insert', '[{"id": -9223372036854775808, "vector": [1, 2, 3]}]'),
    ('insert', '[{"id": 9223372036854775808, "vector": [1, 2, 3]}]'),
    ('insert', '[{"id": 28, "vector": [1, 2, 3], "title": "x"'),
    ('upsert', '[{"id": 1, "vector": [9, 9, 9], "title": "upserted"}]'),
    ('upsert', '[{"id": 29, "vector": [1, 2, 3]}, {"id": 29, "vector": [1, 2, 3]}]'),
    -- past numeric's scale and exponent: jsonb's error
    ('insert', '[{"id": 30, "vector": [0e-20000, 1, 2]}]'),
    ('insert', '[{"id": 31, "vector": [0e3000000000, 1, 2]}]'),
    ('insert', '[{"id": 32, "vector": [1.' || repeat('0', 20000) || ', 1, 2]}]');

-- each input once each way, in order
CREATE TABLE tr_outcomes (k int, by_text text, by_jsonb text);
DO $$
DECLARE
    i tr_inputs;
BEGIN
    FOR i IN SELECT * FROM tr_inputs ORDER BY k LOOP
        INSERT INTO tr_outcomes VALUES (i.k,
            tr_outcome(format('SELECT row(x.*)::text FROM milvus.%s(''by_text'', %L::text) x', i.fn, i.data)),
            tr_outcome(format('SELECT row(x.*)::text FROM milvus.%s(''by_jsonb'', %L::jsonb) x', i.fn, i.data)));
    END LOOP;
END
$$;
SELECT k, replace(by_text, 'by_text', 'C') IS NOT DISTINCT FROM replace(by_jsonb, 'by_jsonb', 'C') AS same,
       replace(by_text, 'by_text', 'C') AS outcome
  FROM tr_outcomes ORDER BY k;
-- 3,000 numbers of every magnitude and spelling, both ways
SELECT setseed(0.25);
CREATE TABLE tr_batch AS
SELECT '[' || string_agg(format('{"id": %s, "vector": [%s, %s, %s]}', 1000 + i,
                                x[1], x[2], x[3]), ', ') || ']' AS data
  FROM generate_series(1, 1000) i,
       LATERAL (SELECT array_agg(CASE (random() * 4)::int
                                 WHEN 0 THEN ((random() - 0.5) * 10 ^ (random() * 76 - 38))::text
                                 WHEN 1 THEN to_char(random() * 1000, 'FM9999990.099999999999')
                                 WHEN 2 THEN (random() * 2 ^ 24)::bigint::text
                                 WHEN 3 THEN upper(((random() - 0.5) * 1e-30)::text)
                                 ELSE round((random() * 100)::numeric, (random() * 30)::int)::text END)
                  FROM generate_series(1, 3 + 0 * i)) v(x);
SELECT (SELECT insert_count FROM milvus.insert('by_text', data)) AS by_text,
       (SELECT insert_count FROM milvus.insert('by_jsonb', data::jsonb)) AS by_jsonb
  FROM tr_batch;
DROP TABLE tr_batch;

-- and the same rows, bit for bit
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (a.vector, a.title, a.n, a.score, a.ok) IS NOT DISTINCT FROM
                              (b.vector, b.title, b.n, b.score, b.ok)
                          AND a.vector::text = b.vector::text) AS identical
  FROM by_text a FULL JOIN by_jsonb b USING (id);
SELECT id, a.vector, b.vector, a.title, b.title FROM by_text a FULL JOIN by_jsonb b USING (id)
 WHERE (a.vector::text, a.title, a.n, a.score, a.ok) IS DISTINCT FROM (b.vector::text, b.title, b.n, b.score, b.ok);
-- a collection with the dynamic field (the quick form's): keys that are no
-- field go to "$meta" as jsonb would keep them
SELECT milvus.create_collection(c, dimension => 3) FROM unnest('{dyn_text, dyn_jsonb}'::text[]) c;
SELECT (SELECT insert_count FROM milvus.insert('dyn_text', d)) AS by_text,
       (SELECT insert_count FROM milvus.insert('dyn_jsonb', d::jsonb)) AS by_jsonb
  FROM (VALUES ('[{"id": 1, "vector": [1, 2, 3]}, {"id": 2, "vector": [0.5, 0, -1]}]'),
               ('[{"id": 3, "vector": [1, 2, 3], "color": "red", "tags": {"a": [1, 2]}}]'),
               ('{"id": 4, "vector": [1, 2, 3], "id2": 5}'),
               ('[{"z": 1, "id": 5, "a": [true, false, null, {"b": "c\"d"}], "vector": [1, 2, 3], "n": -1.50e+3}]'),
               ('[{"id": 6, "vector": [1, 2, 3], "k": 1, "k": 2, "$meta": {"x": 1}, "e": {}, "f": []}]'),
               ('[{"id": 7, "vector": [1, 2, 3], "s": "caf\u00e9"}]'),
               ('[{"id": 8, "vector": [1, 2, 3], "deep": [[[[[[[[[[1]]]]]]]]]]}]')) v(d);
SELECT a.id, a.vector::text = b.vector::text AS same_vector, a."$meta" = b."$meta" AS same_meta, a."$meta"
  FROM dyn_text a FULL JOIN dyn_jsonb b USING (id) ORDER BY 1;
SELECT milvus.drop_collection(c) FROM unnest('{dyn_text, dyn_jsonb}'::text[]) c;

-- which reader ran: plain rows (extra keys included) are read as text, rows
-- the text reader hands on are read as jsonb (the DEBUG line says so)
SET client_min_messages = debug1;
SELECT insert_count FROM milvus.insert('by_text', '[{"id": 5001, "vector": [0.5, 1e-3, -2], "title": "t", "n": 1}]');
SELECT insert_count FROM milvus.insert('by_text', '[{"id": 5002, "vector": [0.5, 1e-3, -2], "title": "caf\u00e9"}]');
SELECT insert_count FROM milvus.insert('by_text', '[{"id": 5003, "vector": [0.5, 1e-3, -2], "id": 5004}]');
RESET client_min_messages;

-- an untyped literal takes the text form, a jsonb value the jsonb form
CREATE VIEW tr_calls AS
    SELECT (milvus.insert('c', '[]')).insert_count AS by_literal,
           (milvus.insert('c', '[]'::jsonb)).insert_count AS by_jsonb;
SELECT pg_get_viewdef('tr_calls');
DROP VIEW tr_calls;

SELECT milvus.drop_collection(c) FROM unnest('{by_text, by_jsonb}'::text[]) c;
DROP TABLE tr_inputs, tr_outcomes;
DROP FUNCTION tr_outcome(text);
