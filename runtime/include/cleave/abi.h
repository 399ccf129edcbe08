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

#define CLEAVE_ABI_VERSION 3u

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

/* --- Steps (ABI version 2) -------------------------------------------------
 *
 * A function that the compiler cut at boundaries runs as a chain of steps:
 * each step runs until the function returns or reaches the next boundary,
 * and then hands the runtime what to do next. Everything that crosses is a
 * binary frame (frame.h): the arguments, the continuation frame carrying the
 * variables live after the boundary, and the callee's value. */

/* One run of one step. */
typedef struct cleave_step_call_v1 {
  uint32_t step; /* 0: start; otherwise the resume point */
  /* Step 0: the arguments frame. Otherwise the continuation frame saved by
   * the step that reached the boundary. */
  const char *frame;
  size_t frame_len;
  /* Resume points only: the callee's value frame (empty for void); after a
   * fan-out, the results of every element in input order, each a
   * little-endian uint32 length followed by that many bytes. */
  const char *input;
  size_t input_len;
  const cleave_host_v1 *host;
  /* ABI version 3. Resume points only: nonzero when `input` is not the
   * callee's value but the exception it let escape (a CLEAVE_STEP_THROW
   * value), which the step throws again where the call was. */
  uint32_t thrown;
  /* ABI version 3. Resume points only: the final values of the callee's
   * in-out parameters (non-const references), its reply's `outs`; the step
   * restores the variables it passed to them from here. */
  const char *outs;
  size_t outs_len;
} cleave_step_call_v1;

enum {
  CLEAVE_STEP_DONE = 0,    /* returned: `value` holds the value frame */
  CLEAVE_STEP_CALL = 1,    /* call `callee` with `args`, then run `resume` */
  CLEAVE_STEP_FAN_OUT = 2, /* call `callee` once per element of `args` */
  /* An exception escaped the function: `value` is a frame of three
   * strings, the message a 500 would give, the standard class it travels
   * as (exception_types.def; "" for one that is not a std::exception) and
   * its what(). The runtime hands it to the caller's resume point
   * (`thrown`), or, where no caller waits, answers 500 with the message. */
  CLEAVE_STEP_THROW = 3,
  CLEAVE_STEP_BAD_REQUEST = 400, /* `value` holds a JSON error */
  CLEAVE_STEP_ERROR = 500        /* `value` holds a JSON error */
};

/* What a step answers. Buffers are allocated by the handler library and
 * released through cleave_module_v1::release. State writes are recorded
 * through the host, as for handlers, and applied when the step returns. */
typedef struct cleave_step_reply_v1 {
  int status; /* CLEAVE_STEP_* */
  char *value;
  size_t value_len;
  const char *callee; /* static storage: the callee machine's name */
  uint32_t resume;
  char *frame; /* continuation frame, for CALL and FAN_OUT */
  size_t frame_len;
  /* CALL: the callee's arguments frame. FAN_OUT: `count` argument frames,
   * each a little-endian uint32 length followed by that many bytes. */
  char *args;
  size_t args_len;
  uint32_t count;
  /* ABI version 3. DONE and THROW: the final values of the function's
   * in-out parameters (non-const references) in order, a list of frames as
   * for FAN_OUT's args; the runtime hands them to the caller's resume point
   * (`outs`). Empty for a function without in-out parameters. */
  char *outs;
  size_t outs_len;
} cleave_step_reply_v1;

typedef int (*cleave_step_fn_v1)(const cleave_step_call_v1 *call,
                                 cleave_step_reply_v1 *reply);

/* A function that runs as steps: an entry or CLEAVE_FUNCTION cut at its
 * boundaries, a CLEAVE_FUNCTION reached through a boundary, or a plain
 * helper on the way to one. */
typedef struct cleave_machine_v1 {
  const char *name; /* the function's name in the manifest */
  uint32_t steps;   /* resume points are 1 .. steps-1 */
  cleave_step_fn_v1 step;
  /* Entries only (NULL otherwise): the HTTP arguments (as for a handler) to
   * an arguments frame, answered as a 200 whose body is the frame, or a 400;
   * and a value frame to the JSON reply (200, or 204 for void). */
  cleave_handler_fn_v1 args_from_json;
  int (*value_to_json)(const char *value, size_t value_len,
                       cleave_reply_v1 *reply);
} cleave_machine_v1;

typedef struct cleave_module_v1_t {
  uint32_t abi_version; /* CLEAVE_ABI_VERSION */
  uint32_t handler_count;
  const cleave_handler_v1 *handlers;
  void (*release)(char *body);
  /* ABI version 2. An entry with a machine is served through its steps. */
  uint32_t machine_count;
  const cleave_machine_v1 *machines;
} cleave_module_v1_t;

/* The library's one exported symbol. */
typedef const cleave_module_v1_t *(*cleave_module_entry_v1)(void);
#define CLEAVE_MODULE_SYMBOL "cleave_module_v1"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CLEAVE_ABI_H */
