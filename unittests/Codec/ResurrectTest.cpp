//===- ResurrectTest.cpp - Rebuilding objects without their constructors -===//
//
// frame::constructFrame and frame::releaseQuietly: a class with user-written
// special members comes back from a frame, and goes away, without any of
// them running; a quiet type is value-initialized and decoded; a failure
// leaves nothing constructed (every allocation is given back). The codecs
// and FrameRecord specializations below are what the compiler generates,
// including the access tags for private members.
//
//===----------------------------------------------------------------------===//

#include "cleave/codec.h"
#include "cleave/frame.h"

#include "gtest/gtest.h"

#include <memory>
#include <new>

using namespace cleave::frame;

namespace {

/// Every user-written special member below counts itself here.
int Constructed = 0, Destroyed = 0, Assigned = 0;
/// Allocations through Counting<T>, to prove nothing is leaked.
long Allocated = 0;

template <class T> struct Counting {
  using value_type = T;
  Counting() = default;
  template <class U> Counting(const Counting<U> &) {}
  T *allocate(std::size_t N) {
    ++Allocated;
    return std::allocator<T>().allocate(N);
  }
  void deallocate(T *P, std::size_t N) {
    --Allocated;
    std::allocator<T>().deallocate(P, N);
  }
  template <class U> bool operator==(const Counting<U> &) const { return true; }
  template <class U> bool operator!=(const Counting<U> &) const {
    return false;
  }
};
using Numbers = std::vector<int, Counting<int>>;

/// Quiet: nothing user-written anywhere in it.
struct Plain {
  int A = 0;
  Numbers Values;
};

/// Noisy, with a private member.
class Inner {
public:
  Inner() { ++Constructed; }
  Inner(const Inner &O) : Tag(O.Tag) { ++Constructed; }
  ~Inner() { ++Destroyed; }
  Inner &operator=(const Inner &O) {
    Tag = O.Tag;
    ++Assigned;
    return *this;
  }
  int tag() const { return Tag; }
  void setTag(int T) { Tag = T; }

private:
  int Tag = 0;
};

struct Base {
  Base() { ++Constructed; }
  ~Base() { ++Destroyed; }
  Numbers Ids;
};

/// Noisy, with a private noisy member, a quiet member and a private base.
class Account : private Base {
public:
  Account() : Balance(-1) { ++Constructed; }
  Account(const Account &O) : Base(O), Balance(O.Balance), Owner(O.Owner) {
    ++Constructed;
  }
  ~Account() { ++Destroyed; }
  long balance() const { return Balance; }
  const Inner &owner() const { return Owner; }
  const Numbers &ids() const { return Ids; }
  void set(long B, int OwnerTag, Numbers I) {
    Balance = B;
    Owner.setTag(OwnerTag);
    Ids = std::move(I);
  }

private:
  long Balance;
  Inner Owner;
  Plain Extra;
};

struct Shape {
  virtual ~Shape() = default;
};

} // namespace

// What the compiler generates for these classes.
namespace cleave::access {
struct Inner_Tag {
  friend constexpr auto memberPointer(Inner_Tag);
};
template struct Expose<Inner_Tag, &::Inner::Tag>;
struct Account_Balance {
  friend constexpr auto memberPointer(Account_Balance);
};
template struct Expose<Account_Balance, &::Account::Balance>;
struct Account_Owner {
  friend constexpr auto memberPointer(Account_Owner);
};
template struct Expose<Account_Owner, &::Account::Owner>;
struct Account_Extra {
  friend constexpr auto memberPointer(Account_Extra);
};
template struct Expose<Account_Extra, &::Account::Extra>;
} // namespace cleave::access

