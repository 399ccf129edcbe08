//===- ModuleTest.cpp - Tests of handler library loading ------------------===//

#include "cleave/Module.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace cleave::rt;

namespace {

int answer(const cleave_call_v1 *, cleave_reply_v1 *Reply) {
  Reply->status = 204;
  Reply->body = nullptr;
  Reply->body_len = 0;
  return 204;
}

int ReleaseCount = 0;
void countingRelease(char *Body) {
  ++ReleaseCount;
  std::free(Body);
}

const cleave_handler_v1 TwoHandlers[] = {{"a", answer}, {"b", answer}};

Manifest manifestWithEntry(const std::string &Handler) {
  Manifest M;
  M.Name = "t";
  M.Artifact = "lib.so";
  FunctionSpec F;
  F.Name = "entry_" + Handler;
  F.Kind = "entry";
  F.Handler = Handler;
  F.Method = "GET";
  F.Path = "/" + Handler;
  M.Functions.push_back(F);
  return M;
}

/// A scratch folder removed at the end of the test.
struct TempDir {
  TempDir() {
    static int Count = 0;
    Path = std::filesystem::temp_directory_path() /
           ("cleave-module-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(Count++));
    std::filesystem::create_directories(Path);
  }
  ~TempDir() { std::filesystem::remove_all(Path); }
  std::filesystem::path Path;
};

TEST(ModuleTest, InProcessTable) {
  cleave_module_v1_t Table = {CLEAVE_ABI_VERSION, 2, TwoHandlers,
                              countingRelease, 0, nullptr};
  auto M = Module::fromTable(&Table, "test table");
  ASSERT_TRUE(M) << M.error().message();
  EXPECT_EQ((*M)->find("a"), &answer);
  EXPECT_EQ((*M)->find("b"), &answer);
  EXPECT_EQ((*M)->find("c"), nullptr);
  EXPECT_EQ((*M)->origin(), "test table");

  ReleaseCount = 0;
  (*M)->release(nullptr); // Not passed on: a 204 has no body.
  (*M)->release(static_cast<char *>(std::malloc(4)));
  EXPECT_EQ(ReleaseCount, 1);
}

TEST(ModuleTest, AbiVersionMismatch) {
  // A library built for the first ABI, before steps.
  cleave_module_v1_t Table = {1, 2, TwoHandlers, countingRelease, 0, nullptr};
  auto M = Module::fromTable(&Table, "old.so");
  ASSERT_FALSE(M);
  EXPECT_EQ(M.error().message(),
            "old.so: handler library uses ABI version 1, but this runtime "
            "speaks version 3; rebuild it with a matching cleave");
}

TEST(ModuleTest, MalformedTables) {
  EXPECT_EQ(Module::fromTable(nullptr, "x").error().message(),
            "x: the module entry point returned no table");
  cleave_module_v1_t NoRelease = {CLEAVE_ABI_VERSION, 2, TwoHandlers, nullptr,
                                  0, nullptr};
  EXPECT_EQ(Module::fromTable(&NoRelease, "x").error().message(),
            "x: handler table has no release function");
  const cleave_handler_v1 Twice[] = {{"a", answer}, {"a", answer}};
  cleave_module_v1_t Dup = {CLEAVE_ABI_VERSION, 2, Twice, countingRelease, 0, nullptr};
  EXPECT_EQ(Module::fromTable(&Dup, "x").error().message(),
            "x: handler 'a' appears twice");
  const cleave_handler_v1 Nameless[] = {{nullptr, answer}};
  cleave_module_v1_t NoName = {CLEAVE_ABI_VERSION, 1, Nameless,
                               countingRelease, 0, nullptr};
  EXPECT_EQ(Module::fromTable(&NoName, "x").error().message(),
            "x: handler #0 has no name or no function");
}

TEST(ModuleTest, VerifyFindsMissingHandler) {
  cleave_module_v1_t Table = {CLEAVE_ABI_VERSION, 2, TwoHandlers,
                              countingRelease, 0, nullptr};
  auto M = Module::fromTable(&Table, "lib.so");
  ASSERT_TRUE(M);
  EXPECT_TRUE((*M)->verify(manifestWithEntry("a")));
  Result<void> Missing = (*M)->verify(manifestWithEntry("zz"));
  ASSERT_FALSE(Missing);
  EXPECT_EQ(Missing.error().message(),
            "handler library 'lib.so' has no handler 'zz' for entry "
            "'entry_zz'");
}

TEST(ModuleTest, LoadsARealLibrary) {
  auto M = Module::load(CLEAVE_TEST_MODULE);
  ASSERT_TRUE(M) << M.error().message();
  cleave_handler_fn_v1 Greet = (*M)->find("greet");
  ASSERT_NE(Greet, nullptr);
  cleave_call_v1 Call = {"{}", 2, 0, nullptr};
  cleave_reply_v1 Reply = {0, nullptr, 0};
  EXPECT_EQ(Greet(&Call, &Reply), 200);
  EXPECT_EQ(Reply.status, 200);
  ASSERT_NE(Reply.body, nullptr);
  EXPECT_EQ(std::string(Reply.body, Reply.body_len), "\"hello\"");
  (*M)->release(Reply.body);
}

TEST(ModuleTest, MissingFile) {
  auto M = Module::load("/nonexistent/libnothing.so");
  ASSERT_FALSE(M);
  EXPECT_EQ(M.error().message(), "handler library '/nonexistent/libnothing.so'"
                                 " does not exist; was the output built?");
}

TEST(ModuleTest, NotASharedLibrary) {
  TempDir Dir;
  std::string Path = (Dir.Path / "libfake.so").string();
  // Long enough to have an ELF header's size, so the loader reads it.
  std::ofstream(Path) << std::string(1024, 'x');
  auto M = Module::load(Path);
  ASSERT_FALSE(M);
  const std::string &Message = M.error().message();
  EXPECT_EQ(Message.rfind("cannot load handler library '" + Path + "': ", 0),
            0u)
      << Message;
  // dlerror's own explanation follows.
  EXPECT_NE(Message.find("invalid ELF header"), std::string::npos) << Message;
}

TEST(ModuleTest, MissingSymbol) {
  auto M = Module::load(CLEAVE_TEST_NOT_A_MODULE);
  ASSERT_FALSE(M);
  EXPECT_EQ(M.error().message(), std::string("'") + CLEAVE_TEST_NOT_A_MODULE +
                                     "' is not a cleave handler library: it "
                                     "does not export 'cleave_module_v1'");
}

TEST(ModuleTest, ArtifactIsRelativeToTheManifest) {
  TempDir Dir;
  std::filesystem::create_directories(Dir.Path / "build");
  std::filesystem::copy_file(CLEAVE_TEST_MODULE,
                             Dir.Path / "build" / "libhandlers.so");
  std::string ManifestPath = (Dir.Path / "manifest.yaml").string();

  Manifest M = manifestWithEntry("greet");
  M.Artifact = "build/libhandlers.so";
  auto Loaded = Module::loadForManifest(M, ManifestPath);
  ASSERT_TRUE(Loaded) << Loaded.error().message();
  EXPECT_NE((*Loaded)->find("greet"), nullptr);

  // The library loads, but lacks a handler the manifest needs.
  Manifest Wrong = manifestWithEntry("farewell");
  Wrong.Artifact = "build/libhandlers.so";
  auto Failed = Module::loadForManifest(Wrong, ManifestPath);
  ASSERT_FALSE(Failed);
  EXPECT_EQ(Failed.error().message(),
            "handler library '" + (Dir.Path / "build/libhandlers.so").string() +
                "' has no handler 'farewell' for entry 'entry_farewell'");
}

} // namespace
