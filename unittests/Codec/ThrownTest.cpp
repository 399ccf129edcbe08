//===- ThrownTest.cpp - Exceptions that cross a boundary -----------------===//
//
// describeException and throwDescribed (cleave/thrown.h): every class of
// exception_types.def comes back as itself with its what(), a class derived
// from one of them as the nearest one, and anything else as something only
// `catch (...)` takes. Classes of the program registered with carryClass
// (handler.h) come back as themselves; a class derived from one that is not
// registered cannot cross, and says so.
//
//===----------------------------------------------------------------------===//

#include "cleave/thrown.h"
#include "cleave/handler.h"

#include <gtest/gtest.h>

#include <system_error>
#include <typeinfo>
#include <vector>

// Classes of the program, at namespace scope as carried classes must be.
struct Carried : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct CarriedWorse : Carried {
  using Carried::Carried;
};
struct Short {
  std::string Sku;
  int Missing = 0;
  std::vector<int> Bins;
};

// What the compiler generates for Short.
namespace cleave::frame {
template <> struct FrameCodec<::Short> {
  static void encode(FrameWriter &W, const ::Short &V) {
    frameMember(W, V.Sku);
    frameMember(W, V.Missing);
    frameMember(W, V.Bins);
  }
  static bool decode(FrameReader &R, ::Short &V) {
    frameMember(R, V.Sku);
    frameMember(R, V.Missing);
    frameMember(R, V.Bins);
    return R.ok();
  }
};
template <> struct FrameRecord<::Short> {
  static constexpr bool Quiet = true;
  static constexpr bool Resurrectable = true;
  static constexpr std::size_t Subobjects = 3;
};
} // namespace cleave::frame

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

TEST(ThrownTest, ACarriedClassComesBackAsItself) {
  carryClass<Carried>("::Carried",
                      [](const std::string &W) { throw Carried(W); });
  ThrownText T = describeException(std::make_exception_ptr(Carried("nope")));
  EXPECT_EQ(T.first, "::Carried");
  EXPECT_EQ(T.second, "nope");
  EXPECT_EQ(uncarried(T), "");
  std::exception_ptr P = roundTrip(Carried("nope"));
  try {
    std::rethrow_exception(P);
  } catch (const Carried &Back) {
    EXPECT_TRUE(typeid(Back) == typeid(Carried));
    EXPECT_STREQ(Back.what(), "nope");
  } catch (...) {
    ADD_FAILURE() << "not a Carried";
  }
}

TEST(ThrownTest, APlainClassComesBackWithItsMembers) {
  carryClass<Short>("::Short");
  std::exception_ptr P = roundTrip(Short{"sku-1", 7, {1, 2, 3}});
  try {
    std::rethrow_exception(P);
  } catch (const Short &Back) {
    EXPECT_EQ(Back.Sku, "sku-1");
    EXPECT_EQ(Back.Missing, 7);
    EXPECT_EQ(Back.Bins, (std::vector<int>{1, 2, 3}));
  } catch (...) {
    ADD_FAILURE() << "not a Short";
  }
}

TEST(ThrownTest, AClassDerivedFromACarriedOneThatIsNotCarriedCannotCross) {
  carryClass<Carried>("::Carried",
                      [](const std::string &W) { throw Carried(W); });
  ThrownText T =
      describeException(std::make_exception_ptr(CarriedWorse("worse")));
  EXPECT_EQ(T.first, UncarriedException);
  std::string Why = uncarried(T);
  EXPECT_NE(Why.find("CarriedWorse"), std::string::npos) << Why;
  EXPECT_NE(Why.find("derives from 'Carried'"), std::string::npos) << Why;
  // A carried class this library does not have cannot be thrown again.
  EXPECT_NE(uncarried({"::Elsewhere", ""}).find("Elsewhere"),
            std::string::npos);
  EXPECT_EQ(uncarried({"std::runtime_error", "x"}), "");
}

TEST(ThrownTest, TheMessageIsThePlainProgramsHandlers) {
  EXPECT_EQ(exceptionMessage(std::make_exception_ptr(Carried("x")), "f"),
            "exception in f: x");
  EXPECT_EQ(exceptionMessage(std::make_exception_ptr(Short{}), "f"),
            "unknown exception in f");
}

} // namespace
