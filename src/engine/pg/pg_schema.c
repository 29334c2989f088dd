/*
 * pg_schema.c: the PostgreSQL schema dump (engine.h, schema_read): the live schema read from
 * the catalog (no pg_dump), as SQL that reloads, in a stable order, through the server's own
 * deparsers. A dozen catalog queries read everything, whatever the number of tables, in one
 * REPEATABLE READ transaction; the queries are in pg_schema_sql.h and below, the SQL of each
 * object built by the server.
 *
 * The order: schemas, extensions, types, functions the tables need, sequences, tables (parents
 * before children), their columns (compared, not run), constraints, indexes, statistics,
 * functions that use a table, foreign keys, views and materialized views (in dependency order)
 * and their indexes, functions that use a view, triggers, rules, policies, comments, then
 * owners and grants (STRATA_SCHEMA_OWNERS). What it cannot dump is named in a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "engine/pg/pg_internal.h"
#include "engine/pg/pg_schema_sql.h"
#include "engine/pg/pq.h"
#include "util/error.h"

static const char q_schemas[] =
    Q_COMMON "SELECT 'schema', NULL, nspname, format(E'CREATE SCHEMA %s%I;\\n',"
             " CASE WHEN nspname = 'public' THEN 'IF NOT EXISTS ' END, nspname), NULL"
             " FROM nsp ORDER BY nspname" COLL_C;

static const char q_extensions[] =
    "SELECT 'extension', NULL, e.extname, format(E'CREATE EXTENSION IF NOT EXISTS %I WITH"
    " SCHEMA %I;\\n', e.extname, n.nspname), format('schema %s version %s', n.nspname,"
    " e.extversion) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    " ORDER BY e.extname" COLL_C;

/* The part of a CREATE DOMAIN after its name, and its constraints. */
#define DOMAIN_SQL                                                                                 \
	"format('CREATE DOMAIN %s AS %s', t.q, format_type(tt.typbasetype, tt.typtypmod))"         \
	" || CASE WHEN tt.typcollation <> 0 AND tt.typcollation <> bt.typcollation"                \
	" THEN ' COLLATE ' || tt.typcollation::regcollation ELSE '' END"                           \
	" || coalesce(' DEFAULT ' || pg_get_expr(tt.typdefaultbin, 0), '')"                        \
	" || CASE WHEN tt.typnotnull THEN ' NOT NULL' ELSE '' END || ';' || coalesce((SELECT"      \
	" string_agg(format(E'\\nALTER DOMAIN %s ADD CONSTRAINT %I %s;', t.q, co.conname,"         \
	" pg_get_constraintdef(co.oid)), '' ORDER BY co.conname" COLL_C ") FROM pg_constraint co"  \
	" WHERE co.contypid = t.oid AND co.contype = 'c'), '')"
#define RANGE_SQL                                                                                  \
	"format('CREATE TYPE %s AS RANGE (subtype = %s', t.q, format_type(rg.rngsubtype, NULL))"   \
	" || CASE WHEN NOT opc.opcdefault THEN format(', subtype_opclass = %I.%I',"                \
	" (SELECT nspname FROM pg_namespace WHERE oid = opc.opcnamespace), opc.opcname)"           \
	" ELSE '' END || CASE WHEN rg.rngcollation <> 0 AND rg.rngcollation <> st.typcollation"    \
	" THEN ', collation = ' || rg.rngcollation::regcollation ELSE '' END"                      \
	" || CASE WHEN rg.rngcanonical <> 0 THEN ', canonical = ' || rg.rngcanonical::regproc"     \
	" ELSE '' END || CASE WHEN rg.rngsubdiff <> 0 THEN ', subtype_diff = '"                    \
	" || rg.rngsubdiff::regproc ELSE '' END || ', multirange_type_name = '"                    \
	" || rg.rngmultitypid::regtype || ');'"
#define COMPOSITE_SQL                                                                              \
	"format(E'CREATE TYPE %s AS (\\n%s\\n);', t.q, (SELECT string_agg(format('    %I %s',"     \
	" a.attname, format_type(a.atttypid, a.atttypmod)) || CASE WHEN a.attcollation <> 0"       \
	" AND a.attcollation <> at.typcollation THEN ' COLLATE ' ||"                               \
	" a.attcollation::regcollation ELSE '' END, E',\\n' ORDER BY a.attnum) FROM pg_attribute"  \
	" a JOIN pg_type at ON at.oid = a.atttypid WHERE a.attrelid = t.typrelid"                  \
	" AND a.attnum > 0 AND NOT a.attisdropped))"

