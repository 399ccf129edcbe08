/*===- abi.h - The C ABI between the runtime and a handler library -*- C -*-===*
 *
 * A handler library built from `cleave build` exports one symbol,
 * `cleave_module_v1`, returning a table of handlers. The runtime calls a
 * handler with the decoded request and a table of host callbacks through
 * which the handler reads and writes program state. Nothing but plain C data
 * crosses this boundary: no exception, no C++ object, no allocation that the
 * other side frees with its own allocator.
 *
 *===----------------------------------------------------------------------===*/

#ifndef CLEAVE_ABI_H
#define CLEAVE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLEAVE_ABI_VERSION 1u

/* Callbacks the runtime provides to a running handler. */
typedef struct cleave_host_v1 {
  void *ctx;
  /* Reads state variable `name` as JSON text. Returns 1 and sets *data and
   * *len (valid until the handler returns) when the store holds a value, 0
   * when it holds none (the handler then starts from the variable's
   * initializer), and -1 on a store failure. */
  int (*state_get)(void *ctx, const char *name, const char **data,
                   size_t *len);
  /* Records a new JSON value for state variable `name`. The runtime applies
   * every recorded write together, atomically, when the handler returns,
   * whatever its status: the handler records only what must persist (on a
   * 500 from an exception in user code, the changes made before the throw,
   * as in the plain program). Returns 0 on success, -1 on failure. */
  int (*state_put)(void *ctx, const char *name, const char *data, size_t len);
} cleave_host_v1;

/* One call of a handler. */
typedef struct cleave_call_v1 {
  /* The arguments: a JSON object whose keys are parameter names. */
  const char *args;
  size_t args_len;
  /* Nonzero when `args` came from a query string: every value is then a JSON
   * string holding the parameter's text, and the handler parses it by the
   * parameter's type. */
  int args_are_strings;
  const cleave_host_v1 *host;
} cleave_call_v1;

/* What a handler answers. `body` is allocated by the handler library and
 * released through cleave_module_v1::release. */
typedef struct cleave_reply_v1 {
  int status; /* 200, 204, 400 (bad argument), 500 (exception in user code) */
  char *body; /* JSON text; may be NULL for 204 */
  size_t body_len;
} cleave_reply_v1;

/* Fills *reply and returns reply->status; the runtime reads only *reply.
 * A reply with an unknown status, or a 200 without a body, breaks the ABI:
 * the runtime answers 500 and drops the recorded state writes. */
typedef int (*cleave_handler_fn_v1)(const cleave_call_v1 *call,
                                    cleave_reply_v1 *reply);

typedef struct cleave_handler_v1 {
  const char *name; /* the function's name in the manifest */
  cleave_handler_fn_v1 invoke;
} cleave_handler_v1;

typedef struct cleave_module_v1_t {
  uint32_t abi_version; /* CLEAVE_ABI_VERSION */
  uint32_t handler_count;
  const cleave_handler_v1 *handlers;
  void (*release)(char *body);
} cleave_module_v1_t;

/* The library's one exported symbol. */
typedef const cleave_module_v1_t *(*cleave_module_entry_v1)(void);
#define CLEAVE_MODULE_SYMBOL "cleave_module_v1"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CLEAVE_ABI_H */
