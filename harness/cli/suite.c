/* Planning a suite: see suite.h. */
#include "suite.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct names {
	char **v;
	int n, cap;
};

static void names_add(struct names *ns, char *s)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 16;
		ns->v = realloc(ns->v, (size_t)ns->cap * sizeof(*ns->v));
		if (!ns->v)
			abort();
	}
	ns->v[ns->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);
	if (!s)
		abort();
	snprintf(s, n, "%s/%s", a, b);
	return s;
}

/* Every *.lua under dir, recursively, in name order at each level. */
static int scan(const char *dir, struct names *out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot read directory %s: %s", dir, strerror(errno));
		return -1;
	}
	struct names here = { 0 };
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names_add(&here, join(dir, e->d_name));
	}
	closedir(d);
	if (here.n)
		qsort(here.v, (size_t)here.n, sizeof(*here.v), cmp_str);
	int r = 0;
	for (int i = 0; i < here.n; i++) {
		struct stat st;
		char *p = here.v[i];
		size_t len = strlen(p);
		bool known = r == 0 && stat(p, &st) == 0;
		if (known && S_ISDIR(st.st_mode)) {
			r = scan(p, out, err, errlen);
			free(p);
		} else if (known && S_ISREG(st.st_mode) && len > 4 &&
			   !strcmp(p + len - 4, ".lua")) {
			names_add(out, p);
		} else {
			free(p);
		}
	}
	free(here.v);
	return r;
}

/* A piece of an id: what a directory name can hold and a reader can read. */
static void id_append(char *id, size_t cap, const char *s, size_t n)
{
	size_t len = strlen(id);
	for (size_t i = 0; i < n && len + 1 < cap; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '=' ||
			  c == ',' || c == '+';
		id[len++] = ok ? c : '_';
	}
	id[len] = '\0';
}

/* The scenario's name in ids: its path under the directory it was found in
 * ("ota/flaky" for DIR/ota/flaky.lua), or its file name. */
static void base_id(const char *path, const char *under, char *out, size_t cap)
{
	const char *rel = path;
	size_t ul = under ? strlen(under) : 0;
	if (under && !strncmp(path, under, ul) && path[ul] == '/')
		rel = path + ul + 1;
	else if (strrchr(path, '/'))
		rel = strrchr(path, '/') + 1;
	size_t n = strlen(rel);
	if (n > 4 && !strcmp(rel + n - 4, ".lua"))
		n -= 4;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (rel[i] == '/')
			id_append(out, cap, "-", 1);
		else
			id_append(out, cap, rel + i, 1);
	}
}

struct matrix_key {
	const char *key;
	size_t key_len;
	const char *values[64];
	size_t value_len[64];
	int n;
};

static int parse_matrix(const struct cli_opts *o, struct matrix_key *keys, char *err, size_t errlen)
{
	for (int k = 0; k < o->n_matrix; k++) {
		const char *m = o->matrix[k], *eq = strchr(m, '=');
		keys[k] = (struct matrix_key){ .key = m, .key_len = (size_t)(eq - m) };
		for (const char *v = eq + 1; *v;) {
			size_t n = strcspn(v, ",");
			if (keys[k].n == 64) {
				snprintf(err, errlen, "--matrix %.*s has more than 64 values",
					 (int)keys[k].key_len, m);
				return -1;
			}
			keys[k].values[keys[k].n] = v;
			keys[k].value_len[keys[k].n++] = n;
			v += n + (v[n] == ',');
		}
	}
	return 0;
}

static int load_timings(struct suite *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "--timings %s: %s", path, strerror(errno));
		return -1;
	}
	char line[1200];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char *sp = strrchr(line, ' ');
		char *end = NULL;
		double secs = sp ? strtod(sp + 1, &end) : -1;
		if (!sp || end == sp + 1 || *end || secs < 0) {
			snprintf(err, errlen, "--timings %s:%d: expected \"RUN SECONDS\"", path,
				 lineno);
			fclose(f);
			return -1;
		}
		*sp = '\0';
		for (int i = 0; i < s->n; i++)
			if (!strcmp(s->runs[i].id, line))
				s->runs[i].expected_s = secs;
	}
	fclose(f);
	return 0;
}