static const char q_types[] = Q_COMMON Q_TYPES_CTE
    " SELECT 'type', t.nspname, t.typname, CASE t.typtype WHEN 'e' THEN"
    " format('CREATE TYPE %s AS ENUM (%s);', t.q, (SELECT string_agg(quote_literal(e.enumlabel),"
    " ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))"
    " WHEN 'c' THEN " COMPOSITE_SQL " WHEN 'd' THEN " DOMAIN_SQL " WHEN 'r' THEN " RANGE_SQL
    " END || E'\\n', NULL FROM ut t JOIN pg_type tt ON tt.oid = t.oid"
    " LEFT JOIN pg_type bt ON bt.oid = tt.typbasetype LEFT JOIN pg_range rg"
    " ON rg.rngtypid = t.oid LEFT JOIN pg_opclass opc ON opc.oid = rg.rngsubopc"
    " LEFT JOIN pg_type st ON st.oid = rg.rngsubtype"
    " JOIN (SELECT oid, max(l) AS l FROM tl GROUP BY oid) lv ON lv.oid = t.oid"
    " WHERE t.typtype IN ('e', 'c', 'd', 'r')"
    " ORDER BY lv.l, t.nspname" COLL_C ", t.typname" COLL_C;

/* Functions and procedures of one phase ($1). */
static const char q_functions[] = Q_COMMON Q_FN_CTE
    " SELECT CASE prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, nspname, name,"
    " rtrim(pg_get_functiondef(oid), E'\\n') || E';\\n', NULL FROM fn"
    " WHERE prokind IN ('f', 'p', 'w') AND phase = $1::int"
    " ORDER BY nspname" COLL_C ", name" COLL_C;

static const char q_sequences[] =
    Q_COMMON " SELECT 'sequence', r.nspname, r.relname,"
             " format(E'CREATE %sSEQUENCE %s AS %s START WITH %s INCREMENT BY %s MINVALUE %s"
             " MAXVALUE %s CACHE %s%s;\\n', CASE WHEN c.relpersistence = 'u' THEN"
             " 'UNLOGGED ' END, r.q, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,"
             " s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' END), NULL"
             " FROM rel r JOIN pg_class c ON c.oid = r.oid JOIN pg_sequence s"
             " ON s.seqrelid = r.oid WHERE r.relkind = 'S' AND NOT EXISTS (SELECT"
             " FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid"
             " AND d.deptype = 'i') ORDER BY r.nspname" COLL_C ", r.relname" COLL_C;

/* A column as CREATE TABLE writes it. */
#define COLUMN_DEF                                                                                 \
	"format('%I %s', c.attname, c.typ) || coalesce(' COLLATE ' || c.coll, '')"                 \
	" || CASE WHEN c.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || c.def || ') STORED'"  \
	" WHEN c.def IS NOT NULL THEN ' DEFAULT ' || c.def ELSE '' END"                            \
	" || CASE WHEN c.attnotnull THEN ' NOT NULL' ELSE '' END || CASE c.attidentity"            \
	" WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' || c.idseq WHEN 'd' THEN"                  \
	" ' GENERATED BY DEFAULT AS IDENTITY' || c.idseq ELSE '' END"
/* What CREATE TABLE cannot say of a column: statistics target, storage, compression. */
#define COLUMN_ALTER                                                                               \
	"CASE WHEN c.attstattarget >= 0 THEN format(E'ALTER TABLE %s"                              \
	" ALTER COLUMN %I SET STATISTICS %s;\\n', t.q, c.attname, c.attstattarget) ELSE '' END"    \
	" || CASE WHEN c.attstorage <> c.typstorage THEN format(E'ALTER TABLE %s ALTER COLUMN"     \
	" %I SET STORAGE %s;\\n', t.q, c.attname, CASE c.attstorage WHEN 'p' THEN 'PLAIN'"         \
	" WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END) ELSE '' END"          \
	" || CASE WHEN c.attcompression <> '' THEN format(E'ALTER TABLE %s ALTER COLUMN %I"        \
	" SET COMPRESSION %s;\\n', t.q, c.attname, CASE c.attcompression WHEN 'p' THEN 'pglz'"     \
	" ELSE 'lz4' END) ELSE '' END"
/* Each table's columns as CREATE TABLE writes them, and what it cannot say of them, in one pass
 * over the columns (a subquery per table read every column once per table: quadratic). */
#define Q_COLDEFS_CTE                                                                              \
	", coldef AS (SELECT c.attrelid, string_agg('    ' || " COLUMN_DEF ", E',\\n'"             \
	" ORDER BY c.attnum) FILTER (WHERE c.attislocal) AS defs, string_agg(" COLUMN_ALTER ", ''" \
	" ORDER BY c.attnum) AS alters FROM col c JOIN tbl t ON t.oid = c.attrelid"                \
	" GROUP BY c.attrelid)"
/* The serial sequences a table's columns own. */
#define OWNED_SEQUENCES                                                                            \
	"coalesce((SELECT string_agg(format(E'ALTER SEQUENCE %I.%I OWNED BY %s.%I;\\n',"           \
	" sn.nspname, sc.relname, t.q, a.attname), '' ORDER BY sc.relname" COLL_C ")"              \
	" FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'"              \
	" JOIN pg_namespace sn ON sn.oid = sc.relnamespace JOIN pg_attribute a"                    \
	" ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"                                      \
	" WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"          \
	" AND d.refobjid = t.oid AND d.deptype = 'a'), '')"

