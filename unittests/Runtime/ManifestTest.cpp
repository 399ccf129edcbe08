//===- ManifestTest.cpp - Tests of manifest reading and writing -----------===//

#include "cleave/Manifest.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace cleave::rt;

namespace {

/// A manifest like the example of docs/manifest.md, plus a non-entry
/// function that relies on the defaults.
const char *const ShopManifest = R"(apiVersion: cleave/v2
kind: Deployment
name: shop                        # from -name, or the first source's stem
artifact: build/libcleave_handlers.so   # relative to the manifest's folder
functions:
  - name: place_order             # qualified C++ name
    kind: entry
    handler: place_order
    trigger:
      method: POST
      path: /orders
    params:
      - {name: o, type: Order}
    returns: Confirmation
    resources: {memoryMiB: 256, timeoutSeconds: 30, gpus: 0, concurrency: 0}
    isolate: false
    source: shop.cpp:27:1
    state:
      - {name: stock, access: readwrite}
  - name: quote
    kind: function
    resources: {memoryMiB: 2048}
    isolate: true
    source: shop.cpp:20:1
state:
  - name: stock
    type: std::map<std::string, int>
    consistency: linearizable
    granularity: whole
    source: shop.cpp:12:42
    readers: [place_order, stock_of]
    writers: [place_order]
)";

/// ShopManifest as cleave/v1 wrote it: the resources without their units.
const char *const ShopManifestV1 = R"(apiVersion: cleave/v1
kind: Deployment
name: shop
artifact: build/libcleave_handlers.so
functions:
  - name: place_order
    kind: entry
    handler: place_order
    trigger:
      method: POST
      path: /orders
    params:
      - {name: o, type: Order}
    returns: Confirmation
    resources: {memory: 256, timeout: 30, gpu: 0, concurrency: 0}
    isolate: false
    source: shop.cpp:27:1
    state:
      - {name: stock, access: readwrite}
  - name: quote
    kind: function
    resources: {memory: 2048}
    isolate: true
    source: shop.cpp:20:1
state:
  - name: stock
    type: std::map<std::string, int>
    consistency: linearizable
    granularity: whole
    source: shop.cpp:12:42
    readers: [place_order, stock_of]
    writers: [place_order]
)";

/// Parses \p Text and returns the error message, or "<no error>".
std::string errorOf(const std::string &Text) {
  Result<Manifest> M = parseManifest(Text, "m.yaml");
  if (M)
    return "<no error>";
  EXPECT_TRUE(M.error().isLocated());
  return M.error().message();
}

/// The first lines every error test below shares.
const std::string Header = "apiVersion: cleave/v2\n"
                           "kind: Deployment\n"
                           "name: shop\n"
                           "artifact: lib.so\n";

/// A valid entry `f` at lines 5-13 of a manifest starting with Header.
const std::string EntryF = "functions:\n"
                           "  - name: f\n"
                           "    kind: entry\n"
                           "    handler: f\n"
                           "    trigger: {method: POST, path: /f}\n"
                           "    params: []\n"
                           "    returns: int\n"
                           "    resources: {}\n"
                           "    source: a.cpp:1:1\n";

TEST(ManifestTest, ParsesTheDocumentedExample) {
  Result<Manifest> R = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(R) << R.error().message();
  const Manifest &M = *R;
  EXPECT_EQ(M.Kind, "Deployment");
  EXPECT_EQ(M.Name, "shop");
  EXPECT_EQ(M.Artifact, "build/libcleave_handlers.so");
  ASSERT_EQ(M.Functions.size(), 2u);

  const FunctionSpec &E = M.Functions[0];
  EXPECT_EQ(E.Name, "place_order");
  EXPECT_TRUE(E.isEntry());
  EXPECT_EQ(E.Handler, "place_order");
  EXPECT_EQ(E.Method, "POST");
  EXPECT_EQ(E.Path, "/orders");
  EXPECT_EQ(E.Params, (std::vector<ParamSpec>{{"o", "Order"}}));
  EXPECT_EQ(E.Returns, "Confirmation");
  EXPECT_EQ(E.Source, "shop.cpp:27:1");
  EXPECT_FALSE(E.Isolate);
  EXPECT_EQ(E.State, (std::vector<StateUse>{{"stock", "readwrite"}}));

  const FunctionSpec &F = M.Functions[1];
  EXPECT_FALSE(F.isEntry());
  EXPECT_EQ(F.Resources.Memory, 2048);
  EXPECT_EQ(F.Resources.Timeout, 30); // Defaults for what is left out.
  EXPECT_EQ(F.Resources.Gpu, 0);
  EXPECT_EQ(F.Resources.Concurrency, 0);
  EXPECT_TRUE(F.Isolate);
  EXPECT_TRUE(F.Handler.empty());
  EXPECT_TRUE(F.Method.empty());

  ASSERT_EQ(M.State.size(), 1u);
  const StateSpec &S = M.State[0];
  EXPECT_EQ(S.Name, "stock");
  EXPECT_EQ(S.Type, "std::map<std::string, int>");
  EXPECT_EQ(S.Consistency, "linearizable");
  EXPECT_EQ(S.Granularity, "whole");
  EXPECT_EQ(S.Source, "shop.cpp:12:42");
  EXPECT_EQ(S.Readers, (std::vector<std::string>{"place_order", "stock_of"}));
  EXPECT_EQ(S.Writers, (std::vector<std::string>{"place_order"}));
}

TEST(ManifestTest, RoundTripsTheExample) {
  Result<Manifest> M = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(M);
  std::string Text = writeManifest(*M);
  Result<Manifest> Again = parseManifest(Text, "written.yaml");
  ASSERT_TRUE(Again) << Again.error().message() << "\n" << Text;
  EXPECT_EQ(*Again, *M) << Text;
  // Writing is deterministic: a second round gives the same text.
  EXPECT_EQ(writeManifest(*Again), Text);
}

TEST(ManifestTest, RoundTripsAwkwardStrings) {
  // Strings that YAML would read as something else unless the writer
  // quotes them: booleans, null, numbers, flow indicators, comments.
  Manifest M;
  M.Name = "true";
  M.Artifact = "lib dir/lib#1.so";
  FunctionSpec F;
  F.Name = "ns::f";
  F.Kind = "entry";
  F.Handler = "null";
  F.Method = "GET";
  F.Path = "/a: b/{x}, [y]";
  F.Params = {{"m", "std::map<std::string, std::vector<int>>"},
              {"123", "const char *"},
              {"", "'quoted' \"both\""},
              {"yes", "on"},
              {"y", "N"},
              {"010", "1e3"},
              {"1:30", "2001-12-14"},
              {"=", "<<"},
              {".inf", "0x1F"}};
  F.Returns = "void";
  F.Resources = {4096, 900, 2, 16};
  F.Isolate = true;
  F.Source = "dir with space/ünïcode.cpp:1:2";
  F.State = {{"a", "read"}, {"b", "write"}};
  M.Functions.push_back(F);
  FunctionSpec G;
  G.Name = "helper";
  G.Kind = "function";
  G.Source = "x.cpp:3:4";
  M.Functions.push_back(G);
  StateSpec S;
  S.Name = "~";
  S.Type = "std::pair<int, int>";
  S.Consistency = "eventual";
  S.Granularity = "whole";
  S.Readers = {"ns::f", "- dash"};
  M.State.push_back(S);
  S.Name = "stock";
  S.Type = "std::map<std::string, int>";
  S.Granularity = "key";
  M.State.push_back(S);

  std::string Text = writeManifest(M);
  Result<Manifest> Again = parseManifest(Text, "written.yaml");
  ASSERT_TRUE(Again) << Again.error().message() << "\n" << Text;
  EXPECT_EQ(*Again, M) << Text;
}

