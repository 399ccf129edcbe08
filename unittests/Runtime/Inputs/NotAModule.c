/*===- NotAModule.c - A shared library that is no handler library ----------===*
 *
 * Loads fine but lacks the cleave_module_v1 symbol, for the loader's
 * missing-symbol error.
 *
 *===----------------------------------------------------------------------===*/

__attribute__((visibility("default"))) int not_a_cleave_module(void) {
  return 42;
}