static const char q_tables[] = Q_COMMON Q_TABLES_CTE Q_COLDEFS_CTE
    " SELECT 'table', t.nspname, t.relname, 'CREATE ' || CASE WHEN t.relpersistence = 'u'"
    " THEN 'UNLOGGED ' ELSE '' END || 'TABLE ' || t.q || CASE WHEN t.relispartition"
    " THEN ' PARTITION OF ' || (SELECT pr.q FROM pg_inherits i JOIN rel pr"
    " ON pr.oid = i.inhparent WHERE i.inhrelid = t.oid) || ' '"
    " || pg_get_expr(t.relpartbound, t.oid) ELSE E' (\\n' || coalesce(cd.defs, '')"
    " || E'\\n)' || coalesce((SELECT"
    " ' INHERITS (' || string_agg(pr.q, ', ' ORDER BY i.inhseqno) || ')' FROM pg_inherits i"
    " JOIN rel pr ON pr.oid = i.inhparent WHERE i.inhrelid = t.oid), '') END"
    " || CASE WHEN t.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(t.oid)"
    " ELSE '' END || coalesce(' WITH (' || array_to_string(t.reloptions, ', ') || ')', '')"
    " || E';\\n' || coalesce(cd.alters, '') || " OWNED_SEQUENCES
    " || CASE WHEN t.relrowsecurity THEN format(E'ALTER TABLE %s ENABLE ROW LEVEL"
    " SECURITY;\\n', t.q) ELSE '' END || CASE WHEN t.relforcerowsecurity"
    " THEN format(E'ALTER TABLE %s FORCE ROW LEVEL SECURITY;\\n', t.q) ELSE '' END"
    " || CASE t.relreplident WHEN 'f' THEN format(E'ALTER TABLE %s REPLICA IDENTITY FULL;\\n',"
    " t.q) WHEN 'n' THEN format(E'ALTER TABLE %s REPLICA IDENTITY NOTHING;\\n', t.q)"
    " ELSE '' END, NULL FROM tbl t JOIN (SELECT oid, max(l) AS l FROM il GROUP BY oid) lv"
    " ON lv.oid = t.oid LEFT JOIN coldef cd ON cd.attrelid = t.oid"
    " ORDER BY lv.l, t.nspname" COLL_C ", t.relname" COLL_C;

/* Every column of every table, for the diff: "type text not null default 'x'::text". */
static const char q_columns[] = Q_COMMON Q_TABLES_CTE
    " SELECT 'column', t.nspname, t.relname || '.' || c.attname, NULL, 'type ' || c.typ"
    " || CASE WHEN c.attnotnull THEN ' not null' ELSE '' END || CASE WHEN c.def IS NOT NULL"
    " AND c.attgenerated = '' THEN ' default ' || c.def ELSE '' END"
    " || coalesce(' collate ' || c.coll, '') || CASE WHEN c.attgenerated = 's'"
    " THEN ' generated always as (' || c.def || ') stored' ELSE '' END || CASE c.attidentity"
    " WHEN 'a' THEN ' generated always as identity' WHEN 'd'"
    " THEN ' generated by default as identity' ELSE '' END"
    " FROM tbl t JOIN col c ON c.attrelid = t.oid"
    " ORDER BY t.nspname" COLL_C ", t.relname" COLL_C ", c.attnum";

/* Constraints of tables: all but foreign keys ($1 = 'f': only those). Those a partition or an
 * inheritance child has from its parent come back with the parent's. */
static const char q_constraints[] =
    Q_COMMON " SELECT 'constraint', r.nspname, r.relname || '.' || co.conname,"
             " format(E'ALTER TABLE %s ADD CONSTRAINT %I %s;\\n', r.q, co.conname,"
             " pg_get_constraintdef(co.oid)), pg_get_constraintdef(co.oid)"
             " FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid"
             " WHERE r.relkind IN ('r', 'p') AND co.conparentid = 0 AND co.conislocal"
             " AND CASE WHEN $1 = 'f' THEN co.contype = 'f'"
             " ELSE co.contype IN ('p', 'u', 'c', 'x') END"
             " ORDER BY r.nspname" COLL_C ", r.relname" COLL_C ", co.conname" COLL_C;

/* Indexes that no constraint made, of tables ($1 = 't') or of materialized views ('m'); an
 * index a partition has from its parent's comes back with it. */