TEST(ManifestTest, RoundTripsAnEmptyDeployment) {
  Manifest M;
  M.Name = "empty";
  M.Artifact = "lib.so";
  Result<Manifest> Again = parseManifest(writeManifest(M), "w.yaml");
  ASSERT_TRUE(Again) << Again.error().message();
  EXPECT_EQ(*Again, M);
}

TEST(ManifestTest, UnknownKeysAreErrors) {
  EXPECT_EQ(errorOf(Header + "future: {a: 1}\n" + EntryF),
            "m.yaml:5:1: error: unknown key 'future' at the top level");
  EXPECT_EQ(errorOf(Header + EntryF + "    colour: blue\n"),
            "m.yaml:14:5: error: unknown key 'colour' in entry 'f'");
  std::string Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13,
               "resources: {memoryMiB: 512, tpu: 4}");
  EXPECT_EQ(errorOf(Text), "m.yaml:12:33: error: unknown key 'tpu' in "
                           "resources of entry 'f'");
  Text = Header + EntryF;
  Text.replace(Text.find("path: /f}"), 9, "path: /f, verb: GET}");
  EXPECT_EQ(errorOf(Text), "m.yaml:9:39: error: unknown key 'verb' in trigger");
  EXPECT_EQ(errorOf(Header + "state:\n"
                             "  - name: s\n"
                             "    consistency: eventual\n"
                             "    granularity: whole\n"
                             "    replicas: 3\n"),
            "m.yaml:9:5: error: unknown key 'replicas' in state variable 's'");
  // A key given twice: YAML readers disagree on which one counts.
  EXPECT_EQ(errorOf(Header + EntryF + "    source: b.cpp:2:2\n"),
            "m.yaml:14:5: error: duplicate key 'source' in entry 'f'\n"
            "m.yaml:13:5: note: first given here");
}

// cleave/v1 named the resources without their units; a manifest of one
// version with a key of the other is an error that says so.
TEST(ManifestTest, ResourceKeysOfTheOtherVersion) {
  std::string Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13, "resources: {memory: 512}");
  EXPECT_EQ(errorOf(Text),
            "m.yaml:12:17: error: 'memory' in resources of entry 'f' is the "
            "cleave/v1 name of 'memoryMiB'; this manifest is cleave/v2");
  Text.replace(Text.find("memory: 512"), 11, "timeout: 5");
  EXPECT_EQ(errorOf(Text),
            "m.yaml:12:17: error: 'timeout' in resources of entry 'f' is the "
            "cleave/v1 name of 'timeoutSeconds'; this manifest is cleave/v2");

  std::string V1 = ShopManifestV1;
  V1.replace(V1.find("gpu: 0"), 6, "gpus: 0");
  EXPECT_EQ(errorOf(V1),
            "m.yaml:15:43: error: 'gpus' in resources of entry 'place_order' "
            "is a cleave/v2 key; this manifest is cleave/v1, which calls it "
            "'gpu'");
}

// A cleave/v1 manifest reads as the cleave/v2 manifest it stands for:
// served, inspected and written back alike.
TEST(ManifestTest, V1ReadsAsItsV2Form) {
  Result<Manifest> V1 = parseManifest(ShopManifestV1, "v1.yaml");
  ASSERT_TRUE(V1) << V1.error().message();
  Result<Manifest> V2 = parseManifest(ShopManifest, "v2.yaml");
  ASSERT_TRUE(V2) << V2.error().message();
  EXPECT_EQ(*V1, *V2);
  EXPECT_EQ(V1->Functions[0].Resources.Memory, 256);
  EXPECT_EQ(V1->Functions[1].Resources.Memory, 2048);
  EXPECT_EQ(renderTable(*V1), renderTable(*V2));
  EXPECT_EQ(renderJson(*V1), renderJson(*V2));
  EXPECT_EQ(renderDot(*V1), renderDot(*V2));
  std::string Written = writeManifest(*V1);
  EXPECT_EQ(Written, writeManifest(*V2));
  EXPECT_NE(Written.find("apiVersion: cleave/v2\n"), std::string::npos);

  // v1 is read as it always was: unknown keys are skipped, and scalars are
  // strings or numbers as yaml-cpp reads them.
  std::string Text = ShopManifestV1;
  Text.replace(Text.find("isolate: true"), 13,
               "isolate: y\n    colour: blue\n    retries: [1, 2]");
  Text.replace(Text.find("{memory: 2048}"), 14, "{memory: 2048, tpu: 4}");
  Text.replace(Text.find("name: shop"), 10, "name: 123");
  Result<Manifest> Lenient = parseManifest(Text, "v1.yaml");
  ASSERT_TRUE(Lenient) << Lenient.error().message();
  EXPECT_EQ(Lenient->Name, "123");
  EXPECT_TRUE(Lenient->Functions[1].Isolate);
  EXPECT_EQ(Lenient->Functions[1].Resources.Memory, 2048);
}

// In cleave/v2 a value means the same to every YAML reader, and to the
// schema: a string YAML types otherwise must be quoted, and a number or
// boolean must not be.
TEST(ManifestTest, ScalarsAreWhatYamlSays) {
  std::string Text = Header + EntryF;
  Text.replace(Text.find("name: f"), 7, "name: 123");
  EXPECT_EQ(errorOf(Text), "m.yaml:6:11: error: 'name' must be a string; "
                           "YAML reads 123 as an integer (quote it)");
  Text = Header + EntryF;
  Text.replace(Text.find("returns: int"), 12, "returns: yes");
  EXPECT_EQ(errorOf(Text), "m.yaml:11:14: error: 'returns' must be a "
                           "string; YAML reads yes as a boolean (quote it)");
  Text = Header + EntryF;
  Text.replace(Text.find("returns: int"), 12, "returns: \"yes\"");
  EXPECT_EQ(errorOf(Text), "<no error>");
  Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13,
               "resources: {memoryMiB: \"512\"}");
  EXPECT_EQ(errorOf(Text), "m.yaml:12:28: error: 'memoryMiB' must be a "
                           "non-negative integer, not the string '512'");
  // 010 is 8 to a YAML 1.1 reader.
  Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13, "resources: {gpus: 010}");
  EXPECT_EQ(errorOf(Text), "m.yaml:12:23: error: 'gpus' must be a "
                           "non-negative integer, not '010'");
  EXPECT_EQ(errorOf(Header + EntryF + "    isolate: \"true\"\n"),
            "m.yaml:14:14: error: 'isolate' must be true or false");
  // y is a boolean to yaml-cpp, a string to PyYAML.
  EXPECT_EQ(errorOf(Header + EntryF + "    isolate: y\n"),
            "m.yaml:14:14: error: 'isolate' must be true or false");
  Result<Manifest> M =
      parseManifest(Header + EntryF + "    isolate: on\n", "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  EXPECT_TRUE(M->Functions[0].Isolate);
}