namespace cleave::frame {
template <> struct FrameCodec<::Plain> {
  static void encode(FrameWriter &W, const ::Plain &V) {
    frameMember(W, V.A);
    frameMember(W, V.Values);
  }
  static bool decode(FrameReader &R, ::Plain &V) {
    frameMember(R, V.A);
    frameMember(R, V.Values);
    return R.ok();
  }
};
template <> struct FrameCodec<::Inner> {
  static void encode(FrameWriter &W, const ::Inner &V) {
    frameMember(W, (V.*memberPointer(::cleave::access::Inner_Tag{})));
  }
  static bool decode(FrameReader &R, ::Inner &V) {
    frameMember(R, (V.*memberPointer(::cleave::access::Inner_Tag{})));
    return R.ok();
  }
};
template <> struct FrameCodec<::Base> {
  static void encode(FrameWriter &W, const ::Base &V) {
    frameMember(W, V.Ids);
  }
  static bool decode(FrameReader &R, ::Base &V) {
    frameMember(R, V.Ids);
    return R.ok();
  }
};
template <> struct FrameCodec<::Account> {
  static void encode(FrameWriter &W, const ::Account &V) {
    frameMember(W, ((const ::Base &)V));
    frameMember(W, (V.*memberPointer(::cleave::access::Account_Balance{})));
    frameMember(W, (V.*memberPointer(::cleave::access::Account_Owner{})));
    frameMember(W, (V.*memberPointer(::cleave::access::Account_Extra{})));
  }
  static bool decode(FrameReader &R, ::Account &V) {
    frameMember(R, ((::Base &)V));
    frameMember(R, (V.*memberPointer(::cleave::access::Account_Balance{})));
    frameMember(R, (V.*memberPointer(::cleave::access::Account_Owner{})));
    frameMember(R, (V.*memberPointer(::cleave::access::Account_Extra{})));
    return R.ok();
  }
};

template <> struct FrameRecord<::Plain> {
  static constexpr bool Quiet = true;
  static constexpr bool Resurrectable = true;
  static constexpr std::size_t Subobjects = 2;
};
template <> struct FrameRecord<::Inner> {
  static constexpr bool Quiet = false;
  static constexpr bool Resurrectable = true;
  static constexpr std::size_t Subobjects = 1;
  static bool construct(FrameReader &R, ::Inner *P);
  static void releaseFirst(::Inner *P, std::size_t N);
};
template <> struct FrameRecord<::Base> {
  static constexpr bool Quiet = false;
  static constexpr bool Resurrectable = true;
  static constexpr std::size_t Subobjects = 1;
  static bool construct(FrameReader &R, ::Base *P);
  static void releaseFirst(::Base *P, std::size_t N);
};
template <> struct FrameRecord<::Account> {
  static constexpr bool Quiet = false;
  static constexpr bool Resurrectable = true;
  static constexpr std::size_t Subobjects = 4;
  static bool construct(FrameReader &R, ::Account *P);
  static void releaseFirst(::Account *P, std::size_t N);
};
template <> struct FrameRecord<::Shape> {
  static constexpr bool Quiet = false;
  static constexpr bool Resurrectable = true; // but it is polymorphic
  static constexpr std::size_t Subobjects = 0;
};

inline bool FrameRecord<::Inner>::construct(FrameReader &R, ::Inner *P) {
  std::size_t Built = 0;
  if (constructMember(
          R, &((*P).*memberPointer(::cleave::access::Inner_Tag{}))) &&
      ++Built)
    return true;
  releaseFirst(P, Built);
  return false;
}
inline void FrameRecord<::Inner>::releaseFirst(::Inner *P, std::size_t N) {
  switch (N) {
  case 1:
    releaseQuietly(&((*P).*memberPointer(::cleave::access::Inner_Tag{})));
    [[fallthrough]];
  default:
    (void)P;
    break;
  }
}
inline bool FrameRecord<::Base>::construct(FrameReader &R, ::Base *P) {
  std::size_t Built = 0;
  if (constructMember(R, &(*P).Ids) && ++Built)
    return true;
  releaseFirst(P, Built);
  return false;
}
inline void FrameRecord<::Base>::releaseFirst(::Base *P, std::size_t N) {
  switch (N) {
  case 1:
    releaseQuietly(&(*P).Ids);
    [[fallthrough]];
  default:
    (void)P;
    break;
  }
}
inline bool FrameRecord<::Account>::construct(FrameReader &R, ::Account *P) {
  std::size_t Built = 0;
  if (constructMember(R, (::Base *)P) && ++Built &&
      constructMember(
          R, &((*P).*memberPointer(::cleave::access::Account_Balance{}))) &&
      ++Built &&
      constructMember(
          R, &((*P).*memberPointer(::cleave::access::Account_Owner{}))) &&
      ++Built &&
      constructMember(
          R, &((*P).*memberPointer(::cleave::access::Account_Extra{}))) &&
      ++Built)
    return true;
  releaseFirst(P, Built);
  return false;
}
inline void FrameRecord<::Account>::releaseFirst(::Account *P,
                                                 std::size_t N) {
  switch (N) {
  case 4:
    releaseQuietly(&((*P).*memberPointer(::cleave::access::Account_Extra{})));
    [[fallthrough]];
  case 3:
    releaseQuietly(&((*P).*memberPointer(::cleave::access::Account_Owner{})));
    [[fallthrough]];
  case 2:
    releaseQuietly(
        &((*P).*memberPointer(::cleave::access::Account_Balance{})));
    [[fallthrough]];
  case 1:
    releaseQuietly((::Base *)P);
    [[fallthrough]];
  default:
    (void)P;
    break;
  }
}
} // namespace cleave::frame