static const char q_indexes[] = Q_COMMON
    " SELECT 'index', r.nspname, r.relname || '.' || ic.relname,"
    " regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') || E';\\n'"
    " || CASE WHEN i.indisclustered THEN format(E'ALTER TABLE %s CLUSTER ON %I;\\n', r.q,"
    " ic.relname) ELSE '' END || CASE WHEN i.indisreplident THEN format(E'ALTER TABLE %s"
    " REPLICA IDENTITY USING INDEX %I;\\n', r.q, ic.relname) ELSE '' END,"
    " regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')"
    " FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid"
    " WHERE CASE WHEN $1 = 'm' THEN r.relkind = 'm' ELSE r.relkind IN ('r', 'p') END"
    " AND NOT ic.relispartition AND NOT EXISTS (SELECT FROM pg_depend d"
    " WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid"
    " AND d.refclassid = 'pg_constraint'::regclass AND d.deptype = 'i')"
    " ORDER BY r.nspname" COLL_C ", r.relname" COLL_C ", ic.relname" COLL_C;

static const char q_statistics[] =
    Q_COMMON " SELECT 'statistics', n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid)"
             " || E';\\n', NULL FROM pg_statistic_ext s JOIN nsp n ON n.oid = s.stxnamespace"
             " JOIN rel r ON r.oid = s.stxrelid WHERE" NOT_EXT(
                 "pg_statistic_ext", "s.oid") " ORDER BY n.nspname" COLL_C ", s.stxname" COLL_C;

static const char q_views[] = Q_COMMON Q_VIEWS_CTE
    " SELECT CASE v.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, v.nspname,"
    " v.relname, 'CREATE ' || CASE WHEN v.relkind = 'm' THEN 'MATERIALIZED ' ELSE '' END"
    " || 'VIEW ' || v.q || coalesce(' WITH (' || (SELECT string_agg(o, ', ')"
    " FROM unnest(v.reloptions) o WHERE o !~ '^check_option=') || ')', '') || E' AS\\n'"
    " || rtrim(pg_get_viewdef(v.oid), ';') || coalesce((SELECT E'\\n  WITH '"
    " || upper(substr(o, 14)) || ' CHECK OPTION' FROM unnest(v.reloptions) o"
    " WHERE o ~ '^check_option='), '') || CASE WHEN v.relkind = 'm'"
    " THEN E'\\n  WITH NO DATA' ELSE '' END || E';\\n', NULL FROM vw v"
    " JOIN (SELECT oid, max(l) AS l FROM vl GROUP BY oid) lv ON lv.oid = v.oid"
    " ORDER BY lv.l, v.nspname" COLL_C ", v.relname" COLL_C;

/* Triggers (not a constraint's, not those a partition has from its parent's), with their
 * ENABLE/DISABLE state. */
static const char q_triggers[] =
    Q_COMMON " SELECT 'trigger', r.nspname, r.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)"
             " || E';\\n' || CASE t.tgenabled WHEN 'D' THEN format(E'ALTER TABLE %s DISABLE TRIGGER"
             " %I;\\n', r.q, t.tgname) WHEN 'R' THEN format(E'ALTER TABLE %s ENABLE REPLICA TRIGGER"
             " %I;\\n', r.q, t.tgname) WHEN 'A' THEN format(E'ALTER TABLE %s ENABLE ALWAYS TRIGGER"
             " %I;\\n', r.q, t.tgname) ELSE '' END, pg_get_triggerdef(t.oid) FROM pg_trigger t"
             " JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgparentid = 0"
             " ORDER BY r.nspname" COLL_C ", r.relname" COLL_C ", t.tgname" COLL_C;

static const char q_rules[] =
    Q_COMMON " SELECT 'rule', r.nspname, r.relname || '.' || w.rulename, pg_get_ruledef(w.oid)"
             " || E'\\n' || CASE w.ev_enabled WHEN 'D' THEN format(E'ALTER TABLE %s DISABLE RULE"
             " %I;\\n', r.q, w.rulename) WHEN 'R' THEN format(E'ALTER TABLE %s ENABLE REPLICA RULE"
             " %I;\\n', r.q, w.rulename) WHEN 'A' THEN format(E'ALTER TABLE %s ENABLE ALWAYS RULE"
             " %I;\\n', r.q, w.rulename) ELSE '' END, pg_get_ruledef(w.oid) FROM pg_rewrite w"
             " JOIN rel r ON r.oid = w.ev_class WHERE w.rulename <> '_RETURN'"
             " ORDER BY r.nspname" COLL_C ", r.relname" COLL_C ", w.rulename" COLL_C;

static const char q_policies[] = Q_COMMON
    " SELECT 'policy', r.nspname, r.relname || '.' || p.polname,"
    " format(E'CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s;\\n', p.polname, r.q,"
    " CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, CASE p.polcmd"
    " WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd'"
    " THEN 'DELETE' ELSE 'ALL' END, (SELECT string_agg(g, ', ' ORDER BY g" COLL_C ")"
    " FROM (SELECT CASE WHEN ro = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(ro)) END"
    " AS g FROM unnest(p.polroles) ro) x), ' USING (' || pg_get_expr(p.polqual, p.polrelid)"
    " || ')', ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'), NULL"
    " FROM pg_policy p JOIN rel r ON r.oid = p.polrelid"
    " ORDER BY r.nspname" COLL_C ", r.relname" COLL_C ", p.polname" COLL_C;