// What PyYAML, which the schema is checked with, reads each plain scalar
// as (from yaml.safe_load): a string where the field wants one, or an error
// that names the type; the writer quotes every one that is not a string,
// and `y`, `n`, `1e3`, `0o17` besides.
TEST(ManifestTest, PlainScalarsAreTypedAsYaml11Does) {
  const std::pair<const char *, const char *> Cases[] = {
      {"0", "an integer"},
      {"007", "an integer"},
      {"08", "a string"},
      {"0_1", "an integer"},
      {"0b101", "an integer"},
      {"0b", "a string"},
      {"0b2", "a string"},
      {"0x1F", "an integer"},
      {"-0x1_f", "an integer"},
      {"+12", "an integer"},
      {"1_000", "an integer"},
      {"12:30", "an integer"},
      {"1:3:5", "an integer"},
      {"1:60", "a string"},
      {"0:30", "a string"},
      {"12:30.5", "a float"},
      {"0:30.5", "a float"},
      {"1.", "a float"},
      {".5", "a float"},
      {"1.5e+3", "a float"},
      {"1.5e3", "a string"},
      {"1e3", "a string"},
      {"-.Inf", "a float"},
      {".NaN", "a float"},
      {"-.nan", "a string"},
      {"1_0.0_1", "a float"},
      {"2001-12-14", "a date"},
      {"2001-1-4", "a string"},
      {"2001-12-1", "a string"},
      {"2001-12-14t21:59:43.10-05:00", "a date"},
      {"2001-12-14 21:59:43.10 -5", "a date"},
      {"2001-12-14 21:59:43.10 Z", "a date"},
      {"YES", "a boolean"},
      {"yEs", "a string"},
      {"y", "a string"},
      {"N", "a string"},
      {"oN", "a string"},
      {"Off", "a boolean"},
      {"nULL", "a string"},
      {"0o17", "a string"},
      {"+", "a string"},
      {"1.2.3", "a string"},
      {"12-30", "a string"},
  };
  for (auto [Plain, Type] : Cases) {
    std::string Text =
        "apiVersion: cleave/v2\nkind: Deployment\nname: " + std::string(Plain) +
        "\nartifact: a.so\n";
    std::string Want =
        std::string(Type) == "a string"
            ? "<no error>"
            : fmt::format("m.yaml:3:7: error: 'name' must be a string; YAML "
                          "reads {} as {} (quote it)",
                          Plain, Type);
    EXPECT_EQ(errorOf(Text), Want) << Plain;

    Manifest M;
    M.Name = Plain;
    std::string Written = writeManifest(M);
    if (std::string(Type) != "a string") {
      EXPECT_NE(Written.find(fmt::format("name: \"{}\"\n", Plain)),
                std::string::npos)
          << Written;
    }
    Result<Manifest> Again = parseManifest(Written, "w.yaml");
    ASSERT_TRUE(Again) << Again.error().message();
    EXPECT_EQ(Again->Name, Plain);
  }
  // No scalar is too long to be typed: 200000 digits are an integer.
  std::string Long(200000, '7');
  EXPECT_EQ(errorOf("apiVersion: cleave/v2\nkind: Deployment\nname: " + Long +
                    "\nartifact: a.so\n")
                .rfind("m.yaml:3:7: error: 'name' must be a string; YAML reads "
                       "777",
                       0),
            0u);
}

TEST(ManifestTest, WritesAHeaderComment) {
  Result<Manifest> M = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(M);
  EXPECT_EQ(writeManifest(*M).rfind("# Format cleave/v2 (docs/manifest.md), "
                                    "JSON Schema "
                                    "share/cleave/manifest.schema.json.\n"
                                    "apiVersion: cleave/v2\n",
                                    0),
            0u);
  std::string Text = writeManifest(*M, "tool 1.0 (a\nb)");
  EXPECT_EQ(Text.rfind("# Generated by tool 1.0 (a b): do not edit.\n"
                       "# Format cleave/v2 (docs/manifest.md), ",
                       0),
            0u)
      << Text;
  Result<Manifest> Again = parseManifest(Text, "w.yaml");
  ASSERT_TRUE(Again) << Again.error().message();
  EXPECT_EQ(*Again, *M);
}

TEST(ManifestTest, YamlSyntaxError) {
  EXPECT_EQ(errorOf("apiVersion: cleave/v2\nkind: [Deployment\n"),
            "m.yaml:3:1: error: end of sequence flow not found");
  EXPECT_EQ(errorOf("apiVersion: cleave/v2\n  kind: x\n bad"),
            "m.yaml:2:7: error: illegal map value");
}

// Bytes that are not UTF-8 would be written back as U+FFFD: refused where
// they start (a stray continuation byte, a truncated sequence, an overlong
// form, a surrogate).
TEST(ManifestTest, NotUtf8) {
  EXPECT_EQ(errorOf("apiVersion: cleave/v2\nname: sh\x80op\n"),
            "m.yaml:2:9: error: manifest is not valid UTF-8");
  EXPECT_EQ(errorOf("name: \xc3"), "m.yaml:1:7: error: manifest is not valid UTF-8");
  EXPECT_EQ(errorOf("name: \xc0\xafx"),
            "m.yaml:1:7: error: manifest is not valid UTF-8");
  EXPECT_EQ(errorOf("name: \xed\xa0\x80"),
            "m.yaml:1:7: error: manifest is not valid UTF-8");
  // Controls that YAML does not allow, which yaml-cpp would write back
  // escaped or not at all.
  EXPECT_EQ(errorOf("name: s\x16x\n"),
            "m.yaml:1:8: error: manifest holds the control character U+0016, "
            "which YAML does not allow");
  EXPECT_EQ(errorOf(std::string("name: a\0b", 9)),
            "m.yaml:1:8: error: manifest holds the control character U+0000, "
            "which YAML does not allow");
  EXPECT_EQ(errorOf("kind: x\x1b"),
            "m.yaml:1:8: error: manifest holds the control character U+001B, "
            "which YAML does not allow");
  EXPECT_EQ(errorOf("name: \xc2\x9b"),
            "m.yaml:1:7: error: manifest holds the control character U+009B, "
            "which YAML does not allow");
  EXPECT_EQ(errorOf("artifact: bu\r\r"),
            "m.yaml:1:13: error: manifest holds a carriage return that does "
            "not end a line (only CR LF does)");
  EXPECT_NE(errorOf("apiVersion: cleave/v2\r\nkind: Deployment\r\n"),
            "m.yaml:1:22: error: manifest holds a carriage return that does "
            "not end a line (only CR LF does)");
  // Well-formed multibyte text is a name like any other.
  EXPECT_NE(errorOf("name: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x8e\n"),
            "m.yaml:1:7: error: manifest is not valid UTF-8");
}

