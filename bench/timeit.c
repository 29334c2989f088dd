/* timeit OUT CMD [ARGS...]: runs CMD (stdout and stderr to /dev/null unless TIMEIT_LOG names a
 * file to append them to), then appends "seconds maxrss_kb status" to OUT. Wall time is
 * CLOCK_MONOTONIC around fork/exec/wait; peak RSS is wait4's ru_maxrss (the largest of the child
 * and the descendants it waited for), the number `/usr/bin/time -f %M` prints. Exits with
 * CMD's status. Part of bench/run; built into bench/out/. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: timeit OUT CMD [ARGS...]\n");
		return 2;
	}
	const char *log = getenv("TIMEIT_LOG");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int fd = log && *log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)
				     : open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	FILE *f = fopen(argv[1], "a");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fprintf(f, "%.6f %ld %d\n", s, ru.ru_maxrss, code);
	fclose(f);
	return code;
}
