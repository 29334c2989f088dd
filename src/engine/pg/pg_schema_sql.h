/*
 * pg_schema_sql.h: the catalog queries of the PostgreSQL schema dump (pg_schema.c), one per
 * kind of object, each in the order its objects' SQL runs.
 *
 * Each returns rows of (kind, schema, name, sql, detail) for strata_schema_add; a row whose kind
 * is NULL is a warning, its text in name. They run in one REPEATABLE READ transaction with
 * search_path = pg_catalog, so the server's deparsers (pg_get_*def, pg_get_expr, format_type,
 * regclass/regtype/regproc output) schema-qualify every name but pg_catalog's, whatever the
 * caller's search_path. Every ORDER BY on a name uses COLLATE "C": the order is the same in
 * every database, whatever its collation.
 */
#ifndef STRATA_ENGINE_PG_SCHEMA_SQL_H
#define STRATA_ENGINE_PG_SCHEMA_SQL_H

/* Not an extension's member: objects an extension made come back with CREATE EXTENSION. */
#define NOT_EXT(cat, id)                                                                           \
	" NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = '" cat                             \
	"'::regclass AND x.objid = " id " AND x.deptype = 'e') "
/* Not made with another object (a range type's constructors): it comes back with that one. */
#define NOT_MADE(cat, id)                                                                          \
	" NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = '" cat                             \
	"'::regclass AND x.objid = " id " AND x.deptype = 'i') "
#define COLL_C " COLLATE \"C\""

/* The schemas dumped (not the system's, not an extension's) and the relations in them (not
 * strata's own tables, not an extension's). strata's own functions (pg_summary.c) are left out
 * of Q_FN_CTE by name, its trigger with its table. */
#define Q_COMMON                                                                                   \
	"WITH RECURSIVE nsp AS (SELECT n.oid, n.nspname FROM pg_namespace n"                       \
	" WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"                             \
	" AND n.nspname !~ '^pg_(toast|temp_)' AND" NOT_EXT(                                       \
	    "pg_namespace",                                                                        \
	    "n.oid") "),"                                                                          \
	             " rel AS (SELECT c.oid, c.relname, c.relkind, n.nspname,"                     \
	             " format('%I.%I', n.nspname, c.relname) AS q FROM pg_class c JOIN nsp n"      \
	             " ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', "    \
	             "'f', 'c')"                                                                   \
	             " AND NOT (c.relkind IN ('r', 'p') AND c.relname IN ('strata_migrations',"    \
	             " 'strata_migrations_summary', 'strata_lock', 'strata_seeds')) AND" NOT_EXT(  \
	                 "pg_class", "c.oid") ")"

/* Types: enums, composites, domains, ranges (and base and shell types, for the warnings); tl
 * gives each its depth in the graph of what it is made of, so a domain over an enum or a
 * composite of a domain comes after it. */
#define Q_TYPES_CTE                                                                                \
	", ut AS (SELECT t.oid, t.typname, t.typtype, t.typrelid, n.nspname,"                      \
	" format('%I.%I', n.nspname, t.typname) AS q FROM pg_type t JOIN nsp n"                    \
	" ON n.oid = t.typnamespace WHERE (t.typtype IN ('e', 'd', 'r', 'b', 'p')"                 \
	" OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid)"     \
	" = 'c')) AND NOT EXISTS (SELECT FROM pg_type el WHERE el.oid = t.typelem"                 \
	" AND el.typarray = t.oid) AND" NOT_EXT(                                                   \
	    "pg_type",                                                                             \
	    "t.oid") "AND (t.typrelid = 0 OR" NOT_EXT("pg_class",                                  \
	                                              "t.typrelid") ")),"                          \
	                                                            " tdep AS (SELECT DISTINCT "   \
	                                                            "t.oid AS t, "                 \
	                                                            "coalesce((SELECT el.oid "     \
	                                                            "FROM pg_type el"              \
	                                                            " WHERE el.typarray = "        \
	                                                            "d.refobjid), d.refobjid) AS " \
	                                                            "u FROM ut t JOIN pg_depend d" \
	                                                            " ON d.refclassid = "          \
	                                                            "'pg_type'::regclass AND "     \
	                                                            "d.deptype = 'n'"              \
	                                                            " AND ((d.classid = "          \
	                                                            "'pg_type'::regclass AND "     \
	                                                            "d.objid = t.oid) OR "         \
	                                                            "(t.typrelid <> 0"             \
	                                                            " AND d.classid = "            \
	                                                            "'pg_class'::regclass AND "    \
	                                                            "d.objid = t.typrelid))),"     \
	                                                            " tl(oid, l) AS (SELECT oid, " \
	                                                            "0 FROM ut UNION SELECT d.t, " \
	                                                            "tl.l + 1 FROM tl JOIN tdep d" \
	                                                            " ON d.u = tl.oid WHERE tl.l " \
	                                                            "< 50)"

