/*
 * pq.h: libpq, loaded when the first PostgreSQL connection is opened (strata_pq_load) instead of
 * when strata starts: a command on SQLite (or --version, --help, build) does not pay for libpq
 * and what it brings (OpenSSL's libssl, GSSAPI, LDAP): about 2.5 ms of start-up and 6 MiB of
 * memory. Each libpq function the engine calls is a pointer in strata_pq; the macros below make
 * the engine's calls go through them, so the engine is written against libpq as usual (include
 * this header instead of <libpq-fe.h>).
 */
#ifndef STRATA_ENGINE_PG_PQ_H
#define STRATA_ENGINE_PG_PQ_H

#include <libpq-fe.h>

#include "strata.h"

/* every libpq function the engine calls */
#define STRATA_PQ_FUNCTIONS(X)                                                                     \
	X(PQbackendPID)                                                                            \
	X(PQcancel)                                                                                \
	X(PQclear)                                                                                 \
	X(PQcmdTuples)                                                                             \
	X(PQconnectdbParams)                                                                       \
	X(PQconninfo)                                                                              \
	X(PQconninfoFree)                                                                          \
	X(PQconninfoParse)                                                                         \
	X(PQconsumeInput)                                                                          \
	X(PQenterPipelineMode)                                                                     \
	X(PQerrorMessage)                                                                          \
	X(PQescapeIdentifier)                                                                      \
	X(PQescapeLiteral)                                                                         \
	X(PQexec)                                                                                  \
	X(PQexecParams)                                                                            \
	X(PQexecPrepared)                                                                          \
	X(PQexitPipelineMode)                                                                      \
	X(PQfinish)                                                                                \
	X(PQfname)                                                                                 \
	X(PQfreeCancel)                                                                            \
	X(PQfreemem)                                                                               \
	X(PQftype)                                                                                 \
	X(PQgetCancel)                                                                             \
	X(PQgetResult)                                                                             \
	X(PQgetisnull)                                                                             \
	X(PQgetlength)                                                                             \
	X(PQgetvalue)                                                                              \
	X(PQhost)                                                                                  \
	X(PQisBusy)                                                                                \
	X(PQnfields)                                                                               \
	X(PQntuples)                                                                               \
	X(PQparameterStatus)                                                                       \
	X(PQpipelineSync)                                                                          \
	X(PQport)                                                                                  \
	X(PQprepare)                                                                               \
	X(PQputCopyData)                                                                           \
	X(PQputCopyEnd)                                                                            \
	X(PQreset)                                                                                 \
	X(PQresultErrorField)                                                                      \
	X(PQresultStatus)                                                                          \
	X(PQsendQuery)                                                                             \
	X(PQsendQueryParams)                                                                       \
	X(PQsendQueryPrepared)                                                                     \
	X(PQserverVersion)                                                                         \
	X(PQsetNoticeProcessor)                                                                    \
	X(PQsetSingleRowMode)                                                                      \
	X(PQsocket)                                                                                \
	X(PQstatus)                                                                                \
	X(PQtransactionStatus)                                                                     \
	X(PQuser)

struct strata_pq {
#define STRATA_PQ_POINTER(f) __typeof__(f) *f;
	STRATA_PQ_FUNCTIONS(STRATA_PQ_POINTER)
#undef STRATA_PQ_POINTER
};
extern struct strata_pq strata_pq;

/* Loads libpq (libpq.so.5) once, from any thread; 0, or an error saying what to install. */
int strata_pq_load(strata_error *e);

#ifndef STRATA_PQ_NO_REDIRECT
#define PQbackendPID (strata_pq.PQbackendPID)
#define PQcancel (strata_pq.PQcancel)
#define PQclear (strata_pq.PQclear)
#define PQcmdTuples (strata_pq.PQcmdTuples)
#define PQconnectdbParams (strata_pq.PQconnectdbParams)
#define PQconninfo (strata_pq.PQconninfo)
#define PQconninfoFree (strata_pq.PQconninfoFree)
#define PQconninfoParse (strata_pq.PQconninfoParse)
#define PQconsumeInput (strata_pq.PQconsumeInput)
#define PQenterPipelineMode (strata_pq.PQenterPipelineMode)
#define PQerrorMessage (strata_pq.PQerrorMessage)
#define PQescapeIdentifier (strata_pq.PQescapeIdentifier)
#define PQescapeLiteral (strata_pq.PQescapeLiteral)
#define PQexec (strata_pq.PQexec)
#define PQexecParams (strata_pq.PQexecParams)
#define PQexecPrepared (strata_pq.PQexecPrepared)
#define PQexitPipelineMode (strata_pq.PQexitPipelineMode)
#define PQfinish (strata_pq.PQfinish)
#define PQfname (strata_pq.PQfname)
#define PQfreeCancel (strata_pq.PQfreeCancel)
#define PQfreemem (strata_pq.PQfreemem)
#define PQftype (strata_pq.PQftype)
#define PQgetCancel (strata_pq.PQgetCancel)
#define PQgetResult (strata_pq.PQgetResult)
#define PQgetisnull (strata_pq.PQgetisnull)
#define PQgetlength (strata_pq.PQgetlength)
#define PQgetvalue (strata_pq.PQgetvalue)
#define PQhost (strata_pq.PQhost)
#define PQisBusy (strata_pq.PQisBusy)
#define PQnfields (strata_pq.PQnfields)
#define PQntuples (strata_pq.PQntuples)
#define PQparameterStatus (strata_pq.PQparameterStatus)
#define PQpipelineSync (strata_pq.PQpipelineSync)
#define PQport (strata_pq.PQport)
#define PQprepare (strata_pq.PQprepare)
#define PQputCopyData (strata_pq.PQputCopyData)
#define PQputCopyEnd (strata_pq.PQputCopyEnd)
#define PQreset (strata_pq.PQreset)
#define PQresultErrorField (strata_pq.PQresultErrorField)
#define PQresultStatus (strata_pq.PQresultStatus)
#define PQsendQuery (strata_pq.PQsendQuery)
#define PQsendQueryParams (strata_pq.PQsendQueryParams)
#define PQsendQueryPrepared (strata_pq.PQsendQueryPrepared)
#define PQserverVersion (strata_pq.PQserverVersion)
#define PQsetNoticeProcessor (strata_pq.PQsetNoticeProcessor)
#define PQsetSingleRowMode (strata_pq.PQsetSingleRowMode)
#define PQsocket (strata_pq.PQsocket)
#define PQstatus (strata_pq.PQstatus)
#define PQtransactionStatus (strata_pq.PQtransactionStatus)
#define PQuser (strata_pq.PQuser)
#endif

#endif
