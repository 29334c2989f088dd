/* dl.c: see dl.h. */
#include "util/dl.h"

#include <dlfcn.h>
#include <stdio.h>

void strata_dl_load(const char *soname, const strata_dl_sym *syms, size_t n,
                    const char *missing_note, char *failure, size_t cap)
{
	void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
	failure[0] = '\0';
	if (!h) {
		snprintf(failure, cap, "%s", dlerror());
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
			snprintf(failure, cap, "%s has no %s%s", soname, syms[i].name,
			         missing_note);
			return;
		}
	}
}