TEST(ManifestTest, UnknownApiVersion) {
  EXPECT_EQ(errorOf("apiVersion: cleave/v3\nkind: Deployment\n"),
            "m.yaml:1:13: error: unsupported apiVersion 'cleave/v3'; this "
            "runtime reads cleave/v2 and cleave/v1");
  EXPECT_EQ(errorOf("apiVersion: cleave/v0\nkind: Deployment\n"),
            "m.yaml:1:13: error: unsupported apiVersion 'cleave/v0'; this "
            "runtime reads cleave/v2 and cleave/v1");
  EXPECT_EQ(errorOf("kind: Deployment\nname: x\n"),
            "m.yaml:1:1: error: missing required key 'apiVersion'");
}

TEST(ManifestTest, MissingRequiredKey) {
  EXPECT_EQ(errorOf("apiVersion: cleave/v2\nkind: Deployment\nname: shop\n"),
            "m.yaml:1:1: error: missing required key 'artifact'");
  std::string NoSource = Header + EntryF;
  NoSource.erase(NoSource.find("    source: a.cpp:1:1\n"));
  EXPECT_EQ(errorOf(NoSource),
            "m.yaml:6:5: error: missing required key 'source' in entry 'f'");
  EXPECT_EQ(errorOf(Header + "state:\n  - name: s\n    granularity: whole\n"),
            "m.yaml:6:5: error: missing required key 'consistency' in state "
            "variable 's'");
  EXPECT_EQ(errorOf(Header + "functions:\n  - kind: entry\n"),
            "m.yaml:6:5: error: missing required key 'name' in function");
}

TEST(ManifestTest, WrongType) {
  std::string Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13,
               "resources: {memoryMiB: \"big\"}");
  EXPECT_EQ(errorOf(Text), "m.yaml:12:28: error: 'memoryMiB' must be a "
                           "non-negative integer, not the string 'big'");

  Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13,
               "resources: {timeoutSeconds: -1}");
  EXPECT_EQ(errorOf(Text), "m.yaml:12:33: error: 'timeoutSeconds' must be a "
                           "non-negative integer, not '-1'");

  Text = Header + EntryF;
  Text.replace(Text.find("resources: {}"), 13, "resources: [1]");
  EXPECT_EQ(errorOf(Text), "m.yaml:12:16: error: 'resources' must be a "
                           "mapping");

  Text = Header + EntryF;
  Text.replace(Text.find("name: f"), 7, "name: {x: 1}");
  EXPECT_EQ(errorOf(Text), "m.yaml:6:11: error: 'name' must be a string");

  EXPECT_EQ(errorOf(Header + "functions: 3\n"),
            "m.yaml:5:12: error: 'functions' must be a list");
  EXPECT_EQ(errorOf(Header + EntryF + "    isolate: maybe\n"),
            "m.yaml:14:14: error: 'isolate' must be true or false");
}

TEST(ManifestTest, DuplicateFunctionName) {
  std::string Text = Header + EntryF +
                     "  - name: f\n"
                     "    kind: function\n"
                     "    resources: {}\n"
                     "    source: a.cpp:9:1\n";
  EXPECT_EQ(errorOf(Text), "m.yaml:14:11: error: duplicate function 'f'\n"
                           "m.yaml:6:11: note: first defined here");
}

TEST(ManifestTest, DuplicateRoute) {
  std::string Text = Header + EntryF +
                     "  - name: g\n"
                     "    kind: entry\n"
                     "    handler: g\n"
                     "    trigger: {method: POST, path: /f}\n"
                     "    params: []\n"
                     "    returns: int\n"
                     "    resources: {}\n"
                     "    source: a.cpp:9:1\n";
  EXPECT_EQ(errorOf(Text),
            "m.yaml:17:14: error: duplicate route POST /f: entries 'f' and "
            "'g'\n"
            "m.yaml:9:14: note: 'f' declares it here");
  // The same path with another method is a different route.
  size_t At = Text.find("method: POST, path: /f}\n    params: []\n    "
                        "returns: int\n    resources: {}\n    source: a.cpp:9");
  Text.replace(At, 12, "method: GET");
  EXPECT_EQ(errorOf(Text), "<no error>");
}

TEST(ManifestTest, EntryWithoutTriggerOrHandler) {
  std::string Text = Header + EntryF;
  Text.erase(Text.find("    trigger:"), 37);
  EXPECT_EQ(errorOf(Text),
            "m.yaml:6:5: error: missing required key 'trigger' in entry 'f'");
  Text = Header + EntryF;
  Text.erase(Text.find("    handler:"), 15);
  EXPECT_EQ(errorOf(Text),
            "m.yaml:6:5: error: missing required key 'handler' in entry 'f'");
  // A plain function needs neither.
  Text = Header + "functions:\n  - name: f\n    kind: function\n"
                  "    resources: {}\n    source: a.cpp:1:1\n";
  EXPECT_EQ(errorOf(Text), "<no error>");
}

TEST(ManifestTest, InvalidEnumeratedValues) {
  std::string Text = Header + EntryF;
  Text.replace(Text.find("POST"), 4, "FETCH");
  EXPECT_EQ(errorOf(Text), "m.yaml:9:23: error: invalid method 'FETCH'; "
                           "expected GET, POST, PUT, PATCH or DELETE");
  Text = Header + EntryF;
  Text.replace(Text.find("POST"), 4, "post");
  EXPECT_EQ(errorOf(Text), "m.yaml:9:23: error: invalid method 'post'; "
                           "expected GET, POST, PUT, PATCH or DELETE");
  Text = Header + EntryF;
  Text.replace(Text.find("kind: entry"), 11, "kind: step");
  EXPECT_EQ(errorOf(Text), "m.yaml:7:11: error: invalid kind 'step'; "
                           "expected entry, function or helper");
  Text = Header + EntryF;
  Text.replace(Text.find("path: /f"), 8, "path: f");
  EXPECT_EQ(errorOf(Text),
            "m.yaml:9:35: error: trigger path 'f' must start with '/'");
  EXPECT_EQ(errorOf("apiVersion: cleave/v2\nkind: Service\n"),
            "m.yaml:2:7: error: invalid kind 'Service'; expected Deployment");
  EXPECT_EQ(errorOf(Header + "state:\n  - name: s\n    consistency: strong\n"
                             "    granularity: whole\n"),
            "m.yaml:7:18: error: invalid consistency 'strong'; expected "
            "linearizable or eventual");
  EXPECT_EQ(errorOf(Header + "state:\n  - name: s\n    consistency: eventual\n"
                             "    granularity: rows\n"),
            "m.yaml:8:18: error: invalid granularity 'rows'; expected "
            "whole or key");
}