/* Comments on every object dumped, columns included. */
static const char q_comments[] = Q_COMMON Q_TYPES_CTE Q_FN_CTE
    " SELECT 'comment', NULL, io.type || ' ' || io.identity, 'COMMENT ON ' || CASE"
    " WHEN co.contypid <> 0 THEN format('CONSTRAINT %I ON DOMAIN %s', co.conname,"
    " co.contypid::regtype) ELSE CASE WHEN io.type ~ ' column$' THEN 'COLUMN'"
    " WHEN io.type = 'table constraint' THEN 'CONSTRAINT' WHEN io.type = 'composite type'"
    " THEN 'TYPE' WHEN io.type = 'statistics object' THEN 'STATISTICS' ELSE upper(io.type)"
    " END || ' ' || io.identity END || ' IS ' || quote_literal(d.description) || E';\\n',"
    " d.description FROM pg_description d CROSS JOIN LATERAL pg_identify_object(d.classoid,"
    " d.objoid, d.objsubid) io LEFT JOIN pg_constraint co"
    " ON d.classoid = 'pg_constraint'::regclass AND co.oid = d.objoid WHERE CASE d.classoid"
    " WHEN 'pg_namespace'::regclass THEN d.objoid IN (SELECT oid FROM nsp)"
    " WHEN 'pg_extension'::regclass THEN true"
    " WHEN 'pg_type'::regclass THEN d.objoid IN (SELECT oid FROM ut"
    " WHERE typtype IN ('e', 'c', 'd', 'r'))"
    " WHEN 'pg_proc'::regclass THEN d.objoid IN (SELECT oid FROM fn WHERE prokind <> 'a')"
    " WHEN 'pg_class'::regclass THEN d.objoid IN (SELECT oid FROM rel WHERE relkind <> 'f')"
    " OR d.objoid IN (SELECT i.indexrelid FROM pg_index i JOIN rel ON rel.oid = i.indrelid)"
    " WHEN 'pg_constraint'::regclass THEN co.conrelid IN (SELECT oid FROM rel)"
    " OR co.contypid IN (SELECT oid FROM ut)"
    " WHEN 'pg_trigger'::regclass THEN d.objoid IN (SELECT t.oid FROM pg_trigger t"
    " JOIN rel ON rel.oid = t.tgrelid WHERE NOT t.tgisinternal)"
    " WHEN 'pg_rewrite'::regclass THEN d.objoid IN (SELECT w.oid FROM pg_rewrite w"
    " JOIN rel ON rel.oid = w.ev_class WHERE w.rulename <> '_RETURN')"
    " WHEN 'pg_policy'::regclass THEN d.objoid IN (SELECT p.oid FROM pg_policy p"
    " JOIN rel ON rel.oid = p.polrelid)"
    " WHEN 'pg_statistic_ext'::regclass THEN d.objoid IN (SELECT s.oid FROM pg_statistic_ext"
    " s JOIN rel ON rel.oid = s.stxrelid) ELSE false END"
    " ORDER BY io.type || ' ' || io.identity" COLL_C;

/* What has an owner and privileges: k is its ALTER keyword, g its GRANT one. A sequence that a
 * column owns (serial, identity) follows its table's owner. */
#define Q_OBJ_CTE                                                                                  \
	", obj AS (SELECT 'SCHEMA' AS k, 'SCHEMA' AS g, NULL::text AS nspname,"                    \
	" quote_ident(n.nspname) AS q, n.nspname::text AS name, x.nspowner AS owner,"              \
	" x.nspacl AS acl FROM nsp n JOIN pg_namespace x ON x.oid = n.oid"                         \
	" UNION ALL SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END, 'TYPE',"       \
	" t.nspname, t.q, t.typname, x.typowner, x.typacl FROM ut t JOIN pg_type x"                \
	" ON x.oid = t.oid WHERE t.typtype IN ('e', 'c', 'd', 'r')"                                \
	" UNION ALL SELECT upper(CASE WHEN f.prokind = 'p' THEN 'procedure' ELSE 'function'"       \
	" END), upper(CASE WHEN f.prokind = 'p' THEN 'procedure' ELSE 'function' END),"            \
	" f.nspname, f.q, f.name, x.proowner, x.proacl FROM fn f JOIN pg_proc x ON x.oid = f.oid"  \
	" WHERE f.prokind <> 'a' UNION ALL SELECT CASE r.relkind WHEN 'S' THEN 'SEQUENCE'"         \
	" WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,"                \
	" CASE WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.nspname, r.q, r.relname,"  \
	" x.relowner, x.relacl FROM rel r JOIN pg_class x ON x.oid = r.oid"                        \
	" WHERE r.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT EXISTS (SELECT FROM pg_depend d"    \
	" WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND r.relkind = 'S'"          \
	" AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))"

