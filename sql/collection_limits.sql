--
-- Limits of search, query and hybrid_search: "limit" => NULL in each.
--
\set SHOW_CONTEXT never

-- 15 rows, each its own group
SELECT milvus.create_collection('lims', 2, metric_type => 'L2');
SELECT (milvus.insert('lims', (SELECT jsonb_agg(jsonb_build_object('id', g, 'vector', jsonb_build_array(g, 0),
                                                                   'grp', g))
                               FROM generate_series(1, 15) g))).insert_count;

--
-- "limit" => NULL is Milvus's default where Milvus has one: 10 for search,
-- grouping search and hybrid_search, as when it is left out; a query has
-- none, so there NULL is no limit, and a query without a filter or ids
-- needs one
--
SELECT count(*) AS hits FROM milvus.search('lims', '[[0, 0]]', "limit" => NULL);
SELECT count(*) AS hits FROM milvus.search('lims', '[[0, 0]]');
SELECT array_agg(id ORDER BY distance) AS ids
  FROM milvus.search('lims', '[[0, 0]]', "limit" => NULL, "offset" => 3);
SELECT count(*) AS groups FROM milvus.search('lims', '[[0, 0]]', "limit" => NULL, group_by_field => 'grp');
SELECT count(*) AS hits FROM milvus.search('lims', '[[0, 0], [20, 0]]', "limit" => NULL,
                                           group_by_field => 'grp', "offset" => NULL);
SELECT count(*) AS hits FROM milvus.hybrid_search('lims', '[{"data": [[0, 0]], "limit": 15}]', "limit" => NULL);
SELECT count(*) AS hits FROM milvus.hybrid_search('lims', '[{"data": [[0, 0]], "limit": null}]', "limit" => 12);
SELECT count(*) AS hits FROM milvus.hybrid_search('lims', '[{"data": [[0, 0]]}]', "limit" => NULL);
SELECT count(*) AS rows FROM milvus.query('lims', 'id > 2', "limit" => NULL);
SELECT count(*) AS rows FROM milvus.query('lims', 'id > 2', "limit" => NULL, "offset" => NULL);
SELECT count(*) AS rows FROM milvus.query('lims', ids => '[1, 2]', "limit" => NULL);
SELECT sqlstate_detail_of($$SELECT * FROM milvus.query('lims', '', "limit" => NULL)$$);
-- a limit below 1 is refused everywhere
SELECT call, sqlstate_detail_of('SELECT * FROM milvus.' || call) AS result
FROM (VALUES
    ($$search('lims', '[[0, 0]]', "limit" => 0)$$),
    ($$search('lims', '[[0, 0]]', "limit" => 0, group_by_field => 'grp')$$),
    ($$hybrid_search('lims', '[{"data": [[0, 0]]}]', "limit" => -1)$$),
    ($$query('lims', 'id > 2', "limit" => 0)$$)
) v(call);

SELECT milvus.drop_collection('lims');