/* Longest first, each to the lightest shard; runs without a recorded time
 * count as the median of those with one. Ties go by order, so every shard
 * computes the same split. */
static void balance(struct suite *s, int index, int count)
{
	double *known = calloc((size_t)s->n + 1, sizeof(*known));
	int *order = calloc((size_t)s->n + 1, sizeof(*order));
	double *load = calloc((size_t)count, sizeof(*load));
	if (!known || !order || !load)
		abort();
	int nk = 0;
	for (int i = 0; i < s->n; i++)
		if (s->runs[i].expected_s >= 0)
			known[nk++] = s->runs[i].expected_s;
	for (int i = 1; i < nk; i++) /* few runs: insertion sort */
		for (int j = i; j > 0 && known[j] < known[j - 1]; j--) {
			double t = known[j];
			known[j] = known[j - 1];
			known[j - 1] = t;
		}
	double median = nk ? known[nk / 2] : 1.0;
	for (int i = 0; i < s->n; i++)
		order[i] = i;
	for (int i = 1; i < s->n; i++)
		for (int j = i; j > 0; j--) {
			const struct suite_run *a = &s->runs[order[j]], *b = &s->runs[order[j - 1]];
			double ta = a->expected_s >= 0 ? a->expected_s : median;
			double tb = b->expected_s >= 0 ? b->expected_s : median;
			if (ta <= tb)
				break;
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < s->n; i++) {
		struct suite_run *r = &s->runs[order[i]];
		int lightest = 0;
		for (int k = 1; k < count; k++)
			if (load[k] < load[lightest])
				lightest = k;
		load[lightest] += r->expected_s >= 0 ? r->expected_s : median;
		r->in_shard = lightest == index - 1;
	}
	free(known);
	free(order);
	free(load);
}