static const char q_owners[] = Q_COMMON Q_TYPES_CTE Q_FN_CTE Q_OBJ_CTE
    " SELECT 'owner', nspname, lower(k) || ' ' || name, format(E'ALTER %s %s OWNER TO"
    " %I;\\n', k, q, pg_get_userbyid(owner)), pg_get_userbyid(owner)::text FROM obj"
    " ORDER BY nspname" COLL_C " NULLS FIRST, lower(k) || ' ' || name" COLL_C;

/* The GRANTs of an ACL (SQL text), one per grantee: priv is each privilege as GRANT writes it
 * (of aclexplode's row x), target what they are on. */
#define GRANTS(acl, priv, target)                                                                  \
	"coalesce((SELECT string_agg(format(E'GRANT %s ON %s TO %s%s;\\n', a.privs, " target ","   \
	" CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END," \
	" CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '' ORDER BY CASE"       \
	" WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END" COLL_C ","         \
	" a.is_grantable) FROM (SELECT x.grantee, x.is_grantable, string_agg(" priv ", ', '"       \
	" ORDER BY x.privilege_type) AS privs FROM aclexplode(" acl ") x GROUP BY 1, 2) a), '')"

/* Privileges: all revoked, then each granted (an object without them has the defaults); and
 * those on columns. */
static const char q_grants[] = Q_COMMON Q_TYPES_CTE Q_FN_CTE Q_OBJ_CTE
    " SELECT * FROM (SELECT 'grant' AS kind, o.nspname AS s, lower(o.k) || ' ' || o.name AS n,"
    " format(E'REVOKE ALL ON %s %s FROM PUBLIC;\\nREVOKE ALL ON %s %s FROM %I;\\n', o.g, o.q,"
    " o.g, o.q, pg_get_userbyid(o.owner)) || " GRANTS(
        "o.acl", "x.privilege_type",
        "o.g || ' ' || o.q") " AS sql,"
                             " o.acl::text AS detail FROM obj o WHERE o.acl IS NOT NULL UNION ALL"
                             " SELECT 'grant', r.nspname, 'column ' || r.relname || '.' || "
                             "c.attname, " GRANTS(
                                 "c.attacl", "format('%s (%I)', x.privilege_type, c.attname)",
                                 "'TABLE ' || r.q") ","
                                                    " c.attacl::text FROM rel r JOIN pg_attribute "
                                                    "c ON c.attrelid = r.oid"
                                                    " WHERE c.attacl IS NOT NULL AND c.attnum > 0 "
                                                    "AND NOT c.attisdropped"
                                                    " AND r.relkind IN ('r', 'p', 'v', 'm')) g "
                                                    "ORDER BY s" COLL_C " NULLS FIRST, n" COLL_C;

/* "<what> is not dumped: strata cannot dump <kind>s" for each such object: one of `from`
 * where `cond` (SQL ending with AND, or "") holds, not an extension's. */
#define NOT_DUMPED(kind, name, cat, oid, from, cond)                                               \
	NOT_DUMPED2(kind, kind "s", name, cat, oid, from, cond)
#define NOT_DUMPED2(kind, kinds, name, cat, oid, from, cond)                                       \
	" UNION ALL SELECT format('" kind " %s is not dumped: strata cannot dump " kind            \
	"s', " name ") FROM " from " WHERE " cond                                                  \
	NOT_EXT(cat, oid)
/* The same for an object in a schema (its name column nm, its schema column nsp). */
#define NOT_DUMPED_IN(kind, nm, cat, nsp)                                                          \
	NOT_DUMPED(kind, "format('%I.%I', n.nspname, o." nm ")", cat, "o.oid",                     \
	           cat " o JOIN nsp n ON n.oid = o." nsp, "")
