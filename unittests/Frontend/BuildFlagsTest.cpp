//===- BuildFlagsTest.cpp - Flags carried to the rewritten units ---------===//

#include "cleave/Driver/Build.h"

#include "gtest/gtest.h"

using namespace cleave;

namespace {

TEST(BuildFlagsTest, KeepsFlagsDropsOutputsAndAbsolutizesIncludes) {
  clang::tooling::CompileCommand Cmd("/proj/build", "../src/shop.cpp",
                                     {"/usr/bin/c++", "-DNDEBUG",
                                      "-I../include", "-isystem", "third",
                                      "-std=c++17", "-O2", "-MD", "-MF", "x.d",
                                      "-o", "shop.o", "-c", "../src/shop.cpp"},
                                     "shop.o");
  std::vector<std::string> Flags = flagsForRewrittenUnit(Cmd);
  std::vector<std::string> Expected = {"-DNDEBUG",   "-I/proj/include",
                                       "-isystem",   "/proj/build/third",
                                       "-std=c++17", "-O2",
                                       "-iquote",    "/proj/src"};
  EXPECT_EQ(Flags, Expected);
}

} // namespace
