#include "core/sqlsplit.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/pgq.h"
#include "util/error.h"
#include "util/text.h"

/* libpg_query's scanner allocates about 60 times what it reads (every identifier, downcased,
 * stays until the split returns): 64 KiB windows keep that near 4 MiB */
#define WINDOW_DEFAULT ((size_t)64 * 1024)

struct strata_sql_split {
	strata_dialect d;
	const strata_section *sec;
	const char *sql; /* the section's text */
	size_t total;    /* its length */
	size_t len;      /* where the current segment ends: the next block's start, or total */
	size_t blk;      /* the next block of the section (goose's StatementBegin/End) */
	size_t pos;      /* where the next statement's text begins */
	size_t last_end; /* where the last statement returned ends */
	char *buf;       /* the current statement's text */
	size_t buf_cap;
	size_t scanned; /* bytes handed to the tokenizer */
	/* PostgreSQL: a window of the text from win_at, NUL-terminated, and its split */
	char *win;
	size_t win_cap, win_len, win_at;
	size_t window; /* the size of a window */
	size_t need;   /* at pos, a window of at least this size: a smaller one held no statement */
	bool win_end;  /* the window reaches the end of the section */
	bool have_split;
	PgQuerySplitResult split;
	int split_next;
};

/* ---- blanks, comments and words ------------------------------------------------------------ */

size_t strata_sql_skip_blank(strata_dialect d, const char *s, size_t off, size_t end)
{
	while (off < end) {
		if (isspace((unsigned char)s[off])) {
			off++;
		} else if (s[off] == '-' && off + 1 < end && s[off + 1] == '-') {
			/* to the end of the line: PostgreSQL's scanner ends it at a CR too */
			while (off < end && s[off] != '\n' &&
			       !(d == STRATA_DIALECT_POSTGRES && s[off] == '\r'))
				off++;
		} else if (s[off] == '/' && off + 1 < end && s[off + 1] == '*') {
			int depth = 1;
			off += 2;
			while (off < end && depth > 0) {
				if (d == STRATA_DIALECT_POSTGRES && s[off] == '/' &&
				    off + 1 < end && s[off + 1] == '*') {
					depth++;
					off += 2;
				} else if (s[off] == '*' && off + 1 < end && s[off + 1] == '/') {
					depth--;
					off += 2;
				} else {
					off++;
				}
			}
		} else {
			break;
		}
	}
	return off;
}

/* ... and past empty statements (stray ';'): where a statement really starts. */
static size_t skip_empty(strata_dialect d, const char *s, size_t off, size_t end)
{
	off = strata_sql_skip_blank(d, s, off, end);
	while (off < end && s[off] == ';')
		off = strata_sql_skip_blank(d, s, off + 1, end);
	return off;
}

struct words {
	strata_dialect d;
	const char *s;
	size_t len, pos;
};

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* The next word (a keyword or an unquoted name), or false when what comes next is not one. */
static bool next_word(struct words *w, const char **word, size_t *n)
{
	size_t at = strata_sql_skip_blank(w->d, w->s, w->pos, w->len), end = at;
	if (at >= w->len || !(isalpha((unsigned char)w->s[at]) || w->s[at] == '_'))
		return false;
	while (end < w->len && is_word_char(w->s[end]))
		end++;
	*word = w->s + at;
	*n = end - at;
	w->pos = end;
	return true;
}

static bool word_is(const char *word, size_t n, const char *want)
{
	return n == strlen(want) && strata_ascii_ncasecmp(word, want, n) == 0;
}

/* The next word is `want` (consumed only then). */
static bool next_is(struct words *w, const char *want)
{
	struct words peek = *w;
	const char *word;
	size_t n;
	if (!next_word(&peek, &word, &n) || !word_is(word, n, want))
		return false;
	*w = peek;
	return true;
}

/* The first word of every statement strata_sql_txn_control names. */
static const char *const txn_first_words[] = {"begin",  "start",    "end",    "abort",
                                              "commit", "rollback", "prepare"};

/* Whether text[0, len) has one of txn_first_words as a word of its own (not inside a longer
 * one). A statement's first word follows a ';', white space, a comment or the section's start,
 * none of which is_word_char takes, so text without such a word holds no transaction control:
 * strata_sql_check_txn then need not split it (nor load libpg_query to). Words in strings,
 * comments and function bodies count too: they only send the text to the splitter. */
