/*===- TestModule.c - A minimal handler library for the loader tests -------===*
 *
 * Written in C on purpose: it shows the ABI in abi.h is plain C, and that a
 * library built without the C++ support headers loads.
 *
 *===----------------------------------------------------------------------===*/

#include "cleave/abi.h"

#include <stdlib.h>
#include <string.h>

static int greet(const cleave_call_v1 *Call, cleave_reply_v1 *Reply) {
  static const char Text[] = "\"hello\"";
  (void)Call;
  Reply->status = 200;
  Reply->body_len = sizeof(Text) - 1;
  Reply->body = malloc(Reply->body_len);
  if (!Reply->body) {
    Reply->status = 500;
    Reply->body_len = 0;
    return 500;
  }
  memcpy(Reply->body, Text, Reply->body_len);
  return 200;
}

static void release(char *Body) { free(Body); }

static const cleave_handler_v1 Handlers[] = {{"greet", greet}};

static const cleave_module_v1_t Module = {CLEAVE_ABI_VERSION, 1, Handlers,
                                          release};

__attribute__((visibility("default"))) const cleave_module_v1_t *
cleave_module_v1(void) {
  return &Module;
}