#define W_NOT_DUMPED                                                                               \
	NOT_DUMPED("operator",                                                                     \
	           "format('%I.%s(%s, %s)', n.nspname, o.oprname, format_type(o.oprleft, NULL),"   \
	           " format_type(o.oprright, NULL))",                                              \
	           "pg_operator", "o.oid", "pg_operator o JOIN nsp n ON n.oid = o.oprnamespace",   \
	           "")                                                                             \
	NOT_DUMPED("cast",                                                                         \
	           "format('(%s AS %s)', format_type(o.castsource, NULL),"                         \
	           " format_type(o.casttarget, NULL))",                                            \
	           "pg_cast", "o.oid", "pg_cast o",                                                \
	           "o.oid >= 16384 AND" NOT_MADE("pg_cast", "o.oid") "AND")                        \
	NOT_DUMPED("event trigger", "quote_ident(o.evtname)", "pg_event_trigger", "o.oid",         \
	           "pg_event_trigger o", "")                                                       \
	NOT_DUMPED("foreign-data wrapper", "quote_ident(o.fdwname)", "pg_foreign_data_wrapper",    \
	           "o.oid", "pg_foreign_data_wrapper o", "")                                       \
	NOT_DUMPED("foreign server", "quote_ident(o.srvname)", "pg_foreign_server", "o.oid",       \
	           "pg_foreign_server o", "")                                                      \
	NOT_DUMPED("publication", "quote_ident(o.pubname)", "pg_publication", "o.oid",             \
	           "pg_publication o", "")                                                         \
	NOT_DUMPED("access method", "quote_ident(o.amname)", "pg_am", "o.oid", "pg_am o",          \
	           "o.oid >= 16384 AND")                                                           \
	NOT_DUMPED("language", "quote_ident(o.lanname)", "pg_language", "o.oid", "pg_language o",  \
	           "o.oid >= 16384 AND")                                                           \
	NOT_DUMPED("transform",                                                                    \
	           "format('FOR %s LANGUAGE %I', format_type(o.trftype, NULL),"                    \
	           " (SELECT lanname FROM pg_language WHERE oid = o.trflang))",                    \
	           "pg_transform", "o.oid", "pg_transform o", "")                                  \
	NOT_DUMPED_IN("collation", "collname", "pg_collation", "collnamespace")                    \
	NOT_DUMPED_IN("conversion", "conname", "pg_conversion", "connamespace")                    \
	NOT_DUMPED_IN("text search configuration", "cfgname", "pg_ts_config", "cfgnamespace")      \
	NOT_DUMPED_IN("text search dictionary", "dictname", "pg_ts_dict", "dictnamespace")         \
	NOT_DUMPED_IN("text search parser", "prsname", "pg_ts_parser", "prsnamespace")             \
	NOT_DUMPED_IN("text search template", "tmplname", "pg_ts_template", "tmplnamespace")       \
	NOT_DUMPED2("operator class", "operator classes", "format('%I.%I', n.nspname, o.opcname)", \
	            "pg_opclass", "o.oid", "pg_opclass o JOIN nsp n ON n.oid = o.opcnamespace",    \
	            "")                                                                            \
	NOT_DUMPED_IN("operator family", "opfname", "pg_opfamily", "opfnamespace")

/* Whatever the dump leaves out or changes, each named. */
static const char q_warnings[] = Q_COMMON Q_TYPES_CTE Q_FN_CTE
    " SELECT NULL, NULL, w, NULL, NULL FROM ("
    " SELECT format('aggregate %s is not dumped: strata cannot dump aggregates', q) AS w"
    " FROM fn WHERE prokind = 'a'"
    " UNION ALL SELECT format('type %s is a %s type: strata cannot dump it', q, CASE typtype"
    " WHEN 'b' THEN 'base' ELSE 'shell' END) FROM ut WHERE typtype IN ('b', 'p')"
    " UNION ALL SELECT format('foreign table %s is not dumped: strata cannot dump foreign"
    " tables', q) FROM rel WHERE relkind = 'f'" W_NOT_DUMPED
    " UNION ALL SELECT format('subscription %I is not dumped: strata cannot dump"
    " subscriptions', s.subname) FROM pg_subscription s JOIN pg_database d"
    " ON d.oid = s.subdbid WHERE d.datname = current_database()"
    " UNION ALL SELECT format('table %s is a typed table (OF %s): it is dumped as a plain"
    " table', r.q, c.reloftype::regtype) FROM rel r JOIN pg_class c ON c.oid = r.oid"
    " WHERE c.reloftype <> 0 AND r.relkind IN ('r', 'p')"
    " UNION ALL SELECT format('%s is in the tablespace %I: it is dumped without it', r.q,"
    " s.spcname) FROM rel r JOIN pg_class c ON c.oid = r.oid JOIN pg_tablespace s"
    " ON s.oid = c.reltablespace"
    " UNION ALL SELECT format('table %s uses the access method %I: it is dumped as a heap"
    " table', r.q, a.amname) FROM rel r JOIN pg_class c ON c.oid = r.oid JOIN pg_am a"
    " ON a.oid = c.relam WHERE r.relkind IN ('r', 'm') AND a.amname <> 'heap'"
    " UNION ALL SELECT format('range type %s has a canonical function: strata dumps it, but"
    " the dump does not reload (the function needs a shell type first)', t.q) FROM ut t"
    " JOIN pg_range rg ON rg.rngtypid = t.oid WHERE rg.rngcanonical <> 0"
    " UNION ALL SELECT format('index %I.%I on %s is invalid (left by a failed CREATE INDEX"
    " CONCURRENTLY?): it is dumped as a valid index; drop it, or REINDEX it', r.nspname,"
    " c.relname, r.q) FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class c"
    " ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relkind = 'i'"
    " UNION ALL SELECT format('the default privileges of %I%s are not dumped',"
    " pg_get_userbyid(d.defaclrole), ' in schema ' || quote_ident(n.nspname))"
    " FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace"
    " UNION ALL (SELECT 'security labels are not dumped' FROM pg_seclabel LIMIT 1)"
    ") x ORDER BY w" COLL_C;

/* One of the queries, and the parameter it takes (NULL: none). */
struct schema_query {
	const char *sql;
	const char *param;
	bool owners; /* only with STRATA_SCHEMA_OWNERS */
};