/* Functions and procedures, each with its phase: 1 before the tables, 2 after them (its
 * signature or SQL body uses a table or a table's row type), 3 after the views (a view's). */
#define Q_FN_CTE                                                                                   \
	", fn AS (SELECT p.oid, p.prokind, n.nspname,"                                             \
	" p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,"           \
	" format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))"    \
	" AS q, coalesce((SELECT max(CASE WHEN rc.relkind IN ('v', 'm') THEN 3 ELSE 2 END)"        \
	" FROM pg_depend d LEFT JOIN pg_type ty ON d.refclassid = 'pg_type'::regclass"             \
	" AND (ty.oid = d.refobjid OR ty.typarray = d.refobjid) JOIN pg_class rc ON rc.oid ="      \
	" CASE WHEN d.refclassid = 'pg_class'::regclass THEN d.refobjid ELSE ty.typrelid END"      \
	" WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'n'"           \
	" AND rc.relkind <> 'c'), 1) AS phase FROM pg_proc p JOIN nsp n"                           \
	" ON n.oid = p.pronamespace WHERE" NOT_EXT("pg_proc", "p.oid") "AND" NOT_MADE(             \
	    "pg_proc", "p.oid") " AND p.proname NOT IN ('strata_migrations_changed', "             \
	                        "'strata_migrations_summarize'))"

/* Tables (plain and partitioned), their depth in the inheritance tree (parents first), and
 * their columns: as CREATE TABLE writes them (def) and as a diff names them (detail). */
#define Q_TABLES_CTE                                                                               \
	", tbl AS (SELECT r.oid, r.nspname, r.relname, r.q, c.relkind, c.relpersistence,"          \
	" c.relispartition, c.relpartbound, c.reloptions, c.relrowsecurity,"                       \
	" c.relforcerowsecurity, c.relreplident FROM rel r JOIN pg_class c ON c.oid = r.oid"       \
	" WHERE r.relkind IN ('r', 'p')),"                                                         \
	" il(oid, l) AS (SELECT oid, 0 FROM tbl UNION SELECT i.inhrelid, il.l + 1 FROM il"         \
	" JOIN pg_inherits i ON i.inhparent = il.oid WHERE il.l < 50),"                            \
	" col AS (SELECT a.attrelid, a.attnum, a.attname, a.attislocal, a.attstattarget,"          \
	" a.attstorage, ty.typstorage, a.attcompression,"                                          \
	" CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation"                     \
	" THEN a.attcollation::regcollation::text END AS coll,"                                    \
	" pg_get_expr(ad.adbin, ad.adrelid) AS def, a.attgenerated, a.attidentity,"                \
	" a.attnotnull, format_type(a.atttypid, a.atttypmod) AS typ,"                              \
	" (SELECT format(' (SEQUENCE NAME %I.%I START WITH %s INCREMENT BY %s MINVALUE %s"         \
	" MAXVALUE %s CACHE %s%s)', sn.nspname, sc.relname, s.seqstart, s.seqincrement,"           \
	" s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END)"         \
	" FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'"              \
	" JOIN pg_namespace sn ON sn.oid = sc.relnamespace JOIN pg_sequence s"                     \
	" ON s.seqrelid = sc.oid WHERE d.classid = 'pg_class'::regclass"                           \
	" AND d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid"                     \
	" AND d.refobjsubid = a.attnum AND d.deptype = 'i') AS idseq"                              \
	" FROM tbl t JOIN pg_attribute a ON a.attrelid = t.oid JOIN pg_type ty"                    \
	" ON ty.oid = a.atttypid LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid"               \
	" AND ad.adnum = a.attnum WHERE a.attnum > 0 AND NOT a.attisdropped)"

/* Views and materialized views, each with its depth in the graph of the views it reads. */
#define Q_VIEWS_CTE                                                                                \
	", vw AS (SELECT r.oid, r.nspname, r.relname, r.q, r.relkind, c.reloptions FROM rel r"     \
	" JOIN pg_class c ON c.oid = r.oid WHERE r.relkind IN ('v', 'm')),"                        \
	" vdep AS (SELECT DISTINCT rw.ev_class AS v, d.refobjid AS u FROM pg_rewrite rw"           \
	" JOIN vw ON vw.oid = rw.ev_class JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass"  \
	" AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass"                            \
	" AND d.refobjid <> rw.ev_class WHERE rw.rulename = '_RETURN'),"                           \
	" vl(oid, l) AS (SELECT oid, 0 FROM vw UNION SELECT d.v, vl.l + 1 FROM vl JOIN vdep d"     \
	" ON d.u = vl.oid WHERE vl.l < 100)"

#endif
