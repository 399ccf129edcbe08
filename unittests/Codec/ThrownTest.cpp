//===- ThrownTest.cpp - Exceptions that cross a boundary -----------------===//
//
// describeException and throwDescribed (cleave/thrown.h): every class of
// exception_types.def comes back as itself with its what(), a class derived
// from one of them as the nearest one, and anything else as something only
// `catch (...)` takes.
//
//===----------------------------------------------------------------------===//

#include "cleave/thrown.h"

#include <gtest/gtest.h>

#include <system_error>
#include <typeinfo>

namespace {

using namespace cleave::rt;

/// What \p E becomes after a trip across a boundary.
template <class E> std::exception_ptr roundTrip(const E &Original) {
  ThrownText T = describeException(std::make_exception_ptr(Original));
  try {
    throwDescribed(T);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

struct Rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class E> void expectSameClassAndText(const E &Original) {
  std::exception_ptr P = roundTrip(Original);
  try {
    std::rethrow_exception(P);
  } catch (const std::exception &Back) {
    EXPECT_TRUE(typeid(Back) == typeid(E) ||
                dynamic_cast<const E *>(&Back) != nullptr)
        << typeid(Back).name();
    EXPECT_STREQ(Back.what(), Original.what());
  } catch (...) {
    ADD_FAILURE() << "not a std::exception";
  }
}

TEST(ThrownTest, EveryStandardClassComesBackAsItself) {
  expectSameClassAndText(std::invalid_argument("bad sku"));
  expectSameClassAndText(std::domain_error("domain"));
  expectSameClassAndText(std::length_error("too long"));
  expectSameClassAndText(std::out_of_range("far"));
  expectSameClassAndText(std::logic_error("logic"));
  expectSameClassAndText(std::range_error("range"));
  expectSameClassAndText(std::overflow_error("overflow"));
  expectSameClassAndText(std::underflow_error("underflow"));
  expectSameClassAndText(std::runtime_error("runtime"));
  expectSameClassAndText(std::bad_alloc());
  expectSameClassAndText(std::bad_array_new_length());
  expectSameClassAndText(std::bad_cast());
  expectSameClassAndText(std::bad_any_cast());
  expectSameClassAndText(std::bad_typeid());
  expectSameClassAndText(std::bad_optional_access());
  expectSameClassAndText(std::bad_variant_access());
  expectSameClassAndText(std::bad_function_call());
  expectSameClassAndText(std::bad_weak_ptr());
  expectSameClassAndText(std::bad_exception());
  expectSameClassAndText(std::exception());
}

TEST(ThrownTest, TheExactClassIsKeptWhereItCanBeMade) {
  std::exception_ptr P = roundTrip(std::out_of_range("far"));
  try {
    std::rethrow_exception(P);
  } catch (const std::exception &E) {
    EXPECT_TRUE(typeid(E) == typeid(std::out_of_range)) << typeid(E).name();
  }
}

TEST(ThrownTest, AMessageOfItsOwnIsKeptForAClassMadeWithoutOne) {
  // std::get on the wrong alternative: a bad_variant_access whose what()
  // is not the class's own.
  std::exception_ptr Original;
  try {
    std::variant<int, std::string> V = 1;
    (void)std::get<std::string>(V);
  } catch (...) {
    Original = std::current_exception();
  }
  ThrownText T = describeException(Original);
  EXPECT_EQ(T.first, "std::bad_variant_access");
  EXPECT_NE(T.second, std::bad_variant_access().what());
  try {
    throwDescribed(T);
  } catch (const std::bad_variant_access &E) {
    EXPECT_EQ(E.what(), T.second);
  } catch (...) {
    ADD_FAILURE() << "not a std::bad_variant_access";
  }
}

TEST(ThrownTest, ADerivedClassComesBackAsTheNearestStandardOne) {
  ThrownText T = describeException(std::make_exception_ptr(Rejected("no")));
  EXPECT_EQ(T.first, "std::runtime_error");
  EXPECT_EQ(T.second, "no");
  T = describeException(std::make_exception_ptr(
      std::system_error(std::make_error_code(std::errc::io_error), "disk")));
  EXPECT_EQ(T.first, "std::runtime_error");
  EXPECT_NE(T.second.find("disk"), std::string::npos) << T.second;
  // A handler of a base class takes it as it took the original.
  bool Caught = false;
  try {
    throwDescribed(describeException(std::make_exception_ptr(Rejected("no"))));
  } catch (const std::logic_error &) {
    ADD_FAILURE() << "taken by the wrong handler";
  } catch (const std::runtime_error &E) {
    Caught = std::string(E.what()) == "no";
  }
  EXPECT_TRUE(Caught);
}

TEST(ThrownTest, AnythingElseIsTakenOnlyByACatchAll) {
  ThrownText T = describeException(std::make_exception_ptr(42));
  EXPECT_EQ(T.first, "");
  int Where = 0;
  try {
    throwDescribed(T);
  } catch (const std::exception &) {
    Where = 1;
  } catch (...) {
    Where = 2;
  }
  EXPECT_EQ(Where, 2);
  // An unknown class name (a frame from another build) too.
  Where = 0;
  try {
    throwDescribed({"std::nonesuch", "x"});
  } catch (const std::exception &) {
    Where = 1;
  } catch (...) {
    Where = 2;
  }
  EXPECT_EQ(Where, 2);
}

} // namespace
