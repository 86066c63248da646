// SPDX-License-Identifier: GPL-2.0
/*
 * Pool files parsed with json-c (Documentation/pools.rst). Every object is
 * checked against a table of its fields: an unknown field, a wrong type or
 * a missing required field is an error naming the file and the field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/sha.h>

#include "pool_int.h"

static const char *const kind_names[] = {
	[POOL_VM_LINUX] = "linux",
	[POOL_VM_MULTIBOOT] = "multiboot",
	[POOL_VM_UNIKERNEL] = "unikernel",
};

void pool_error(struct pool_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

const char *pool_kind_name(enum pool_vm_kind kind)
{
	return kind_names[kind];
}

/* HASH: the first 16 hex digits of SHA-256 of the name's bytes. */
int pool_hash_name(const char *name, char hash[POOL_HASH_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)name, strlen(name), md);
	for (i = 0; i < POOL_HASH_LEN / 2; i++)
		sprintf(hash + 2 * i, "%02x", md[i]);
	hash[POOL_HASH_LEN] = '\0';
	return 0;
}

/* Names become file names: [A-Za-z0-9._-], 1-63 bytes, no leading dot. */
bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > POOL_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

static const char *type_name(json_type t)
{
	return json_type_to_name(t);
}

int check_fields(json_object *o, const struct field *f,
			const char *file, const char *ctx, struct pool_err *e)
{
	const struct field *k;

	if (!json_object_is_type(o, json_type_object)) {
		pool_error(e, "%s: %s: not a JSON object", file, ctx);
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		for (k = f; k->key && strcmp(k->key, key); k++)
			;
		if (!k->key) {
			pool_error(e, "%s: %s.%s: unknown field", file, ctx, key);
			return -EINVAL;
		}
		if (!json_object_is_type(val, k->type)) {
			pool_error(e, "%s: %s.%s: wrong type (%s, want %s)", file,
				   ctx, key, type_name(json_object_get_type(val)),
				   type_name(k->type));
			return -EINVAL;
		}
	}
	for (k = f; k->key; k++) {
		if (k->required && !json_object_object_get_ex(o, k->key, NULL)) {
			pool_error(e, "%s: %s.%s: missing field", file, ctx, k->key);
			return -EINVAL;
		}
	}
	return 0;
}

json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v ? strdup(json_object_get_string(v)) : NULL;
}

int get_int(json_object *o, const char *key, int64_t min, int64_t max,
		   int64_t def, int64_t *out, const char *file, const char *ctx,
		   struct pool_err *e)
{
	json_object *v = get(o, key);

	*out = v ? json_object_get_int64(v) : def;
	if (*out < min || *out > max) {
		pool_error(e, "%s: %s.%s: %lld out of range %lld-%lld", file, ctx,
			   key, (long long)*out, (long long)min, (long long)max);
		return -EINVAL;
	}
	return 0;
}

int get_name(json_object *o, const char *key, char *out,
		    const char *file, const char *ctx, struct pool_err *e)
{
	const char *s = json_object_get_string(get(o, key));

	if (!name_ok(s)) {
		pool_error(e, "%s: %s.%s: bad name '%s' (1-63 of [A-Za-z0-9._-], no leading . or -)",
			   file, ctx, key, s);
		return -EINVAL;
	}
	strcpy(out, s);
	return 0;
}

json_object *read_json(const char *file, struct pool_err *e)
{
	json_object *o = json_object_from_file(file);

	const char *why;

	if (!o && access(file, R_OK)) {
		pool_error(e, "%s: %s", file, strerror(errno));
	} else if (!o) {
		why = json_util_get_last_err() ?: "parse error";
		/* json-c's message ends with a newline */
		pool_error(e, "%s: bad JSON: %.*s", file,
			   (int)strcspn(why, "\n"), why);
	}
	return o;
}

/* A regular file under the mounted pool (or the description's folder). */
int file_exists(const char *root, const char *rel, const char *file,
		       const char *ctx, struct pool_err *e)
{
	char path[4096];
	struct stat st;

	if (strstr(rel, "..") || rel[0] == '/') {
		pool_error(e, "%s: %s: path '%s' leaves the pool", file, ctx, rel);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		pool_error(e, "%s: %s: '%s' is not a file in the pool", file, ctx,
			   rel);
		return -ENOENT;
	}
	return 0;
}

