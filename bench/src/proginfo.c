/* proginfo: size figures of the BPF programs a process holds.
 *
 *   proginfo PID      programs whose fds PID holds (from /proc/PID/fdinfo)
 *   proginfo -i ID... programs by id
 *
 * One line per program:
 *   id type name xlated_bytes jited_bytes verified_insns xlated_insns run_cnt run_time_ns
 * run_cnt and run_time_ns count only while kernel.bpf_stats_enabled is 1.
 * verified_insns is bpf_prog_info.verified_insns (kernel >= 5.16), which
 * bpftool 7.1 does not print; the byte counts are the same as bpftool prog
 * show's bytes_xlated and bytes_jited. */
#include <bpf/bpf.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void show(unsigned id)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		fprintf(stderr, "proginfo: prog %u: %s\n", id, strerror(-fd));
		return;
	}
	struct bpf_prog_info info;
	unsigned len = sizeof info;
	memset(&info, 0, sizeof info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		printf("%u %u %s %u %u %u %u %llu %llu\n", info.id, info.type, info.name[0] ? info.name : "-",
		       info.xlated_prog_len, info.jited_prog_len, info.verified_insns,
		       info.xlated_prog_len / 8, (unsigned long long)info.run_cnt,
		       (unsigned long long)info.run_time_ns);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "-i") == 0) {
		for (int i = 2; i < argc; i++)
			show((unsigned)strtoul(argv[i], NULL, 10));
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: proginfo PID | proginfo -i ID...\n");
		return 2;
	}
	char path[256];
	snprintf(path, sizeof path, "/proc/%s/fdinfo", argv[1]);
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return 1;
	}
	unsigned ids[65536];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 65536) {
		char p[512], line[256];
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof line, f)) {
			unsigned id;
			if (sscanf(line, "prog_id: %u", &id) == 1) {
				int dup = 0;
				for (int i = 0; i < n; i++)
					dup |= ids[i] == id;
				if (!dup)
					ids[n++] = id;
			}
		}
		fclose(f);
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		show(ids[i]);
	return 0;
}
