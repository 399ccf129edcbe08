//===- RouterTest.cpp - Tests of request routing --------------------------===//

#include "cleave/Router.h"

#include <gtest/gtest.h>

using namespace cleave::rt;

namespace {

Router makeRouter() {
  Router R;
  EXPECT_TRUE(R.add("POST", "/orders", 0));
  EXPECT_TRUE(R.add("GET", "/orders", 1));
  EXPECT_TRUE(R.add("GET", "/stock", 2));
  EXPECT_TRUE(R.add("DELETE", "/orders", 3));
  return R;
}

TEST(RouterTest, FindsExactRoute) {
  Router R = makeRouter();
  EXPECT_EQ(R.size(), 4u);
  RouteMatch M = R.match("GET", "/orders");
  ASSERT_EQ(M.Status, RouteMatch::Found);
  EXPECT_EQ(M.Index, 1u);
  M = R.match("POST", "/orders");
  ASSERT_EQ(M.Status, RouteMatch::Found);
  EXPECT_EQ(M.Index, 0u);
  M = R.match("GET", "/stock");
  ASSERT_EQ(M.Status, RouteMatch::Found);
  EXPECT_EQ(M.Index, 2u);
}

TEST(RouterTest, UnknownPathIsNotFound) {
  Router R = makeRouter();
  RouteMatch M = R.match("GET", "/nowhere");
  EXPECT_EQ(M.Status, RouteMatch::NotFound);
  EXPECT_TRUE(M.Allowed.empty());
  // Paths are compared exactly: no prefix, case or trailing-slash matching.
  EXPECT_EQ(R.match("GET", "/orders/").Status, RouteMatch::NotFound);
  EXPECT_EQ(R.match("GET", "/Orders").Status, RouteMatch::NotFound);
  EXPECT_EQ(R.match("GET", "/order").Status, RouteMatch::NotFound);
  EXPECT_EQ(R.match("GET", "").Status, RouteMatch::NotFound);
}

TEST(RouterTest, OtherMethodIsNotAllowedWithSortedAllowList) {
  Router R = makeRouter();
  RouteMatch M = R.match("PUT", "/orders");
  ASSERT_EQ(M.Status, RouteMatch::MethodNotAllowed);
  EXPECT_EQ(M.Allowed, (std::vector<std::string>{"DELETE", "GET", "POST"}));
  M = R.match("POST", "/stock");
  ASSERT_EQ(M.Status, RouteMatch::MethodNotAllowed);
  EXPECT_EQ(M.Allowed, (std::vector<std::string>{"GET"}));
  // Methods are case-sensitive, as HTTP says.
  EXPECT_EQ(R.match("get", "/stock").Status, RouteMatch::MethodNotAllowed);
}

TEST(RouterTest, QueryStringAndFragmentAreIgnored) {
  Router R = makeRouter();
  RouteMatch M = R.match("GET", "/stock?item=apple&x=1");
  ASSERT_EQ(M.Status, RouteMatch::Found);
  EXPECT_EQ(M.Index, 2u);
  EXPECT_EQ(R.match("GET", "/stock?").Status, RouteMatch::Found);
  EXPECT_EQ(R.match("GET", "/stock#top").Status, RouteMatch::Found);
  EXPECT_EQ(R.match("GET", "/stockx?item=a").Status, RouteMatch::NotFound);
  EXPECT_EQ(R.match("PUT", "/stock?item=a").Status,
            RouteMatch::MethodNotAllowed);
}

TEST(RouterTest, DuplicateRouteIsRejected) {
  Router R = makeRouter();
  Result<void> Again = R.add("GET", "/stock", 7);
  ASSERT_FALSE(Again);
  EXPECT_EQ(Again.error().message(), "duplicate route GET /stock");
  // The first registration stands.
  EXPECT_EQ(R.match("GET", "/stock").Index, 2u);
}

TEST(RouterTest, FromManifestIndexesEntriesOnly) {
  Manifest M;
  FunctionSpec Helper;
  Helper.Name = "quote";
  Helper.Kind = "function";
  FunctionSpec Entry;
  Entry.Name = "place_order";
  Entry.Kind = "entry";
  Entry.Method = "POST";
  Entry.Path = "/orders";
  M.Functions = {Helper, Entry};
  Result<Router> R = Router::fromManifest(M);
  ASSERT_TRUE(R);
  EXPECT_EQ(R->size(), 1u);
  RouteMatch Match = R->match("POST", "/orders");
  ASSERT_EQ(Match.Status, RouteMatch::Found);
  EXPECT_EQ(Match.Index, 1u);

  M.Functions.push_back(Entry);
  M.Functions.back().Name = "again";
  Result<Router> Dup = Router::fromManifest(M);
  ASSERT_FALSE(Dup);
  EXPECT_EQ(Dup.error().message(), "duplicate route POST /orders");
}

} // namespace