static bool may_hold_txn_control(const char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t at = i;
		if (!is_word_char(text[i])) {
			i++;
			continue;
		}
		while (i < len && is_word_char(text[i]))
			i++;
		for (size_t k = 0; k < sizeof(txn_first_words) / sizeof(txn_first_words[0]); k++)
			if (word_is(text + at, i - at, txn_first_words[k]))
				return true;
	}
	return false;
}

bool strata_sql_may_hold_txn_control(const strata_section *s)
{
	return s->present && may_hold_txn_control(s->text + s->offset, s->len);
}

const char *strata_sql_txn_control(strata_dialect d, const char *text, size_t len)
{
	struct words w = {d, text, len, 0};
	const char *word;
	size_t n;

	if (!next_word(&w, &word, &n))
		return NULL;
	if (word_is(word, n, "begin"))
		return "BEGIN";
	if (word_is(word, n, "start"))
		return next_is(&w, "transaction") ? "START TRANSACTION" : NULL;
	if (word_is(word, n, "end"))
		return "END";
	if (word_is(word, n, "abort"))
		return "ABORT";
	if (word_is(word, n, "commit"))
		return next_is(&w, "prepared") ? "COMMIT PREPARED" : "COMMIT";
	if (word_is(word, n, "rollback")) {
		if (next_is(&w, "prepared"))
			return "ROLLBACK PREPARED";
		if (!next_is(&w, "work"))
			next_is(&w, "transaction");
		return next_is(&w, "to") ? NULL : "ROLLBACK";
	}
	if (word_is(word, n, "prepare") && next_is(&w, "transaction")) {
		/* PREPARE TRANSACTION 'id'; not a prepared statement named "transaction" */
		size_t at = strata_sql_skip_blank(d, text, w.pos, len);
		if (at < len && text[at] != '(' && !next_is(&w, "as"))
			return "PREPARE TRANSACTION";
	}
	return NULL;
}

/* ---- the splitter -------------------------------------------------------------------------- */

/* The section's next block from sp->blk on, as [*bs, *be) in the section's bytes (a block may
 * reach past a section narrowed to one statement: it is cut to the section). */
static bool next_block(strata_sql_split *sp, size_t *bs, size_t *be)
{
	const strata_section *s = sp->sec;
	size_t lo = s->offset, hi = s->offset + sp->total;
	for (; sp->blk < s->nblocks; sp->blk++) {
		size_t a = s->blocks[2 * sp->blk], b = s->blocks[2 * sp->blk + 1];
		if (a >= hi) {
			sp->blk = s->nblocks;
			break;
		}
		if (b <= lo || b <= a)
			continue;
		*bs = (a > lo ? a : lo) - lo;
		*be = (b < hi ? b : hi) - lo;
		return true;
	}
	return false;
}