namespace {

static_assert(IsQuiet<int>::value && IsQuiet<std::string>::value);
static_assert(IsQuiet<Plain>::value && IsQuiet<std::vector<Plain>>::value);
static_assert(IsQuiet<std::map<std::string, std::optional<Plain>>>::value);
static_assert(!IsQuiet<Account>::value && !IsQuiet<Inner>::value);
static_assert(IsResurrectable<Account>::value);
static_assert(IsResurrectable<Inner>::value && IsResurrectable<Plain>::value);
static_assert(!IsResurrectable<std::vector<Inner>>::value,
              "a container would run its elements' constructors");
static_assert(!IsResurrectable<std::optional<Account>>::value);
static_assert(!IsResurrectable<Shape>::value, "polymorphic");
static_assert(!IsResurrectable<int &>::value && !IsResurrectable<int *>::value);

struct Counts {
  int C = Constructed, D = Destroyed, A = Assigned;
  bool unchanged() const {
    return C == Constructed && D == Destroyed && A == Assigned;
  }
};

std::string frameOfAccount() {
  Account Src;
  Src.set(1250, 7, Numbers{4, 5, 6});
  std::string Bytes;
  encodeFrame(Bytes, Src);
  return Bytes;
}

TEST(ResurrectTest, NoUserWrittenSpecialMemberRuns) {
  std::string Bytes = frameOfAccount();
  long Allocations = Allocated;
  Counts Before;
  alignas(Account) unsigned char Storage[sizeof(Account)];
  FrameReader R(Bytes);
  ASSERT_TRUE(readFrameHeader(R));
  Status St = constructFrame<Account>(R, Storage);
  ASSERT_TRUE(St) << St.str();
  EXPECT_TRUE(R.atEnd());
  const Account &A = *std::launder(reinterpret_cast<Account *>(Storage));
  EXPECT_EQ(A.balance(), 1250);
  EXPECT_EQ(A.owner().tag(), 7);
  EXPECT_EQ(A.ids(), (Numbers{4, 5, 6}));
  EXPECT_TRUE(Before.unchanged()) << "a constructor ran";

  releaseQuietly(std::launder(reinterpret_cast<Account *>(Storage)));
  EXPECT_TRUE(Before.unchanged()) << "a destructor ran";
  EXPECT_EQ(Allocated, Allocations) << "the ids were not freed";
}

TEST(ResurrectTest, FailureLeavesNothingConstructed) {
  std::string Bytes = frameOfAccount();
  long Allocations = Allocated;
  Counts Before;
  // Cut the frame at every byte after the header: the ids (the base) are
  // built first, so most cuts fail after something was allocated.
  for (std::size_t Cut = FrameHeaderSize; Cut < Bytes.size(); ++Cut) {
    alignas(Account) unsigned char Storage[sizeof(Account)];
    FrameReader R(Bytes.data(), Cut);
    const char *Header = nullptr;
    ASSERT_TRUE(R.take(FrameHeaderSize, Header));
    Status St = constructFrame<Account>(R, Storage);
    EXPECT_FALSE(St) << "cut at " << Cut;
    EXPECT_EQ(Allocated, Allocations) << "leak after a cut at " << Cut;
  }
  EXPECT_TRUE(Before.unchanged());
}

TEST(ResurrectTest, QuietTypesAreValueInitializedAndDecoded) {
  Plain Src;
  Src.A = 3;
  Src.Values = {1, 2};
  std::string Bytes;
  encodeFrame(Bytes, Src, std::string("tail"));
  long Allocations = Allocated;
  alignas(Plain) unsigned char Storage[sizeof(Plain)];
  alignas(std::string) unsigned char Text[sizeof(std::string)];
  FrameReader R(Bytes);
  ASSERT_TRUE(readFrameHeader(R));
  ASSERT_TRUE(constructFrame<Plain>(R, Storage));
  ASSERT_TRUE(constructFrame<std::string>(R, Text));
  auto *P = std::launder(reinterpret_cast<Plain *>(Storage));
  auto *S = std::launder(reinterpret_cast<std::string *>(Text));
  EXPECT_EQ(P->A, 3);
  EXPECT_EQ(P->Values, (Numbers{1, 2}));
  EXPECT_EQ(*S, "tail");
  releaseQuietly(P);
  releaseQuietly(S);
  EXPECT_EQ(Allocated, Allocations);

  // A corrupt value: nothing is left behind.
  Bytes[FrameHeaderSize + sizeof(int)] = 9; // 9 numbers, 2 present
  FrameReader Bad(Bytes);
  ASSERT_TRUE(readFrameHeader(Bad));
  Status St = constructFrame<Plain>(Bad, Storage);
  EXPECT_FALSE(St);
  EXPECT_EQ(Allocated, Allocations);
}

TEST(ResurrectTest, TheProgramsOwnDestructorStillWorks) {
  // An object rebuilt from a frame is a normal object afterwards: when the
  // program's scope ends it, its destructor runs once, as in the monolith.
  std::string Bytes = frameOfAccount();
  Counts Before;
  alignas(Account) unsigned char Storage[sizeof(Account)];
  FrameReader R(Bytes);
  ASSERT_TRUE(readFrameHeader(R));
  ASSERT_TRUE(constructFrame<Account>(R, Storage));
  std::launder(reinterpret_cast<Account *>(Storage))->~Account();
  EXPECT_EQ(Destroyed, Before.D + 3); // Account, its Inner, its Base
  EXPECT_EQ(Constructed, Before.C);
}

} // namespace
