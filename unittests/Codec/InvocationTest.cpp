//===- InvocationTest.cpp - A handler call through the C ABI -------------===//
//
// Drives cleave::rt::Invocation the way a generated handler does, with a host
// table backed by a std::map, to check the reply for every outcome, that
// the function's state is loaded into its thread's copy before it runs, and
// that state is written back only when it changed.
//
//===----------------------------------------------------------------------===//

#include "cleave/handler.h"

#include "gtest/gtest.h"

#include <map>
#include <stdexcept>
#include <string>

using cleave::codec::Json;

namespace {

// As a CLEAVE_STATE variable is in a handler library: thread_local, filled
// from the store before the handler runs.
thread_local std::map<std::string, long> Totals = {{"a", 1}};
const cleave::rt::StateOps TotalsOps =
    cleave::rt::makeStateOps<std::map<std::string, long>>(
        "totals", []() -> void * { return &Totals; });

/// Registers "totals" as state of function "f", as a generated module does
/// when the runtime loads it.
void registerOnce() {
  static const bool Done = [] {
    static const cleave::rt::StateOps *const Ops[] = {&TotalsOps};
    static const char *const Names[] = {"totals", nullptr};
    static const cleave::rt::FunctionState Functions[] = {{"f", Names}};
    cleave::rt::registerModuleState(Ops, 1, Functions, 1);
    return true;
  }();
  (void)Done;
}

struct Host {
  std::map<std::string, std::string> Store;
  std::map<std::string, std::string> Writes;
  int Gets = 0;
  cleave_host_v1 Table{this, &get, &put};

  static int get(void *Ctx, const char *Name, const char **Data, size_t *Len) {
    auto *H = static_cast<Host *>(Ctx);
    ++H->Gets;
    auto It = H->Store.find(Name);
    if (It == H->Store.end())
      return 0;
    *Data = It->second.data();
    *Len = It->second.size();
    return 1;
  }
  static int put(void *Ctx, const char *Name, const char *Data, size_t Len) {
    static_cast<Host *>(Ctx)->Writes[Name].assign(Data, Len);
    return 0;
  }
};

struct Reply {
  int Status;
  std::string Body;
};

/// Calls a handler shaped like generated code: one long parameter "n".
template <class Fn>
Reply call(Host &H, const std::string &Args, Fn &&F, int ArgsAreStrings = 0) {
  registerOnce();
  cleave_call_v1 Call{Args.data(), Args.size(), ArgsAreStrings, &H.Table};
  cleave_reply_v1 R;
  {
    cleave::rt::Invocation Inv(&Call, &R, "f");
    long N = 0;
    if (Inv.parseArgs() && Inv.arg("n", N))
      Inv.run([&]() -> decltype(auto) { return F(N); });
  }
  Reply Out{R.status, R.body ? std::string(R.body, R.body_len) : ""};
  std::free(R.body);
  return Out;
}

long &totals(const char *Key) { return Totals[Key]; }

} // namespace

namespace cleave {
namespace rt {
const StateOps *findStateOps(const char *Name) {
  return std::string(Name) == "totals" ? &TotalsOps : nullptr;
}
} // namespace rt
} // namespace cleave

TEST(InvocationTest, ResultIsEncoded) {
  Host H;
  Reply R = call(H, R"({"n": 4})", [](long N) { return N * 2; });
  EXPECT_EQ(R.Status, 200);
  EXPECT_EQ(R.Body, "8");
}

TEST(InvocationTest, VoidAnswers204) {
  Host H;
  Reply R = call(H, R"({"n": 4})", [](long) {});
  EXPECT_EQ(R.Status, 204);
  EXPECT_EQ(R.Body, "");
}

TEST(InvocationTest, BadArgumentsAre400NamingTheField) {
  Host H;
  Reply R = call(H, R"({"n": "four"})", [](long N) { return N; });
  EXPECT_EQ(R.Status, 400);
  EXPECT_EQ(Json::parse(R.Body)["field"], "n");
  R = call(H, R"({})", [](long N) { return N; });
  EXPECT_EQ(R.Status, 400);
  EXPECT_EQ(Json::parse(R.Body)["error"], "n: missing parameter");
  R = call(H, R"([1])", [](long N) { return N; });
  EXPECT_EQ(R.Status, 400);
}

TEST(InvocationTest, QueryArgumentsAreText) {
  Host H;
  Reply R = call(
      H, R"({"n": "21"})", [](long N) { return N * 2; }, 1);
  EXPECT_EQ(R.Status, 200);
  EXPECT_EQ(R.Body, "42");
}

TEST(InvocationTest, ExceptionIs500AndKeepsChangesMadeBeforeIt) {
  // As in the plain program: the change before the throw persists.
  Host H;
  Reply R = call(H, R"({"n": 1})", [](long) -> long {
    totals("a") = 99;
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(R.Status, 500);
  EXPECT_EQ(Json::parse(R.Body)["error"], "exception in f: boom");
  EXPECT_EQ(H.Writes["totals"], R"({"a":99})");
}

TEST(InvocationTest, BadArgumentsWriteNothing) {
  Host H;
  Reply R = call(H, R"({"n": "x"})", [](long N) { return totals("a") = N; });
  EXPECT_EQ(R.Status, 400);
  EXPECT_TRUE(H.Writes.empty());
}

TEST(InvocationTest, StateStartsFromInitializerAndIsWrittenBack) {
  Host H;
  Reply R = call(H, R"({"n": 5})", [](long N) { return totals("a") += N; });
  EXPECT_EQ(R.Status, 200);
  EXPECT_EQ(R.Body, "6");
  EXPECT_EQ(H.Writes["totals"], R"({"a":6})");
  H.Writes.clear();
  R = call(H, R"({"n": 1})", [](long N) { return totals("a") += N; });
  EXPECT_EQ(R.Body, "2") << "the store has no value yet: the initial one";
}

TEST(InvocationTest, StoredValueWinsAndUnchangedStateIsNotWritten) {
  Host H;
  H.Store["totals"] = R"({"a":10,"b":2})";
  Reply R =
      call(H, R"({"n": 0})", [](long) { return totals("a") + totals("b"); });
  EXPECT_EQ(R.Body, "12");
  EXPECT_EQ(H.Gets, 1) << "one load per invocation";
  EXPECT_TRUE(H.Writes.empty());
}

TEST(InvocationTest, StateIsLoadedBeforeTheHandlerAndNotLeftStale) {
  // A value loaded by one call must not leak into the next: a key the
  // stored value lacks is absent, not carried over.
  Host H;
  H.Store["totals"] = R"({"b":2})";
  Reply R = call(H, R"({"n": 0})", [](long) { return (long)Totals.size(); });
  EXPECT_EQ(R.Body, "1");
  EXPECT_EQ(H.Gets, 1) << "loaded before the handler ran";
  H.Store["totals"] = R"({"c":3,"d":4})";
  R = call(H, R"({"n": 0})", [](long) { return (long)Totals.count("b"); });
  EXPECT_EQ(R.Body, "0");
  EXPECT_TRUE(H.Writes.empty());
}

TEST(InvocationTest, CorruptStoredStateIs500) {
  Host H;
  H.Store["totals"] = R"({"a":"ten"})";
  Reply R = call(H, R"({"n": 0})", [](long) { return totals("a"); });
  EXPECT_EQ(R.Status, 500);
  EXPECT_NE(Json::parse(R.Body)["error"].get<std::string>().find("totals"),
            std::string::npos);
}