static const struct schema_query schema_queries[] = {
    {q_schemas, NULL, false},    {q_extensions, NULL, false}, {q_types, NULL, false},
    {q_functions, "1", false},   {q_sequences, NULL, false},  {q_tables, NULL, false},
    {q_columns, NULL, false},    {q_constraints, "c", false}, {q_indexes, "t", false},
    {q_statistics, NULL, false}, {q_functions, "2", false},   {q_constraints, "f", false},
    {q_views, NULL, false},      {q_indexes, "m", false},     {q_functions, "3", false},
    {q_triggers, NULL, false},   {q_rules, NULL, false},      {q_policies, NULL, false},
    {q_comments, NULL, false},   {q_owners, NULL, true},      {q_grants, NULL, true},
    {q_warnings, NULL, false},
};

/* Adds the rows of one query's result: objects, or warnings (kind NULL). */
static int add_rows(strata_schema *out, const PGresult *r, strata_error *e)
{
	int error = 0;
	for (int i = 0; i < PQntuples(r) && error == 0; i++) {
		const char *v[5];
		for (int c = 0; c < 5; c++)
			v[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
		if (!v[0])
			error = strata_schema_warn(out, e, "%s", v[2]);
		else
			error = strata_schema_add(out, v[0], v[1], v[2], v[3], v[4], e);
	}
	return error;
}

/* One query's rows, added as they come (a row at a time: no result holds them all). */
static int read_query(pg_conn *pg, const struct schema_query *q, strata_schema *out,
                      strata_error *e)
{
	PGresult *r;
	int error = 0;

	if (!PQsendQueryParams(pg->conn, q->sql, q->param ? 1 : 0, NULL, &q->param, NULL, NULL, 0))
		return strata_pg__error(pg, NULL, e);
	(void)PQsetSingleRowMode(pg->conn); /* refused, the rows come in one result: read alike */
	while ((r = strata_pg_next_result(&pg->link)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (error == 0 && (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK))
			error = add_rows(out, r, e);
		else if (error == 0)
			error = strata_pg__error(pg, r, e);
		PQclear(r);
	}
	return error;
}

/* The reading transaction: one snapshot, and settings that make the deparsers' output the
 * same whoever reads (names qualified but pg_catalog's, dates in ISO and UTC, floats exact). */
#define SCHEMA_SETTINGS                                                                            \
	" SET LOCAL search_path = pg_catalog; SET LOCAL TimeZone = 'UTC';"                         \
	" SET LOCAL DateStyle = 'ISO'; SET LOCAL IntervalStyle = 'postgres';"                      \
	" SET LOCAL extra_float_digits = 3; SET LOCAL quote_all_identifiers = off;"                \
	" SET LOCAL lc_monetary = 'C'; SET LOCAL statement_timeout = 0"

int strata_pg__schema_read(strata_conn *b, unsigned flags, strata_schema *out, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	/* inside a transaction of the caller's (migrations test reads the schema between a
	 * migration's up and down): a savepoint, rolled back after, takes the settings back */
	bool nested = PQtransactionStatus(pg->conn) == PQTRANS_INTRANS;
	bool begun = false;
	int error = 0;

	if (PQserverVersion(pg->conn) < 140000) {
		error = strata_error_set(e, STRATA_ERROR,
		                         "the schema dump needs PostgreSQL 14 or later, the server "
		                         "is %d.%d",
		                         PQserverVersion(pg->conn) / 10000,
		                         PQserverVersion(pg->conn) % 10000);
		goto done;
	}
	if ((error = strata_pg__exec(pg,
	                             nested ? "SAVEPOINT strata_schema_read;" SCHEMA_SETTINGS
	                                    : "BEGIN ISOLATION LEVEL REPEATABLE READ READ "
	                                      "ONLY;" SCHEMA_SETTINGS,
	                             e)) < 0)
		goto done;
	begun = true;
	for (size_t i = 0; i < sizeof(schema_queries) / sizeof(schema_queries[0]); i++) {
		const struct schema_query *q = &schema_queries[i];
		if (q->owners && !(flags & STRATA_SCHEMA_OWNERS))
			continue;
		if (b->interrupted) {
			error = strata_conn_interrupted(e);
			goto done;
		}
		if ((error = read_query(pg, q, out, e)) < 0)
			goto done;
	}
	error = strata_pg__exec(pg,
	                        nested ? "ROLLBACK TO SAVEPOINT strata_schema_read; RELEASE "
	                                 "SAVEPOINT strata_schema_read"
	                               : "COMMIT",
	                        e);
	begun = false;
done:
	if (begun)
		PQclear(strata_pg_exec(&pg->link, nested
		                                      ? "ROLLBACK TO SAVEPOINT strata_schema_read; "
		                                        "RELEASE SAVEPOINT strata_schema_read"
		                                      : "ROLLBACK"));
	return error;
}

const char strata_pg__schema_preamble[] = "SET check_function_bodies = false;\n"
                                          "SET client_min_messages = warning;\n"
                                          "SET search_path = '';";
