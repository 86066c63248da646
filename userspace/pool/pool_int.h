/* SPDX-License-Identifier: GPL-2.0 */
/* Internal helpers of the pool library (pool_json.c). */
#ifndef VSNIX_POOL_INT_H
#define VSNIX_POOL_INT_H

#include <json-c/json.h>

#include "pool.h"

struct field {
	const char *key;
	json_type type;
	bool required;
};

bool name_ok(const char *s);
int check_fields(json_object *o, const struct field *f, const char *file,
		 const char *ctx, struct pool_err *e);
json_object *get(json_object *o, const char *key);
char *get_str(json_object *o, const char *key);
int get_int(json_object *o, const char *key, int64_t min, int64_t max,
	    int64_t def, int64_t *out, const char *file, const char *ctx,
	    struct pool_err *e);
int get_name(json_object *o, const char *key, char *out, const char *file,
	     const char *ctx, struct pool_err *e);
json_object *read_json(const char *file, struct pool_err *e);
int file_exists(const char *root, const char *rel, const char *file,
		const char *ctx, struct pool_err *e);
int pool_parse_vm(struct pool_vm *vm, json_object *o, bool in_image,
		  const char *root, const char *file, struct pool_err *e);

#endif
