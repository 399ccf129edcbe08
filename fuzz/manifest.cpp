//===- manifest.cpp - Fuzz the manifest parser ----------------------------===//
//
// The input is manifest text. A manifest that parses must write out as text
// that parses to an equal manifest and writes out the same again (the
// promise of writeManifest), and must render as a table, JSON and a graph;
// one that does not parse must say why.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "cleave/Manifest.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

using namespace cleave::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::string_view Text(reinterpret_cast<const char *>(Data), Size);
  Result<Manifest> M = parseManifest(Text, "fuzz.yaml");
  if (!M) {
    FUZZ_CHECK(!M.error().message().empty(), "a refusal says why");
    return 0;
  }
  std::string Written = writeManifest(*M);
  Result<Manifest> Again = parseManifest(Written, "written.yaml");
  if (!Again)
    std::fprintf(stderr, "%s\n", Again.error().message().c_str());
  FUZZ_CHECK(Again, "a written manifest parses");
  FUZZ_CHECK(*Again == *M, "a written manifest parses to the same manifest");
  FUZZ_CHECK(writeManifest(*Again) == Written, "writing is deterministic");
  (void)renderTable(*M);
  (void)renderJson(*M);
  (void)renderDot(*M);
  return 0;
}
