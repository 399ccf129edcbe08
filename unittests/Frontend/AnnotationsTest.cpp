//===- AnnotationsTest.cpp - Parsing of annotation strings ---------------===//

#include "cleave/Frontend/Annotations.h"

#include "gtest/gtest.h"

using namespace cleave;

namespace {

Trigger trigger(std::string_view S) {
  auto R = parseTrigger(S);
  EXPECT_TRUE(std::holds_alternative<Trigger>(R)) << S;
  return std::holds_alternative<Trigger>(R) ? std::get<Trigger>(R) : Trigger{};
}

AnnotationError triggerError(std::string_view S) {
  auto R = parseTrigger(S);
  EXPECT_TRUE(std::holds_alternative<AnnotationError>(R)) << S;
  return std::holds_alternative<AnnotationError>(R)
             ? std::get<AnnotationError>(R)
             : AnnotationError{};
}

TEST(TriggerTest, AcceptsEveryMethod) {
  for (const char *M : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    Trigger T = trigger(std::string(M) + " /a/b-c_d.e~f");
    EXPECT_EQ(T.Method, M);
    EXPECT_EQ(T.Path, "/a/b-c_d.e~f");
  }
}

TEST(TriggerTest, RootPath) { EXPECT_EQ(trigger("GET /").Path, "/"); }

TEST(TriggerTest, RejectsUnknownMethodAtStart) {
  AnnotationError E = triggerError("FETCH /x");
  EXPECT_NE(E.Message.find("unknown method 'FETCH'"), std::string::npos);
  EXPECT_EQ(E.Offset, 0u);
}

TEST(TriggerTest, LowerCaseMethodIsUnknown) {
  EXPECT_NE(triggerError("get /x").Message.find("unknown method"),
            std::string::npos);
}

TEST(TriggerTest, RejectsMissingPath) {
  EXPECT_NE(triggerError("GET").Message.find("expected \"METHOD /path\""),
            std::string::npos);
  EXPECT_NE(triggerError("").Message.find("expected"), std::string::npos);
}

TEST(TriggerTest, PathMustStartWithSlash) {
  AnnotationError E = triggerError("POST orders");
  EXPECT_NE(E.Message.find("must start with '/'"), std::string::npos);
  EXPECT_EQ(E.Offset, 5u);
}

TEST(TriggerTest, PointsAtTheBadCharacter) {
  AnnotationError E = triggerError("GET /a?b");
  EXPECT_NE(E.Message.find("invalid character '?'"), std::string::npos);
  EXPECT_EQ(E.Offset, 6u);
  EXPECT_NE(triggerError("GET /a b").Message.find("space"), std::string::npos);
  EXPECT_NE(triggerError("GET /a//b").Message.find("empty path segment"),
            std::string::npos);
}

TEST(FunctionOptionsTest, DefaultsForEmpty) {
  auto R = parseFunctionOptions("");
  ASSERT_TRUE(std::holds_alternative<Resources>(R));
  EXPECT_EQ(std::get<Resources>(R), Resources{});
  EXPECT_EQ(std::get<Resources>(R).MemoryMiB, 256u);
}

TEST(FunctionOptionsTest, ParsesEveryKey) {
  auto R = parseFunctionOptions("memory=2048, timeout=5,gpu=1,concurrency=4,"
                                "isolate");
  ASSERT_TRUE(std::holds_alternative<Resources>(R));
  Resources Res = std::get<Resources>(R);
  EXPECT_EQ(Res.MemoryMiB, 2048u);
  EXPECT_EQ(Res.TimeoutSec, 5u);
  EXPECT_EQ(Res.Gpu, 1u);
  EXPECT_EQ(Res.Concurrency, 4u);
  EXPECT_TRUE(Res.Isolate);
}

TEST(FunctionOptionsTest, UnknownKeyNamesTheKeyAndTheChoices) {
  auto R = parseFunctionOptions("memory=1,mem=2");
  ASSERT_TRUE(std::holds_alternative<AnnotationError>(R));
  const auto &E = std::get<AnnotationError>(R);
  EXPECT_NE(E.Message.find("unknown option 'mem'"), std::string::npos);
  EXPECT_NE(E.Message.find("memory, timeout"), std::string::npos);
  EXPECT_EQ(E.Offset, 9u);
}

TEST(FunctionOptionsTest, BadValues) {
  for (const char *S :
       {"memory=lots", "memory=0", "memory=", "timeout=-1", "gpu=1.5",
        "isolate=maybe", "memory=1,,gpu=1", "memory=1,memory=2"})
    EXPECT_TRUE(
        std::holds_alternative<AnnotationError>(parseFunctionOptions(S)))
        << S;
  EXPECT_TRUE(std::holds_alternative<Resources>(parseFunctionOptions("gpu=0")));
}

TEST(StateOptionsTest, Consistency) {
  auto R = parseStateOptions("consistency=eventual");
  ASSERT_TRUE(std::holds_alternative<Consistency>(R));
  EXPECT_EQ(std::get<Consistency>(R), Consistency::Eventual);
  EXPECT_EQ(std::get<Consistency>(parseStateOptions("")),
            Consistency::Linearizable);
  EXPECT_TRUE(std::holds_alternative<AnnotationError>(
      parseStateOptions("consistency=strong")));
  EXPECT_TRUE(
      std::holds_alternative<AnnotationError>(parseStateOptions("ttl=5")));
}

} // namespace
