/* cgroup.c: cgroup ids and the paths they name (cgroupid, cgroup_path).
 *
 * bpftrace 0.17 resolves cgroup_path() in user space: it lists the cgroup
 * and cgroup2 mounts of /proc/self/mountinfo, names each hierarchy
 * ("unified" for cgroup2; a v1 hierarchy by its name= option or its
 * controllers), and walks each one (std::filesystem's
 * recursive_directory_iterator: readdir order, entry before its children,
 * files included) until a node's handle id equals the id. We do the same,
 * so the text is byte for byte 0.17's, quirks included (a v1 file whose
 * inode number equals a v2 id matches).
 */

#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HIERARCHIES 32
#define MAX_DEPTH	64

int rt_cgroupid(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mount_id;

	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	if (h.fh.handle_bytes != sizeof(h.id))
		return -EOVERFLOW;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

struct hierarchy {
	char name[128];
	char *root;
	bool v2;
};

/* A v1 hierarchy's name from its super options ("rw,cpu,cpuacct" ->
 * "cpu,cpuacct"; "rw,name=systemd" -> "systemd"). */
static void v1_name(const char *opts, char *name, size_t len)
{
	char buf[512], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", opts);
	name[0] = '\0';
	for (char *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strncmp(o, "name=", 5)) {
			snprintf(name, len, "%s", o + 5);
			return;
		}
		if (!strcmp(o, "rw") || !strcmp(o, "ro") || strchr(o, '='))
			continue;
		n += (size_t)snprintf(name + n, n < len ? len - n : 0, "%s%s", n ? "," : "", o);
		if (n >= len)
			n = len - 1;
	}
}

/* mountinfo: "id parent maj:min root mountpoint opts [tags] - fstype source superopts" */
static int read_hierarchies(struct hierarchy *h, int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char mnt[2048], fstype[64], super[512];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %511s", fstype, super) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2"))
			snprintf(h[n].name, sizeof(h[n].name), "unified");
		else if (!strcmp(fstype, "cgroup"))
			v1_name(super, h[n].name, sizeof(h[n].name));
		else
			continue;
		h[n].v2 = !strcmp(fstype, "cgroup2");
		h[n].root = strdup(mnt);
		if (h[n].root)
			n++;
	}
	fclose(f);
	return n;
}

static int cmp_hierarchy(const void *a, const void *b)
{
	const struct hierarchy *x = a, *y = b;

	if (x->v2 != y->v2)
		return x->v2 ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Pre-order walk under dir (path of len bytes in buf): the first entry
 * whose id matches leaves its path in buf and returns true. */
static bool find_id(char *buf, size_t len, size_t cap, uint64_t id, int depth)
{
	DIR *d = opendir(buf);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		uint64_t v;
		size_t n = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || len + n + 2 > cap)
			continue;
		buf[len] = '/';
		memcpy(buf + len + 1, e->d_name, n + 1);
		if (!rt_cgroupid(buf, &v) && v == id)
			found = true;
		else if (e->d_type == DT_DIR && depth < MAX_DEPTH)
			found = find_id(buf, len + 1 + n, cap, id, depth + 1);
	}
	closedir(d);
	if (!found)
		buf[len] = '\0';
	return found;
}

void rt_cgroup_path(struct rt_sbuf *b, uint64_t id, const char *filter)
{
	struct hierarchy h[MAX_HIERARCHIES];
	int n = read_hierarchies(h, MAX_HIERARCHIES);
	bool first = true;
	char path[4096];

	qsort(h, (size_t)n, sizeof(h[0]), cmp_hierarchy);
	for (int i = 0; i < n; i++) {
		size_t rlen = strlen(h[i].root);
		uint64_t v;
		bool found;

		if ((filter && fnmatch(filter, h[i].name, 0)) || rlen + 1 >= sizeof(path))
			continue;
		memcpy(path, h[i].root, rlen + 1);
		found = !rt_cgroupid(path, &v) && v == id;
		if (!found)
			found = find_id(path, rlen, sizeof(path), id, 0);
		if (found)
			rt_sbuf_printf(b, "%s%s:%s", first ? "" : ",", h[i].name,
				       path[rlen] ? path + rlen : "/");
		first = first && !found;
	}
	for (int i = 0; i < n; i++)
		free(h[i].root);
}