TEST(ManifestTest, DuplicateStateName) {
  std::string Text = Header + "state:\n"
                              "  - {name: s, consistency: eventual, "
                              "granularity: whole}\n"
                              "  - {name: s, consistency: eventual, "
                              "granularity: whole}\n";
  EXPECT_EQ(errorOf(Text), "m.yaml:7:12: error: duplicate state variable 's'\n"
                           "m.yaml:6:12: note: first defined here");
}

TEST(ManifestTest, EmptyOrNonMapManifest) {
  EXPECT_EQ(errorOf(""), "m.yaml:1:1: error: the manifest is empty");
  EXPECT_EQ(errorOf("- a\n- b\n"),
            "m.yaml:1:1: error: the manifest must be a mapping");
}

TEST(ManifestTest, LoadNamesTheFile) {
  std::filesystem::path Dir =
      std::filesystem::temp_directory_path() /
      ("cleave-manifest-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(Dir);
  std::string Path = (Dir / "manifest.yaml").string();
  {
    std::ofstream Out(Path);
    Out << "apiVersion: cleave/v2\nkind: Deployment\nname: [\n";
  }
  Result<Manifest> Bad = loadManifest(Path);
  ASSERT_FALSE(Bad);
  EXPECT_TRUE(Bad.error().isLocated());
  EXPECT_EQ(Bad.error().message().rfind(Path + ":4:1: error: ", 0), 0u)
      << Bad.error().message();
  {
    std::ofstream Out(Path);
    Out << ShopManifest;
  }
  Result<Manifest> Good = loadManifest(Path);
  ASSERT_TRUE(Good) << Good.error().message();
  EXPECT_EQ(Good->Name, "shop");

  std::string Missing = (Dir / "nope.yaml").string();
  Result<Manifest> None = loadManifest(Missing);
  ASSERT_FALSE(None);
  EXPECT_FALSE(None.error().isLocated());
  EXPECT_EQ(None.error().message(), "cannot open manifest '" + Missing +
                                        "': No such file or directory");
  std::filesystem::remove_all(Dir);
}

TEST(ManifestTest, RenderTable) {
  Result<Manifest> M = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(M);
  EXPECT_EQ(renderTable(*M),
            "deployment shop (cleave/v2)\n"
            "artifact: build/libcleave_handlers.so\n"
            "\n"
            "FUNCTION     KIND      TRIGGER       RESOURCES                "
            "        STATE\n"
            "place_order  entry     POST /orders  mem=256MiB timeout=30s   "
            "        stock (readwrite)\n"
            "quote        function  -             mem=2048MiB timeout=30s "
            "isolate  -\n"
            "\n"
            "STATE  TYPE                        CONSISTENCY   GRANULARITY  "
            "READERS                WRITERS\n"
            "stock  std::map<std::string, int>  linearizable  whole        "
            "place_order, stock_of  place_order\n");

  Manifest Bare;
  Bare.Name = "bare";
  Bare.Artifact = "x.so";
  EXPECT_EQ(renderTable(Bare), "deployment bare (cleave/v2)\n"
                               "artifact: x.so\n"
                               "\n"
                               "FUNCTION  KIND  TRIGGER  RESOURCES  STATE\n"
                               "\n"
                               "(no state)\n");
}

} // namespace