int strata_sql_split_new(strata_sql_split **out, strata_dialect d, const strata_section *s,
                         strata_error *e)
{
	size_t bs, be;
	strata_sql_split *sp;
	int error;
	*out = NULL;
	if (d == STRATA_DIALECT_POSTGRES && (error = strata_pgq_load(e)) < 0)
		return error;
	if (!(sp = calloc(1, sizeof(*sp))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	sp->d = d;
	sp->sec = s;
	sp->sql = s->present ? s->text + s->offset : "";
	sp->total = sp->len = s->present ? s->len : 0;
	sp->window = WINDOW_DEFAULT;
	if (s->present && next_block(sp, &bs, &be))
		sp->len = bs;
	*out = sp;
	return 0;
}

static void drop_split(strata_sql_split *sp)
{
	if (sp->have_split)
		pg_query_free_split_result(sp->split);
	sp->have_split = false;
	memset(&sp->split, 0, sizeof(sp->split));
	sp->split_next = 0;
}

void strata_sql_split_free(strata_sql_split *sp)
{
	if (!sp)
		return;
	drop_split(sp);
	free(sp->win);
	free(sp->buf);
	free(sp);
}

void strata_sql_split__window(strata_sql_split *sp, size_t bytes)
{
	sp->window = bytes ? bytes : 1;
}

size_t strata_sql_split__scanned(const strata_sql_split *sp)
{
	return sp->scanned;
}

static int reserve(char **p, size_t *cap, size_t need, strata_error *e)
{
	char *n;
	size_t ncap;
	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*p, ncap);
	if (!n)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	*p = n;
	*cap = ncap;
	return 0;
}

/* Copies [off, end) of the section into the statement buffer. */
static int set_text(strata_sql_split *sp, size_t off, size_t end, strata_error *e)
{
	int error = reserve(&sp->buf, &sp->buf_cap, end - off + 1, e);
	if (error < 0)
		return error;
	memcpy(sp->buf, sp->sql + off, end - off);
	sp->buf[end - off] = '\0';
	return 0;
}

/* Splits the window [pos, pos + size) of the text (or up to its end). */
static int pg_window(strata_sql_split *sp, size_t size, strata_error *e)
{
	size_t n = sp->len - sp->pos < size ? sp->len - sp->pos : size;
	int error = reserve(&sp->win, &sp->win_cap, n + 1, e);
	if (error < 0)
		return error;
	memcpy(sp->win, sp->sql + sp->pos, n);
	sp->win[n] = '\0';
	sp->win_at = sp->pos;
	sp->win_len = n;
	sp->win_end = sp->pos + n == sp->len;
	sp->scanned += n;
	sp->split = pg_query_split_with_scanner(sp->win);
	sp->have_split = true;
	sp->split_next = 0;
	return 0;
}

/* Where the scanner's error is, in bytes from the window's start. */
static size_t pg_error_at(const strata_sql_split *sp)
{
	int pos = sp->split.error->cursorpos;
	return pos > 0 ? strata_utf8_char_to_byte(sp->win, sp->win_len, (size_t)pos - 1) : 0;
}

/* A split of a window from pos. When the window's end cuts a quoted string or a comment, the
 * scanner fails where that token starts: the window is split again, ending just before it, or
 * twice as large when that cannot be. A window in which no statement ends leaves `need` at twice
 * its size, so the next one is larger (and a real error is reported once a window reaches the
 * end). */
static int pg_fill(strata_sql_split *sp, strata_error *e)
{
	size_t size = sp->window > sp->need ? sp->window : sp->need;
	int error;
	for (;;) {
		size_t at;
		if ((error = pg_window(sp, size, e)) < 0 || !sp->split.error || sp->win_end)
			return error;
		at = pg_error_at(sp);
		drop_split(sp);
		/* each window ending before an error starts further on than the last one, so this
		 * ends, whatever the scanner's error positions (in characters) map to */
		if (at > sp->need && at < size)
			size = sp->need = at;
		else
			size *= 2;
	}
}

/* The next statement as libpg_query's scanner splits it: [*lead, *end), past its ';'. */
static int pg_raw_next(strata_sql_split *sp, size_t *lead, size_t *end, strata_error *e)
{
	int error;
	for (;;) {
		if (sp->have_split && !sp->split.error) {
			bool used = sp->split_next > 0;
			if (sp->split_next < sp->split.n_stmts) {
				const PgQuerySplitStmt *st = sp->split.stmts[sp->split_next];
				size_t stop = (size_t)st->stmt_location + (size_t)st->stmt_len;
				bool term = stop < sp->win_len && sp->win[stop] == ';';
				/* the statement the window's end cut is read again, whole, from the
				 * next window */
				if (term || sp->win_end) {
					sp->split_next++;
					sp->need = 0;
					*lead = sp->pos;
					*end = term ? sp->win_at + stop + 1 : sp->len;
					sp->pos = *end;
					return 1;
				}
			}
			drop_split(sp);
			if (sp->win_end) {
				/* what the scanner counted as no statement: no keyword before the
				 * end, or parentheses left open */
				size_t at = sp->pos;
				sp->pos = sp->len;
				if (skip_empty(sp->d, sp->sql, at, sp->len) >= sp->len)
					return 0;
				*lead = at;
				*end = sp->len;
				return 1;
			}
			if (!used) /* no statement ends inside the window: a larger one */
				sp->need = sp->win_len * 2;
		} else if (sp->have_split) {
			strata_section_locate(sp->sec, sp->win_at + pg_error_at(sp), e);
			error = strata_error_set(e, STRATA_EINVALID, "%s",
			                         sp->split.error->message ? sp->split.error->message
			                                                  : "syntax error");
			drop_split(sp);
			return error;
		}
		if (sp->pos >= sp->len)
			return 0;
		if ((error = pg_fill(sp, e)) < 0)
			return error;
	}
}

/* Goes back to pos (a statement's start), dropping the window. */
static void pg_seek(strata_sql_split *sp, size_t pos)
{
	drop_split(sp);
	sp->pos = pos;
	sp->need = 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* CREATE [OR REPLACE] FUNCTION|PROCEDURE ... with the word ATOMIC somewhere in it (psql's rule
 * for a body that may hold ';'). */
static bool may_be_atomic_routine(const char *s, size_t len)
{
	struct words w = {STRATA_DIALECT_POSTGRES, s, len, 0};
	if (!next_is(&w, "create"))
		return false;
	if (next_is(&w, "or") && !next_is(&w, "replace"))
		return false;
	if (!next_is(&w, "function") && !next_is(&w, "procedure"))
		return false;
	for (size_t i = w.pos; i + 6 <= len; i++)
		if ((s[i] == 'a' || s[i] == 'A') && strata_ascii_ncasecmp(s + i, "atomic", 6) == 0)
			return true;
	return false;
}

/* A BEGIN ATOMIC body split at its ';' by the scanner: joins the following pieces to [off, *end)
 * while the parser says the statement stops at the end of its input; leaves it as it was when
 * no join parses. */
static int pg_join_atomic(strata_sql_split *sp, size_t off, size_t *end, strata_error *e)
{
	size_t back = sp->pos, upto = *end, lead, next_end;
	strata_error ignored = STRATA_ERROR_INIT;
	int error = 0;

	if (!may_be_atomic_routine(sp->sql + off, *end - off))
		return 0;
	for (;;) {
		PgQueryParseResult r;
		bool ok, at_end;
		if ((error = set_text(sp, off, upto, e)) < 0)
			return error;
		r = pg_query_parse(sp->buf);
		ok = !r.error;
		at_end =
		    r.error && r.error->message && ends_with(r.error->message, "at end of input");
		pg_query_free_parse_result(r);
		if (ok) {
			*end = upto;
			return 0;
		}
		if (!at_end || pg_raw_next(sp, &lead, &next_end, &ignored) <= 0)
			break;
		upto = next_end;
	}
	pg_seek(sp, back);
	return 0;
}

/* SQLite: the statement from off ends at the first ';' where sqlite3_complete says it does. */
static int sq_next(strata_sql_split *sp, size_t off, size_t *end, strata_error *e)
{
	size_t have = off, r = off;
	int error;
	for (;;) {
		const char *semi = memchr(sp->sql + r, ';', sp->len - r);
		size_t upto = semi ? (size_t)(semi - sp->sql) + 1 : sp->len;
		if ((error = reserve(&sp->buf, &sp->buf_cap, upto - off + 1, e)) < 0)
			return error;
		memcpy(sp->buf + (have - off), sp->sql + have, upto - have);
		sp->buf[upto - off] = '\0';
		have = upto;
		if (!semi) {
			*end = sp->len;
			return 0;
		}
		sp->scanned += upto - off;
		if (sqlite3_complete(sp->buf)) {
			*end = upto;
			return 0;
		}
		r = upto;
	}
}

/* The next statement of the current segment (text between blocks); 0 at its end. */
static int segment_next(strata_sql_split *sp, strata_sql_piece *out, strata_error *e)
{
	size_t lead, off, end;
	int error;

	for (;;) {
		if (sp->d == STRATA_DIALECT_SQLITE) {
			lead = sp->pos;
			off = skip_empty(sp->d, sp->sql, lead, sp->len);
			if (off >= sp->len) {
				sp->pos = sp->len;
				return 0;
			}
			if ((error = sq_next(sp, off, &end, e)) < 0)
				return error;
			sp->pos = end;
			break;
		}
		if ((error = pg_raw_next(sp, &lead, &end, e)) <= 0)
			return error;
		off = skip_empty(sp->d, sp->sql, lead, end);
		if (off >= end) /* (the scanner found a keyword there: never drop it) */
			off = lead;
		if ((error = pg_join_atomic(sp, off, &end, e)) < 0 ||
		    (error = set_text(sp, off, end, e)) < 0)
			return error;
		break;
	}
	out->lead = lead;
	out->off = off;
	out->end = end;
	out->text = sp->buf;
	return 1;
}

/* Statements come from the segments between blocks, each cut by the dialect's tokenizer, and
 * from the blocks, each one statement as it stands (goose sends it whole, semicolons and all). */
int strata_sql_split_next(strata_sql_split *sp, strata_sql_piece *out, strata_error *e)
{
	for (;;) {
		size_t bs, be, nbs, nbe, off;
		int got = segment_next(sp, out, e), error;
		if (got > 0) {
			/* (a skipped empty block leaves nothing between: lead is the last end) */
			out->lead = sp->last_end;
			sp->last_end = out->end;
		}
		if (got != 0 || sp->len >= sp->total || !next_block(sp, &bs, &be))
			return got;
		/* the block that ends the segment, then the segment after it */
		sp->blk++;
		drop_split(sp);
		sp->need = 0;
		sp->pos = be;
		sp->len = next_block(sp, &nbs, &nbe) ? nbs : sp->total;
		off = strata_sql_skip_blank(sp->d, sp->sql, bs, be);
		if (off >= be)
			continue; /* nothing in it */
		if ((error = set_text(sp, off, be, e)) < 0)
			return error;
		sp->scanned += be - bs;
		/* its text begins where the last statement ended: the annotation lines and any
		 * comment before them ('-- strata:nolint') are its own */
		out->lead = sp->last_end;
		out->off = off;
		out->end = sp->last_end = be;
		out->text = sp->buf;
		return 1;
	}
}

/* ---- transaction control -------------------------------------------------------------------- */

int strata_sql_txn_error(const strata_section *s, bool up, size_t off, const char *kind,
                         bool run_txn, strata_error *e)
{
	strata_section_locate(s, off, e);
	if (run_txn) {
		strata_error_detail(e, "with one_transaction, every migration of the run goes in "
		                       "one transaction, which this statement would end or split");
		strata_error_hint(e, "remove it, or run with one_transaction off");
	} else {
		strata_error_detail(e, "strata runs each migration and its history row in one "
		                       "transaction; a BEGIN, COMMIT or ROLLBACK of its own would "
		                       "commit part of it on its own, or leave part of it applied "
		                       "when a later statement fails");
		char how[300];
		strata_error_hint(e,
		                  "remove it (strata runs the %s in a transaction), or %s to run "
		                  "it without one",
		                  s->format == STRATA_FORMAT_STRATA ? "section" : "file",
		                  strata_section_no_txn_how(s, up, how, sizeof(how)));
	}
	return strata_error_set(e, STRATA_EINVALID,
	                        "%s inside the transaction the migration runs in", kind);
}

/* The block of s (goose's StatementBegin/End) that piece [off, end) of s is, as a section of
 * its own without blocks, in *out; false when the piece is no block. */
static bool block_piece(const strata_section *s, size_t off, size_t end, strata_section *out)
{
	for (size_t i = 0; i < s->nblocks; i++) {
		size_t a = s->blocks[2 * i], b = s->blocks[2 * i + 1];
		if (s->offset + off >= a && s->offset + off < b) {
			*out = *s;
			out->offset = s->offset + off;
			out->len = end - off;
			out->blocks = NULL;
			out->nblocks = 0;
			return true;
		}
	}
	return false;
}

int strata_sql_check_txn(const strata_section *s, bool up, strata_dialect d, bool run_txn,
                         strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece p;
	int error, more;

	if (!strata_sql_may_hold_txn_control(s))
		return 0;
	if ((error = strata_sql_split_new(&sp, d, s, e)) < 0)
		return error;
	while ((more = strata_sql_split_next(sp, &p, e)) > 0) {
		const char *kind = strata_sql_txn_control(d, p.text, p.end - p.off);
		strata_section block;
		if (kind) {
			error = strata_sql_txn_error(s, up, p.off, kind, run_txn, e);
			break;
		}
		/* a block goes to the database whole, which runs every statement in it: each is
		 * checked, as the dialect's tokenizer cuts them */
		if (block_piece(s, p.off, p.end, &block) &&
		    (error = strata_sql_check_txn(&block, up, d, run_txn, e)) < 0)
			break;
	}
	if (more < 0)
		error = more;
	strata_sql_split_free(sp);
	return error;
}