int suite_plan(const struct cli_opts *o, uint64_t (*random_seed)(void), struct suite *out,
	       char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct names files = { 0 };
	struct names unders = { 0 }; /* the directory each file was found under, or NULL */
	for (int i = 0; i < o->n_scenarios; i++) {
		const char *arg = o->scenarios[i];
		struct stat st;
		if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
			int before = files.n;
			char trimmed[1024];
			snprintf(trimmed, sizeof(trimmed), "%s", arg);
			for (size_t n = strlen(trimmed); n > 1 && trimmed[n - 1] == '/'; n--)
				trimmed[n - 1] = '\0';
			if (scan(trimmed, &files, err, errlen) < 0)
				goto fail;
			if (files.n == before) {
				snprintf(err, errlen, "%s holds no scenario (*.lua)", arg);
				goto fail;
			}
			while (unders.n < files.n)
				names_add(&unders, strdup(trimmed));
		} else {
			/* A missing file is the run's to report (exit 2, with the path). */
			names_add(&files, strdup(arg));
			names_add(&unders, NULL);
		}
	}
	struct matrix_key keys[8];
	if (parse_matrix(o, keys, err, errlen) < 0)
		goto fail;
	int combos = 1;
	for (int k = 0; k < o->n_matrix; k++)
		combos *= keys[k].n;
	out->n = files.n * combos * o->repeat;
	out->runs = calloc((size_t)out->n + 1, sizeof(*out->runs));
	if (!out->runs)
		abort();
	int r = 0;
	for (int f = 0; f < files.n; f++) {
		char base[256];
		base_id(files.v[f], unders.v[f], base, sizeof(base));
		for (int c = 0; c < combos; c++) {
			char params[1024] = "", suffix[512] = "";
			int pick = c;
			const char *vals[8];
			size_t lens[8];
			for (int k = o->n_matrix - 1; k >= 0; k--) {
				vals[k] = keys[k].values[pick % keys[k].n];
				lens[k] = keys[k].value_len[pick % keys[k].n];
				pick /= keys[k].n;
			}
			for (int k = 0; k < o->n_matrix; k++) {
				size_t pl = strlen(params);
				snprintf(params + pl, sizeof(params) - pl, "%s%.*s=%.*s",
					 k ? " " : "", (int)keys[k].key_len, keys[k].key,
					 (int)lens[k], vals[k]);
				id_append(suffix, sizeof(suffix), ".", 1);
				id_append(suffix, sizeof(suffix), keys[k].key, keys[k].key_len);
				id_append(suffix, sizeof(suffix), "=", 1);
				id_append(suffix, sizeof(suffix), vals[k], lens[k]);
			}
			for (int rep = 1; rep <= o->repeat; rep++, r++) {
				struct suite_run *run = &out->runs[r];
				char id[1024];
				snprintf(id, sizeof(id), "%s%s", base, suffix);
				if (o->repeat > 1) {
					size_t il = strlen(id);
					snprintf(id + il, sizeof(id) - il, ".r%d", rep);
				}
				run->scenario = strdup(files.v[f]);
				run->id = strdup(id);
				run->params = strdup(params);
				run->repeat = rep;
				run->seed =
					o->seed_set ? o->seed + (uint64_t)(rep - 1) : random_seed();
				run->n_defines = o->n_defines + o->n_matrix;
				run->defines = calloc((size_t)run->n_defines + 1, sizeof(char *));
				if (!run->defines)
					abort();
				for (int d = 0; d < o->n_defines; d++)
					run->defines[d] = strdup(o->defines[d]);
				for (int k = 0; k < o->n_matrix; k++) {
					char kv[600];
					snprintf(kv, sizeof(kv), "%.*s=%.*s", (int)keys[k].key_len,
						 keys[k].key, (int)lens[k], vals[k]);
					run->defines[o->n_defines + k] = strdup(kv);
				}
				run->in_shard = true;
				run->expected_s = -1; /* a recorded 0.0 s is a time */
			}
		}
	}
	for (int i = 0; i < out->n; i++)
		for (int j = i + 1; j < out->n; j++)
			if (!strcmp(out->runs[i].id, out->runs[j].id)) {
				snprintf(err, errlen,
					 "%s and %s would share an artifacts directory (%s): "
					 "rename one, "
					 "or run them one at a time",
					 out->runs[i].scenario, out->runs[j].scenario,
					 out->runs[i].id);
				goto fail;
			}
	if (o->timings && load_timings(out, o->timings, err, errlen) < 0)
		goto fail;
	if (o->shard_count > 0) {
		if (o->timings) {
			balance(out, o->shard_index, o->shard_count);
		} else {
			for (int i = 0; i < out->n; i++)
				out->runs[i].in_shard = i % o->shard_count == o->shard_index - 1;
		}
	}
	for (int i = 0; i < files.n; i++) {
		free(files.v[i]);
		free(unders.v[i]);
	}
	free(files.v);
	free(unders.v);
	return 0;
fail:
	for (int i = 0; i < files.n; i++)
		free(files.v[i]);
	for (int i = 0; i < unders.n; i++)
		free(unders.v[i]);
	free(files.v);
	free(unders.v);
	suite_free(out);
	return -1;
}

void suite_free(struct suite *s)
{
	for (int i = 0; s->runs && i < s->n; i++) {
		struct suite_run *r = &s->runs[i];
		free(r->scenario);
		free(r->id);
		free(r->params);
		for (int d = 0; d < r->n_defines; d++)
			free((char *)r->defines[d]);
		free(r->defines);
	}
	free(s->runs);
	s->runs = NULL;
	s->n = 0;
}

int suite_count_in_shard(const struct suite *s)
{
	int n = 0;
	for (int i = 0; i < s->n; i++)
		n += s->runs[i].in_shard;
	return n;
}