TEST(ManifestTest, CallsRoundTripAndAreChecked) {
  std::string Text =
      Header + EntryF +
      "    calls:\n"
      "      - {callee: quote, placement: boundary, reason: memory 2048 MiB "
      "vs 256 MiB, source: a.cpp:3:5}\n"
      "      - {callee: sq, placement: fanout, source: a.cpp:4:5}\n";
  Result<Manifest> M = parseManifest(Text, "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  ASSERT_EQ(M->Functions[0].Calls.size(), 2u);
  EXPECT_EQ(M->Functions[0].Calls[0].Placement, "boundary");
  EXPECT_EQ(M->Functions[0].Calls[0].Reason, "memory 2048 MiB vs 256 MiB");
  EXPECT_EQ(M->Functions[0].Calls[1].Reason, "");
  Result<Manifest> Again = parseManifest(writeManifest(*M), "w.yaml");
  ASSERT_TRUE(Again) << Again.error().message();
  EXPECT_EQ(*Again, *M);

  std::string Bad = Text;
  Bad.replace(Bad.find("placement: fanout"), 17, "placement: remote");
  EXPECT_EQ(errorOf(Bad), "m.yaml:16:33: error: invalid placement 'remote'; "
                          "expected local, boundary or fanout");
}

TEST(ManifestTest, RenderJsonAndDot) {
  Result<Manifest> M = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(M);
  M->Functions[0].Calls.push_back(
      {"quote", "boundary", "memory 2048 MiB vs 256 MiB", "shop.cpp:9:3"});
  std::string Json = renderJson(*M);
  EXPECT_NE(Json.find("\"placement\": \"boundary\""), std::string::npos);
  EXPECT_NE(Json.find("\"readers\": [\n        \"place_order\""),
            std::string::npos)
      << Json;
  std::string Dot = renderDot(*M);
  EXPECT_EQ(Dot.rfind("digraph \"shop\" {", 0), 0u);
  EXPECT_NE(Dot.find("\"fn:place_order\" -> \"fn:quote\" [style=bold, "
                     "color=red, label=\"memory 2048 MiB vs 256 MiB\"]"),
            std::string::npos)
      << Dot;
  EXPECT_NE(Dot.find("\"state:stock\" [shape=cylinder"), std::string::npos);
  EXPECT_EQ(Dot.back(), '\n');
}

namespace {

/// The steps example of docs/manifest.md: an entry that stops at a boundary
/// to `quote`, and a helper that runs as steps.
const std::string StepsManifest = Header +
                                  "functions:\n"
                                  "  - name: quote\n"
                                  "    kind: function\n"
                                  "    resources: {memoryMiB: 2048}\n"
                                  "    source: shop.cpp:60:1\n"
                                  "  - name: place_order\n"
                                  "    kind: entry\n"
                                  "    handler: place_order\n"
                                  "    trigger: {method: POST, path: /orders}\n"
                                  "    params: [{name: o, type: Order}]\n"
                                  "    returns: Confirmation\n"
                                  "    resources: {}\n"
                                  "    source: shop.cpp:79:1\n"
                                  "    machine: place_order\n"
                                  "    steps:\n"
                                  "      - id: 0\n"
                                  "        source: shop.cpp:80:3\n"
                                  "      - id: 1\n"
                                  "        source: shop.cpp:81:18\n"
                                  "    edges:\n"
                                  "      - from: [0]\n"
                                  "        callee: quote\n"
                                  "        placement: boundary\n"
                                  "        resume: 1\n"
                                  "        source: shop.cpp:81:18\n"
                                  "        carried:\n"
                                  "          - {name: o, type: Order, bytes: "
                                  "64}\n"
                                  "          - {name: qty, type: int, bytes: "
                                  "4}\n"
                                  "  - name: sum\n"
                                  "    kind: helper\n"
                                  "    resources: {}\n"
                                  "    source: shop.cpp:70:1\n"
                                  "    steps:\n"
                                  "      - {id: 0, source: shop.cpp:70:20}\n"
                                  "      - {id: 1, source: shop.cpp:71:5}\n"
                                  "      - {id: 2, source: shop.cpp:72:5}\n"
                                  "    edges:\n"
                                  "      - {from: [0], callee: quote, "
                                  "placement: fanout, resume: 1, source: "
                                  "shop.cpp:71:5}\n"
                                  "      - {from: [0, 1], callee: sum, "
                                  "placement: local, resume: 2, source: "
                                  "shop.cpp:72:5, carried: []}\n";

/// StepsManifest with the first occurrence of \p From replaced by \p To.
std::string stepsWith(const std::string &From, const std::string &To) {
  std::string Text = StepsManifest;
  size_t At = Text.find(From);
  EXPECT_NE(At, std::string::npos) << From;
  if (At != std::string::npos)
    Text.replace(At, From.size(), To);
  return Text;
}

TEST(ManifestStepsTest, ParsesStepsAndEdges) {
  Result<Manifest> M = parseManifest(StepsManifest, "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  ASSERT_EQ(M->Functions.size(), 3u);
  EXPECT_TRUE(M->Functions[0].Steps.empty());
  EXPECT_TRUE(M->Functions[0].Edges.empty());
  EXPECT_TRUE(M->Functions[0].Machine.empty());

  const FunctionSpec &E = M->Functions[1];
  EXPECT_EQ(E.Machine, "place_order");
  EXPECT_EQ(E.Steps, (std::vector<StepSpec>{{0, "shop.cpp:80:3"},
                                            {1, "shop.cpp:81:18"}}));
  EXPECT_EQ(E.Edges,
            (std::vector<EdgeSpec>{{{0},
                                    "quote",
                                    "boundary",
                                    1,
                                    "shop.cpp:81:18",
                                    {{"o", "Order", 64}, {"qty", "int", 4}}}}));

  // A helper needs no trigger, and `carried` may be left out.
  const FunctionSpec &H = M->Functions[2];
  EXPECT_EQ(H.Kind, "helper");
  EXPECT_FALSE(H.isEntry());
  EXPECT_TRUE(H.Machine.empty());
  ASSERT_EQ(H.Edges.size(), 2u);
  EXPECT_EQ(H.Edges[0].Placement, "fanout");
  EXPECT_TRUE(H.Edges[0].Carried.empty());
  EXPECT_EQ(H.Edges[1].From, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(H.Edges[1].Callee, "sum"); // Recursion.
  EXPECT_EQ(H.Edges[1].Resume, 2);
}

TEST(ManifestStepsTest, RoundTrips) {
  Result<Manifest> M = parseManifest(StepsManifest, "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  std::string Text = writeManifest(*M);
  Result<Manifest> Again = parseManifest(Text, "w.yaml");
  ASSERT_TRUE(Again) << Again.error().message() << "\n" << Text;
  EXPECT_EQ(*Again, *M) << Text;
  EXPECT_EQ(writeManifest(*Again), Text);
  // The layout docs/manifest.md shows.
  EXPECT_NE(Text.find("    machine: place_order\n"
                      "    steps:\n"
                      "      - id: 0\n"
                      "        source: shop.cpp:80:3\n"
                      "      - id: 1\n"
                      "        source: shop.cpp:81:18\n"
                      "    edges:\n"
                      "      - from: [0]\n"
                      "        callee: quote\n"
                      "        placement: boundary\n"
                      "        resume: 1\n"
                      "        source: shop.cpp:81:18\n"
                      "        carried:\n"
                      "          - {name: o, type: Order, bytes: 64}\n"
                      "          - {name: qty, type: int, bytes: 4}\n"
                      "  - name: sum\n"),
            std::string::npos)
      << Text;
  EXPECT_NE(Text.find("        carried: []\n"), std::string::npos) << Text;

  // A machine without steps is kept too.
  M->Functions[0].Machine = "quote";
  Again = parseManifest(writeManifest(*M), "w.yaml");
  ASSERT_TRUE(Again) << Again.error().message();
  EXPECT_EQ(*Again, *M);
}

TEST(ManifestStepsTest, NoStepsWritesNoStepKeys) {
  // Manifests of programs without boundaries stay as they were.
  Result<Manifest> M = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(M);
  std::string Text = writeManifest(*M);
  EXPECT_EQ(Text.find("machine"), std::string::npos) << Text;
  EXPECT_EQ(Text.find("steps"), std::string::npos) << Text;
  EXPECT_EQ(Text.find("edges"), std::string::npos) << Text;
  EXPECT_EQ(Text.substr(Text.find("  - name: quote")),
            "  - name: quote\n"
            "    kind: function\n"
            "    resources: {memoryMiB: 2048, timeoutSeconds: 30, gpus: 0, "
            "concurrency: 0}\n"
            "    isolate: true\n"
            "    source: shop.cpp:20:1\n"
            "state:\n"
            "  - name: stock\n"
            "    type: std::map<std::string, int>\n"
            "    consistency: linearizable\n"
            "    granularity: whole\n"
            "    source: shop.cpp:12:42\n"
            "    readers: [place_order, stock_of]\n"
            "    writers: [place_order]\n");
}

TEST(ManifestStepsTest, StepIdsAreInOrder) {
  EXPECT_EQ(errorOf(stepsWith("      - id: 1\n", "      - id: 2\n")),
            "m.yaml:22:13: error: invalid step id 2 in entry 'place_order'; "
            "expected 1 (steps are numbered from 0, in order)");
  EXPECT_EQ(errorOf(stepsWith("{id: 0, source: shop.cpp:70:20}",
                              "{id: 1, source: shop.cpp:70:20}")),
            "m.yaml:38:14: error: invalid step id 1 in function 'sum'; "
            "expected 0 (steps are numbered from 0, in order)");
  EXPECT_EQ(errorOf(stepsWith("      - id: 1\n", "      - id: x\n")),
            "m.yaml:22:13: error: 'id' must be a non-negative integer, not "
            "the string 'x'");
  EXPECT_EQ(errorOf(stepsWith("      - id: 1\n        source: shop.cpp:81:18\n",
                              "      - id: 1\n")),
            "m.yaml:22:9: error: missing required key 'source' in step");
}

TEST(ManifestStepsTest, ResumeIsALaterStep) {
  EXPECT_EQ(errorOf(stepsWith("resume: 1\n", "resume: 0\n")),
            "m.yaml:28:17: error: invalid resume step 0 in edge 0 of entry "
            "'place_order'; expected 1");
  EXPECT_EQ(errorOf(stepsWith("resume: 1\n", "resume: 2\n")),
            "m.yaml:28:17: error: invalid resume step 2 in edge 0 of entry "
            "'place_order'; expected 1");
  EXPECT_EQ(errorOf(stepsWith("resume: 2,", "resume: 3,")),
            "m.yaml:43:63: error: invalid resume step 3 in edge 1 of function "
            "'sum'; expected 1 to 2");
  // Edges without steps.
  std::string Text = StepsManifest;
  Text.erase(Text.find("    steps:\n      - id: 0"),
             Text.find("    edges:\n      - from: [0]\n") -
                 Text.find("    steps:\n      - id: 0"));
  EXPECT_EQ(errorOf(Text), "m.yaml:20:16: error: invalid step 0 in 'from' of "
                           "edge 0 of entry 'place_order'; the function has "
                           "no steps");
  Text = stepsWith("      - id: 1\n        source: shop.cpp:81:18\n", "");
  EXPECT_EQ(errorOf(Text), "m.yaml:26:17: error: invalid resume step 1 in "
                           "edge 0 of entry 'place_order'; the function has "
                           "no step after step 0");
}

TEST(ManifestStepsTest, FromNamesSteps) {
  EXPECT_EQ(errorOf(stepsWith("from: [0, 1]", "from: [0, 3]")),
            "m.yaml:43:20: error: invalid step 3 in 'from' of edge 1 of "
            "function 'sum'; expected 0 to 2");
  EXPECT_EQ(errorOf(stepsWith("from: [0]\n", "from: [1, 2]\n")),
            "m.yaml:25:19: error: invalid step 2 in 'from' of edge 0 of "
            "entry 'place_order'; expected 0 to 1");
  EXPECT_EQ(errorOf(stepsWith("from: [0]\n", "from: 0\n")),
            "m.yaml:25:15: error: 'from' must be a list");
  EXPECT_EQ(errorOf(stepsWith("from: [0]\n", "from: [-1]\n")),
            "m.yaml:25:16: error: 'from' must be a non-negative integer, not "
            "'-1'");
}

TEST(ManifestStepsTest, CalleeIsAFunction) {
  EXPECT_EQ(errorOf(stepsWith("callee: quote\n", "callee: quoet\n")),
            "m.yaml:26:17: error: edge 0 of entry 'place_order' calls unknown "
            "function 'quoet'");
  // A callee defined after its caller is fine.
  std::string Text = StepsManifest;
  Text.replace(
      Text.find("  - name: quote"),
      Text.find("  - name: place_order") - Text.find("  - name: quote"), "");
  Text += "  - name: quote\n    kind: function\n    resources: {}\n"
          "    source: shop.cpp:60:1\n";
  EXPECT_EQ(errorOf(Text), "<no error>");
}

TEST(ManifestStepsTest, EdgeFieldsAreChecked) {
  EXPECT_EQ(errorOf(stepsWith("placement: boundary\n", "placement: remote\n")),
            "m.yaml:27:20: error: invalid placement 'remote'; expected "
            "boundary, fanout or local");
  EXPECT_EQ(errorOf(stepsWith("        resume: 1\n", "")),
            "m.yaml:25:9: error: missing required key 'resume' in edge");
  EXPECT_EQ(errorOf(stepsWith("bytes: 4}", "bytes: four}")),
            "m.yaml:32:43: error: 'bytes' must be a non-negative integer, not "
            "the string 'four'");
  EXPECT_EQ(errorOf(stepsWith("{name: qty, type: int, bytes: 4}",
                              "{name: qty, bytes: 4}")),
            "m.yaml:32:13: error: missing required key 'type' in carried "
            "variable");
  EXPECT_EQ(errorOf(stepsWith("    steps:\n      - id: 0\n        source: "
                              "shop.cpp:80:3\n      - id: 1\n        source: "
                              "shop.cpp:81:18\n",
                              "    steps: 0\n")),
            "m.yaml:19:12: error: 'steps' must be a list");
  EXPECT_EQ(errorOf(stepsWith("machine: place_order", "machine: [a]")),
            "m.yaml:18:14: error: 'machine' must be a string");
}

TEST(ManifestStepsTest, RenderJson) {
  Result<Manifest> M = parseManifest(StepsManifest, "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  nlohmann::json J = nlohmann::json::parse(renderJson(*M));
  const nlohmann::json &Quote = J["functions"][0];
  EXPECT_FALSE(Quote.contains("machine"));
  EXPECT_EQ(Quote["steps"], nlohmann::json::array());
  EXPECT_EQ(Quote["edges"], nlohmann::json::array());

  const nlohmann::json &E = J["functions"][1];
  EXPECT_EQ(E["machine"], "place_order");
  EXPECT_EQ(E["steps"], nlohmann::json::parse(R"([
      {"id": 0, "source": "shop.cpp:80:3"},
      {"id": 1, "source": "shop.cpp:81:18"}])"));
  EXPECT_EQ(E["edges"], nlohmann::json::parse(R"([
      {"from": [0], "callee": "quote", "placement": "boundary", "resume": 1,
       "source": "shop.cpp:81:18",
       "carried": [{"name": "o", "type": "Order", "bytes": 64},
                   {"name": "qty", "type": "int", "bytes": 4}]}])"));
  EXPECT_EQ(J["functions"][2]["kind"], "helper");
  EXPECT_EQ(J["functions"][2]["edges"][1]["from"],
            nlohmann::json::parse("[0, 1]"));
}

TEST(ManifestStepsTest, RenderDot) {
  Result<Manifest> M = parseManifest(StepsManifest, "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  M->Functions[1].State = {{"stock", "read"}};
  // The boundary is listed as a call too; it must be drawn once.
  M->Functions[1].Calls = {
      {"quote", "boundary", "memory 2048 MiB vs 256 MiB", "shop.cpp:81:18"}};
  std::string Dot = renderDot(*M);
  auto Has = [&](const std::string &S) {
    return Dot.find(S) != std::string::npos;
  };
  EXPECT_TRUE(Has("  compound=true;\n")) << Dot;
  // Functions without steps are nodes, as before.
  EXPECT_TRUE(Has("  \"fn:quote\" [shape=ellipse, label=\"quote\\n2048 MiB, "
                  "30 s\"];\n"))
      << Dot;
  // Functions with steps are clusters of steps.
  EXPECT_TRUE(Has("  subgraph \"cluster_place_order\" {\n"
                  "    label=\"POST /orders\\nplace_order\\n256 MiB, 30 s\";\n"
                  "    style=bold;\n"
                  "    fontname=\"Helvetica\";\n"
                  "    \"step:place_order:0\" [shape=box, style=rounded, "
                  "label=\"step 0\\nshop.cpp:80:3\"];\n"
                  "    \"step:place_order:1\" [shape=box, style=rounded, "
                  "label=\"step 1\\nshop.cpp:81:18\"];\n"
                  "    \"step:place_order:0\" -> \"step:place_order:1\" "
                  "[color=gray60, arrowhead=empty];\n"
                  "  }\n"))
      << Dot;
  EXPECT_FALSE(Has("\"fn:place_order\"")) << Dot;
  EXPECT_FALSE(Has("\"fn:sum\"")) << Dot;
  // The call, with what its frame carries, and the value coming back.
  EXPECT_TRUE(Has("  \"step:place_order:0\" -> \"fn:quote\" [style=bold, "
                  "color=red, label=\"o: Order, qty: int (68 B)\"];\n"))
      << Dot;
  EXPECT_TRUE(Has("  \"fn:quote\" -> \"step:place_order:1\" [style=dashed, "
                  "color=red, label=\"value\"];\n"))
      << Dot;
  EXPECT_FALSE(Has("memory 2048 MiB")) << Dot;
  EXPECT_TRUE(Has("  \"step:sum:0\" -> \"fn:quote\" [style=dashed, "
                  "color=blue, label=\"nothing carried\"];\n"))
      << Dot;
  // A call to a function with steps goes to its first step; within the
  // same cluster the arrow is not clipped.
  EXPECT_TRUE(Has("  \"step:sum:1\" -> \"step:sum:0\" [color=gray40, "
                  "label=\"nothing carried\"];\n"))
      << Dot;
  EXPECT_TRUE(Has("  \"step:sum:0\" -> \"step:sum:2\" [style=dashed, "
                  "color=gray40, label=\"value\"];\n"))
      << Dot;
  // The steps of sum, in order.
  EXPECT_TRUE(Has("    \"step:sum:0\" -> \"step:sum:1\" [color=gray60, "
                  "arrowhead=empty];\n"
                  "    \"step:sum:1\" -> \"step:sum:2\" [color=gray60, "
                  "arrowhead=empty];\n"
                  "  }\n"))
      << Dot;
  // State uses meet the cluster's border, in the direction of the value.
  EXPECT_TRUE(Has("  \"state:stock\" -> \"step:place_order:0\" "
                  "[lhead=\"cluster_place_order\", style=dotted, "
                  "label=\"read\"];\n"))
      << Dot;
  M->Functions[1].State = {{"stock", "write"}, {"log", "readwrite"}};
  Dot = renderDot(*M);
  EXPECT_TRUE(Has("  \"step:place_order:0\" -> \"state:stock\" "
                  "[ltail=\"cluster_place_order\", style=dotted, "
                  "label=\"write\"];\n"))
      << Dot;
  EXPECT_TRUE(Has("  \"step:place_order:0\" -> \"state:log\" "
                  "[ltail=\"cluster_place_order\", style=dotted, dir=both, "
                  "label=\"readwrite\"];\n"))
      << Dot;
  // The legend explains every shape and arrow, after the graph.
  EXPECT_NE(Dot.find("  subgraph \"cluster_legend\" {\n"
                     "    label=\"legend\";\n"),
            std::string::npos)
      << Dot;
  EXPECT_TRUE(Has("    \"legend:read:state\" -> \"legend:read:function\" "
                  "[style=dotted, label=\"read\"];\n"))
      << Dot;
  EXPECT_TRUE(Has("    \"legend:readwrite:function\" -> "
                  "\"legend:readwrite:state\" [style=dotted, dir=both, "
                  "label=\"readwrite\"];\n"))
      << Dot;
  EXPECT_TRUE(Has("\"legend:step:0\" -> \"legend:step:1\" [color=gray60, "
                  "arrowhead=empty, label=\"next step\"];\n"))
      << Dot;
  EXPECT_GT(Dot.find("subgraph \"cluster_legend\""),
            Dot.find("\"state:stock\" ["))
      << Dot;
  M->Functions[1].State = {{"stock", "read"}};

  // Across clusters, arrows are clipped at the callee's border.
  M->Functions[1].Edges[0].Callee = "sum";
  Dot = renderDot(*M);
  EXPECT_TRUE(Has("  \"step:place_order:0\" -> \"step:sum:0\" "
                  "[lhead=\"cluster_sum\", style=bold, color=red, "
                  "label=\"o: Order, qty: int (68 B)\"];\n"))
      << Dot;
  EXPECT_TRUE(Has("  \"step:sum:0\" -> \"step:place_order:1\" "
                  "[ltail=\"cluster_sum\", style=dashed, color=red, "
                  "label=\"value\"];\n"))
      << Dot;

  // Without steps, no clusters but the legend's, and no compound edges.
  M = parseManifest(ShopManifest, "shop.yaml");
  ASSERT_TRUE(M);
  Dot = renderDot(*M);
  EXPECT_FALSE(Has("compound")) << Dot;
  EXPECT_FALSE(Has("subgraph \"cluster_place_order\"")) << Dot;
  EXPECT_TRUE(Has("subgraph \"cluster_legend\"")) << Dot;
}

TEST(ManifestStepsTest, RenderTable) {
  Result<Manifest> M = parseManifest(StepsManifest, "m.yaml");
  ASSERT_TRUE(M) << M.error().message();
  EXPECT_EQ(renderTable(*M),
            "deployment shop (cleave/v2)\n"
            "artifact: lib.so\n"
            "\n"
            "FUNCTION     KIND      TRIGGER       RESOURCES                "
            "STATE\n"
            "quote        function  -             mem=2048MiB timeout=30s  -\n"
            "place_order  entry     POST /orders  mem=256MiB timeout=30s   -\n"
            "sum          helper    -             mem=256MiB timeout=30s   -\n"
            "\n"
            "steps of place_order:\n"
            "  step 0  shop.cpp:80:3\n"
            "  step 1  shop.cpp:81:18  after quote (boundary), carries o "
            "(Order, 64 B), qty (int, 4 B)\n"
            "\n"
            "steps of sum:\n"
            "  step 0  shop.cpp:70:20\n"
            "  step 1  shop.cpp:71:5   after quote (fanout), carries nothing\n"
            "  step 2  shop.cpp:72:5   after sum (local), carries nothing\n"
            "\n"
            "(no state)\n");
}

} // namespace
