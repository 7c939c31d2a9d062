--
-- Limits of search, query and hybrid_search: "limit" => NULL in each, and the
-- superuser-only settings milvus.search_max_nq, search_max_topk and
-- search_max_group_size.
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

--
-- The settings: a superuser's to change, within 1 .. 2^30
--
CREATE ROLE regress_milvus_limits;
GRANT SELECT ON lims TO regress_milvus_limits;
SET ROLE regress_milvus_limits;
SELECT name, sqlstate_of(format('SET %s = 5', name)) AS set_by_a_user
FROM (VALUES ('milvus.search_max_nq'), ('milvus.search_max_topk'), ('milvus.search_max_group_size')) v(name);
SELECT current_setting('milvus.search_max_nq') AS nq, current_setting('milvus.search_max_topk') AS topk,
       current_setting('milvus.search_max_group_size') AS group_size;
-- the defaults let a user run these
SELECT count(*) FROM milvus.search('lims', '[[0, 0], [1, 0], [2, 0]]', "limit" => 4);
SELECT count(*) FROM milvus.search('lims', '[[0, 0]]', "limit" => 2, group_by_field => 'grp', group_size => 3);
RESET ROLE;

SELECT name, value, sqlstate_of(format('SET %s = %s', name, value)) AS set_by_a_superuser
FROM (VALUES ('milvus.search_max_nq'), ('milvus.search_max_topk'), ('milvus.search_max_group_size')) v(name),
     (VALUES ('0'), ('-1'), ('1073741825'), ('''many''')) w(value);
SELECT current_setting('milvus.search_max_nq') AS nq, current_setting('milvus.search_max_topk') AS topk,
       current_setting('milvus.search_max_group_size') AS group_size;

-- a superuser lowers them: the same calls are refused, for the user too
SET milvus.search_max_nq = 2;
SET milvus.search_max_topk = 3;
SET milvus.search_max_group_size = 2;
SET ROLE regress_milvus_limits;
SELECT call, sqlstate_detail_of('SELECT * FROM milvus.' || call) AS result
FROM (VALUES
    ($$search('lims', '[[0, 0], [1, 0], [2, 0]]', "limit" => 1)$$),
    ($$search('lims', '[[0, 0], [1, 0]]', "limit" => 1)$$),
    ($$search('lims', '[[0, 0]]', "limit" => 4)$$),
    ($$search('lims', '[[0, 0]]', "limit" => 2, "offset" => 2)$$),
    ($$search('lims', '[[0, 0]]', "limit" => 3)$$),
    ($$search('lims', '[[0, 0]]')$$),
    ($$search('lims', '[[0, 0]]', "limit" => 2, group_by_field => 'grp', group_size => 3)$$),
    ($$search('lims', '[[0, 0]]', "limit" => 2, group_by_field => 'grp', group_size => 2)$$),
    ($$hybrid_search('lims', '[{"data": [[0, 0]], "limit": 3}]', "limit" => 4)$$),
    ($$hybrid_search('lims', '[{"data": [[0, 0]], "limit": 4}]', "limit" => 3)$$),
    ($$hybrid_search('lims', '[{"data": [[0, 0]], "limit": 3}]', "limit" => 3)$$),
    ($$query('lims', 'id > 0', "limit" => 4)$$),
    ($$query('lims', 'id > 0', "limit" => 2, "offset" => 2)$$),
    ($$query('lims', 'id > 0', "limit" => 3)$$)
) v(call);
RESET ROLE;
RESET milvus.search_max_nq;
RESET milvus.search_max_topk;
RESET milvus.search_max_group_size;

REVOKE SELECT ON lims FROM regress_milvus_limits;
DROP ROLE regress_milvus_limits;
SELECT milvus.drop_collection('lims');
