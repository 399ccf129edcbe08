//===- frame.h - Binary continuation frames for generated steps -*- C++ -*-===//
//
// When the compiler cuts a function at a boundary, the variables live after
// the call travel to the next step as a *frame*. A frame is written and read
// by the same build of the handler library, so its layout is fixed and needs
// no field names or type tags; but a frame that comes back from the state
// store or the network may be truncated or corrupt, so every decoder here is
// bounds-checked and reports an error instead of reading past the end,
// allocating what the bytes cannot hold, or crashing.
//
// Format (host byte order; a frame never leaves the build that wrote it):
//
//   frame    := header payload
//   header   := 'C' 'L' 'F' version:u8 payload-length:u64        (12 bytes)
//   payload  := value*                    (the carried variables, in order)
//   scalar   := its object bytes          (integers, floating point, enums)
//   bool     := u8 0 or 1
//   string   := length:varint byte*
//   vector   := count:varint element*     (one block for scalar elements)
//   map      := count:varint (key value)*
//   optional := u8 0 | u8 1 value
//   pair, tuple, array, struct := their members, in order
//
// varint is unsigned LEB128. A count is checked against the bytes that are
// left before anything is allocated: each element takes at least
// FrameCodec<T>::MinSize bytes, so a count that cannot fit is an error.
//
// The compiler writes one FrameCodec<T> specialization per user struct, one
// line per member, like the JSON codecs in codec.h:
//
// \code
//   template <> struct FrameCodec<Order> {
//     static void encode(FrameWriter &W, const Order &V) {
//       frameMember(W, V.item);
//       frameMember(W, V.qty);
//     }
//     static bool decode(FrameReader &R, Order &V) {
//       frameMember(R, V.item);
//       frameMember(R, V.qty);
//       return R.ok();
//     }
//   };
// \endcode
//
// The reader's error is sticky (the first one is kept and every later read
// fails at once), so decode need not stop at the first false; chaining the
// members with && works as well.
//
// or, for a struct that can be copied as bytes (see FrameTrivialCodec),
//   template <> struct FrameCodec<Point> : FrameTrivialCodec<Point> {};
//
// Decoding never throws for bad input (only std::bad_alloc can escape, for
// sizes the frame really holds). Included by generated code, in C++17 or
// later; no dependency beyond the standard library.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRAME_H
#define CLEAVE_FRAME_H

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace cleave {
namespace frame {

inline constexpr char FrameMagic[3] = {'C', 'L', 'F'};
inline constexpr std::uint8_t FrameVersion = 1;
/// Magic (3 bytes), version (1), payload length (8).
inline constexpr std::size_t FrameHeaderSize = 12;

/// The outcome of decoding a frame: success, or what was wrong and at which
/// byte offset of the frame.
class [[nodiscard]] FrameStatus {
public:
  FrameStatus() = default;
  FrameStatus(std::string Message, std::size_t Offset)
      : Failed(true), Message(std::move(Message)), Offset(Offset) {}

  static FrameStatus success() { return FrameStatus(); }

  explicit operator bool() const { return !Failed; }

  /// Empty on success.
  const std::string &message() const { return Message; }
  /// The offset in the frame where the offending item starts.
  std::size_t offset() const { return Offset; }
  /// "at byte 17: string length 9999 exceeds the 3 bytes left", or "ok".
  std::string str() const {
    if (!Failed)
      return "ok";
    return "at byte " + std::to_string(Offset) + ": " + Message;
  }

private:
  bool Failed = false;
  std::string Message;
  std::size_t Offset = 0;
};

/// Appends bytes to a std::string or std::vector<char>.
///
/// The writer grows the container ahead of what it writes and trims it back
/// when it is finished (by finish() or its destructor), so the container must
/// not be read or changed while the writer is alive.
class FrameWriter {
public:
  explicit FrameWriter(std::string &Out)
      : Buffer(&Out), Resize(&resizeBuffer<std::string>), Base(Out.size()) {
    attach(Out.data(), Base, Base);
  }
  explicit FrameWriter(std::vector<char> &Out)
      : Buffer(&Out), Resize(&resizeBuffer<std::vector<char>>),
        Base(Out.size()) {
    attach(Out.data(), Base, Base);
  }
  FrameWriter(const FrameWriter &) = delete;
  FrameWriter &operator=(const FrameWriter &) = delete;
  ~FrameWriter() { finish(); }

  void write(const void *Src, std::size_t N) {
    if (N > static_cast<std::size_t>(Limit - Cur))
      grow(N);
    if (N) // Src may be null when N is 0 (an empty vector's data()).
      std::memcpy(Cur, Src, N);
    Cur += N;
  }

  /// Writes the object representation of \p V.
  template <class T> void writeRaw(const T &V) {
    static_assert(std::is_trivially_copyable_v<T>,
                  "only trivially copyable values can be written as bytes");
    write(&V, sizeof(T));
  }

  void writeByte(std::uint8_t B) { write(&B, 1); }

  /// Writes \p N as an unsigned LEB128 varint (one byte below 128).
  void writeLength(std::uint64_t N) {
    if (N < 0x80) {
      writeByte(static_cast<std::uint8_t>(N));
      return;
    }
    std::uint8_t Bytes[10];
    std::size_t Len = 0;
    do {
      auto B = static_cast<std::uint8_t>(N & 0x7f);
      N >>= 7;
      Bytes[Len++] = static_cast<std::uint8_t>(B | (N ? 0x80 : 0));
    } while (N);
    write(Bytes, Len);
  }

  /// The number of bytes written through this writer.
  std::size_t size() const { return static_cast<std::size_t>(Cur - Start); }

  /// Replaces bytes already written; \p Offset is counted like size().
  void overwrite(std::size_t Offset, const void *Src, std::size_t N) {
    assert(Offset <= size() && N <= size() - Offset &&
           "overwriting bytes that were not written");
    if (N)
      std::memcpy(Start + Offset, Src, N);
  }

  /// Trims the container to the bytes written. The writer stays usable.
  void finish() {
    std::size_t Used = static_cast<std::size_t>(Cur - Data);
    if (Data + Used == Limit)
      return;
    std::size_t Size = Used;
    char *NewData = Resize(Buffer, Size, /*Exact=*/true);
    attach(NewData, Used, Size);
  }

private:
  /// Resizes the container to \p Size, or to at least \p Size (amortized
  /// doubling) unless \p Exact; stores the new size in \p Size.
  template <class C>
  static char *resizeBuffer(void *B, std::size_t &Size, bool Exact) {
    C &Out = *static_cast<C *>(B);
    // 256 bytes at least: most frames then take one allocation.
    if (!Exact)
      Size = std::max({Size, Out.capacity(), 2 * Out.size(), std::size_t(256)});
    Out.resize(Size);
    return Out.data();
  }

  void attach(char *NewData, std::size_t Used, std::size_t Size) {
    Data = NewData;
    Start = Data + Base;
    Cur = Data + Used;
    Limit = Data + Size;
  }

  void grow(std::size_t N) {
    std::size_t Used = static_cast<std::size_t>(Cur - Data);
    std::size_t Size = Used + N;
    char *NewData = Resize(Buffer, Size, /*Exact=*/false);
    attach(NewData, Used, Size);
  }

  void *Buffer;
  char *(*Resize)(void *Buffer, std::size_t &Size, bool Exact);
  std::size_t Base; // the container's size before this writer
  char *Data = nullptr;
  char *Start = nullptr;
  char *Cur = nullptr;
  char *Limit = nullptr;
};

/// A bounds-checked cursor over the bytes of a frame.
///
/// Errors are sticky: the first one is kept (message and offset), the cursor
/// moves to the end so that every later read fails too, and status() reports
/// it. Codecs therefore may stop at the first false or carry on; the frame's
/// status is right either way.
class FrameReader {
public:
  FrameReader(const char *Data, std::size_t Size)
      : Begin(Data), Cur(Data), End(Data + Size) {}
  explicit FrameReader(std::string_view Bytes)
      : FrameReader(Bytes.data(), Bytes.size()) {}

  bool ok() const { return !Failed; }
  std::size_t offset() const { return static_cast<std::size_t>(Cur - Begin); }
  std::size_t remaining() const { return static_cast<std::size_t>(End - Cur); }
  bool atEnd() const { return Cur == End; }

  FrameStatus status() const {
    if (!Failed)
      return FrameStatus::success();
    return FrameStatus(Message, ErrorOffset);
  }

  /// Records an error at the current offset; always returns false.
  bool fail(std::string Why) { return failAt(offset(), std::move(Why)); }

  /// Records an error at \p Offset unless one is recorded already; always
  /// returns false.
  bool failAt(std::size_t Offset, std::string Why) {
    if (!Failed) {
      Failed = true;
      Message = std::move(Why);
      ErrorOffset = Offset;
    }
    Cur = End;
    return false;
  }

  /// Points \p P at the next \p N bytes and moves past them.
  bool take(std::size_t N, const char *&P) {
    if (N > remaining())
      return failTruncated(N);
    P = Cur;
    Cur += N;
    return true;
  }

  bool read(void *Dst, std::size_t N) {
    if (N > remaining())
      return failTruncated(N);
    if (N)
      std::memcpy(Dst, Cur, N);
    Cur += N;
    return true;
  }

  /// Reads the object representation of \p V.
  template <class T> bool readRaw(T &V) {
    static_assert(std::is_trivially_copyable_v<T>,
                  "only trivially copyable values can be read as bytes");
    return read(&V, sizeof(T));
  }

  bool readByte(std::uint8_t &B) { return read(&B, 1); }

  /// Reads an unsigned LEB128 varint of at most 64 bits.
  bool readLength(std::uint64_t &N) {
    if (Cur != End && static_cast<std::uint8_t>(*Cur) < 0x80) {
      N = static_cast<std::uint8_t>(*Cur++);
      return true;
    }
    const char *P = Cur;
    std::uint64_t Value = 0;
    for (unsigned Shift = 0; Shift < 64; Shift += 7) {
      if (P == End)
        return fail("truncated length");
      auto B = static_cast<std::uint8_t>(*P++);
      // The tenth byte holds bit 63 only.
      if (Shift == 63 && B > 1)
        return fail("length does not fit in 64 bits");
      Value |= static_cast<std::uint64_t>(B & 0x7f) << Shift;
      if (!(B & 0x80)) {
        Cur = P;
        N = Value;
        return true;
      }
    }
    return fail("length does not fit in 64 bits"); // not reached
  }

  /// Reads the element count of a container whose elements take at least
  /// \p MinElementSize bytes each, and fails, before anything is allocated,
  /// when the bytes left cannot hold that many. \p What names the container
  /// in the message.
  bool readCount(std::size_t &N, std::size_t MinElementSize, const char *What) {
    assert(MinElementSize > 0 && "every element must take at least one byte");
    std::size_t At = offset();
    std::uint64_t Count = 0;
    if (!readLength(Count))
      return false;
    if (Count > remaining() / MinElementSize)
      return failAt(At, std::string(What) + " length " + std::to_string(Count) +
                            " exceeds the " + std::to_string(remaining()) +
                            " bytes left");
    N = static_cast<std::size_t>(Count);
    return true;
  }

private:
  bool failTruncated(std::size_t N) {
    return fail("truncated frame: " + std::to_string(N) + " bytes needed, " +
                std::to_string(remaining()) + " left");
  }

  const char *Begin;
  const char *Cur;
  const char *End;
  bool Failed = false;
  std::string Message;
  std::size_t ErrorOffset = 0;
};

/// How to encode and decode a T:
///   static void encode(FrameWriter &W, const T &V);
///   static bool decode(FrameReader &R, T &V);  // false on error, see status
/// and optionally
///   static constexpr std::size_t MinSize;      // least bytes per value (1)
///   static constexpr bool Blittable;           // value == its bytes (false)
/// The primary template is left undefined: a type without a codec is a
/// compile error in the generated code, never a silent fallback.
template <class T, class Enable = void> struct FrameCodec;

namespace detail {
template <class T, class = void>
struct MinSizeOf : std::integral_constant<std::size_t, 1> {};
template <class T>
struct MinSizeOf<T, std::void_t<decltype(FrameCodec<T>::MinSize)>>
    : std::integral_constant<std::size_t, FrameCodec<T>::MinSize> {};

template <class T, class = void> struct IsBlittable : std::false_type {};
template <class T>
struct IsBlittable<T, std::void_t<decltype(FrameCodec<T>::Blittable)>>
    : std::bool_constant<FrameCodec<T>::Blittable> {};

template <class C, class = void> struct HasReserve : std::false_type {};
template <class C>
struct HasReserve<C, std::void_t<decltype(std::declval<C &>().reserve(0))>>
    : std::true_type {};

template <class T> struct IsScalar {
  static constexpr bool value =
      (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) ||
      std::is_enum_v<T>;
};
} // namespace detail

/// The fewest bytes a T is encoded in. Containers divide the bytes left by it
/// to bound a count, so it must not be 0.
template <class T> constexpr std::size_t frameMinSize() {
  constexpr std::size_t N = detail::MinSizeOf<T>::value;
  static_assert(N > 0, "a frame codec must encode each value in at least one "
                       "byte, or a count could not be bounded");
  return N;
}

/// Whether a T's encoding is its object representation, so that an array of
/// them is copied as one block.
template <class T> constexpr bool frameBlittable() {
  return detail::IsBlittable<T>::value;
}

/// Encodes one member of a struct; what generated codecs call per member.
template <class T> void frameMember(FrameWriter &W, const T &V) {
#ifndef NDEBUG
  std::size_t Before = W.size();
#endif
  FrameCodec<T>::encode(W, V);
  // MinSizeOf, not frameMinSize: a member may be encoded in no bytes (a run
  // of pending values); only a container's elements may not.
  assert(W.size() - Before >= detail::MinSizeOf<T>::value &&
         "a frame codec wrote fewer bytes than its MinSize");
}

/// Decodes one member of a struct; false (with the reader's error set) when
/// the bytes are truncated or invalid.
template <class T> bool frameMember(FrameReader &R, T &V) {
  return FrameCodec<T>::decode(R, V);
}

/// Integers, characters, floating point and enums: their bytes as they are.
template <class T>
struct FrameCodec<T, std::enable_if_t<detail::IsScalar<T>::value>> {
  static constexpr bool Blittable = true;
  static constexpr std::size_t MinSize = sizeof(T);
  static void encode(FrameWriter &W, const T &V) { W.writeRaw(V); }
  static bool decode(FrameReader &R, T &V) { return R.readRaw(V); }
};

/// One byte, 0 or 1; anything else is corrupt (and would be undefined
/// behaviour if copied into a bool).
template <> struct FrameCodec<bool> {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, bool V) { W.writeByte(V ? 1 : 0); }
  static bool decode(FrameReader &R, bool &V) {
    std::size_t At = R.offset();
    std::uint8_t B = 0;
    if (!R.readByte(B))
      return false;
    if (B > 1)
      return R.failAt(At, "invalid bool byte " + std::to_string(B));
    V = B == 1;
    return true;
  }
};

/// A struct copied as its bytes. Generated code selects it explicitly:
///   template <> struct FrameCodec<Point> : FrameTrivialCodec<Point> {};
/// Only for structs whose every member is a scalar or such a struct: no
/// bool (a corrupt byte would be an invalid bool), no pointer, and
/// preferably no padding (padding bytes would travel in the frame too).
template <class T> struct FrameTrivialCodec {
  static_assert(std::is_trivially_copyable_v<T>,
                "FrameTrivialCodec needs a trivially copyable type");
  static constexpr bool Blittable = true;
  static constexpr std::size_t MinSize = sizeof(T);
  static void encode(FrameWriter &W, const T &V) { W.writeRaw(V); }
  static bool decode(FrameReader &R, T &V) { return R.readRaw(V); }
};

template <> struct FrameCodec<std::string> {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const std::string &V) {
    W.writeLength(V.size());
    W.write(V.data(), V.size());
  }
  static bool decode(FrameReader &R, std::string &V) {
    std::size_t N = 0;
    const char *P = nullptr;
    if (!R.readCount(N, 1, "string") || !R.take(N, P))
      return false;
    if (N)
      V.assign(P, N);
    else
      V.clear();
    return true;
  }
};

template <class T> bool constructMember(FrameReader &R, T *Storage);
template <class T> void releaseQuietly(T *Obj);

/// Decodes the next element of a container and hands it to \p Put as an
/// rvalue: value-initialized and decoded where T has a default constructor,
/// otherwise rebuilt as a frame rebuilds a local (constructMember) and moved
/// from, which the compiler allows only where T is quiet.
template <class T, class Put> bool decodeElement(FrameReader &R, Put &&P) {
  if constexpr (std::is_default_constructible_v<T>) {
    T Item{};
    if (!FrameCodec<T>::decode(R, Item))
      return false;
    P(std::move(Item));
    return true;
  } else {
    alignas(T) unsigned char Buf[sizeof(T)];
    if (!::cleave::frame::constructMember(R, reinterpret_cast<T *>(Buf)))
      return false;
    T *Item = std::launder(reinterpret_cast<T *>(Buf));
    struct Release {
      T *Item;
      ~Release() { ::cleave::frame::releaseQuietly(Item); }
    } Guard{Item};
    P(std::move(*Item));
    return true;
  }
}

/// Decodes the next element of sequence \p V at its end: in place where T
/// has a default constructor, otherwise as decodeElement does.
template <class C> bool decodeBack(FrameReader &R, C &V) {
  using T = typename C::value_type;
  if constexpr (std::is_default_constructible_v<T>) {
    V.emplace_back();
    return FrameCodec<T>::decode(R, V.back());
  } else {
    return decodeElement<T>(R, [&](T &&E) { V.push_back(std::move(E)); });
  }
}

/// A count, then the elements: one block when they are blittable.
template <class T, class A> struct FrameCodec<std::vector<T, A>> {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const std::vector<T, A> &V) {
    W.writeLength(V.size());
    if constexpr (frameBlittable<T>()) {
      W.write(V.data(), V.size() * sizeof(T));
    } else {
      for (const T &E : V)
        ::cleave::frame::frameMember(W, E);
    }
  }
  static bool decode(FrameReader &R, std::vector<T, A> &V) {
    std::size_t N = 0;
    if (!R.readCount(N, frameMinSize<T>(), "vector"))
      return false;
    if constexpr (frameBlittable<T>()) {
      V.resize(N);
      return R.read(V.data(), N * sizeof(T));
    } else {
      V.clear();
      V.reserve(N);
      for (std::size_t I = 0; I < N; ++I)
        if (!::cleave::frame::decodeBack(R, V))
          return false;
      return true;
    }
  }
};

/// std::vector<bool> has no data(): one validated byte per element.
template <class A> struct FrameCodec<std::vector<bool, A>> {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const std::vector<bool, A> &V) {
    W.writeLength(V.size());
    for (bool B : V)
      W.writeByte(B ? 1 : 0);
  }
  static bool decode(FrameReader &R, std::vector<bool, A> &V) {
    std::size_t N = 0;
    if (!R.readCount(N, 1, "vector"))
      return false;
    V.assign(N, false);
    for (std::size_t I = 0; I < N; ++I) {
      bool B = false;
      if (!FrameCodec<bool>::decode(R, B))
        return false;
      V[I] = B;
    }
    return true;
  }
};

/// Fixed-size arrays: the elements only, as one block when blittable.
template <class T, std::size_t N> struct FrameArrayCodec {
  static_assert(N > 0, "a frame cannot carry an empty array");
  static constexpr bool Blittable = frameBlittable<T>();
  static constexpr std::size_t MinSize = N * frameMinSize<T>();
  static void encode(FrameWriter &W, const T *V) {
    if constexpr (Blittable) {
      W.write(V, N * sizeof(T));
    } else {
      for (std::size_t I = 0; I < N; ++I)
        ::cleave::frame::frameMember(W, V[I]);
    }
  }
  static bool decode(FrameReader &R, T *V) {
    if constexpr (Blittable) {
      return R.read(V, N * sizeof(T));
    } else {
      for (std::size_t I = 0; I < N; ++I)
        if (!FrameCodec<T>::decode(R, V[I]))
          return false;
      return true;
    }
  }
};

template <class T, std::size_t N> struct FrameCodec<std::array<T, N>> {
  using Elements = FrameArrayCodec<T, N>;
  static constexpr bool Blittable =
      Elements::Blittable && sizeof(std::array<T, N>) == N * sizeof(T);
  static constexpr std::size_t MinSize = Elements::MinSize;
  static void encode(FrameWriter &W, const std::array<T, N> &V) {
    Elements::encode(W, V.data());
  }
  static bool decode(FrameReader &R, std::array<T, N> &V) {
    return Elements::decode(R, V.data());
  }
};

template <class T, std::size_t N> struct FrameCodec<T[N]> {
  using Elements = FrameArrayCodec<T, N>;
  static constexpr bool Blittable = Elements::Blittable;
  static constexpr std::size_t MinSize = Elements::MinSize;
  static void encode(FrameWriter &W, const T (&V)[N]) {
    Elements::encode(W, V);
  }
  static bool decode(FrameReader &R, T (&V)[N]) {
    return Elements::decode(R, V);
  }
};

/// std::map and std::unordered_map (any key with a codec): a count, then
/// key and value pairs. A repeated key is corrupt.
template <class M, bool Unique = true> struct FrameMapCodec {
  using K = typename M::key_type;
  using T = typename M::mapped_type;
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const M &V) {
    W.writeLength(V.size());
    for (const auto &KV : V) {
      ::cleave::frame::frameMember(W, KV.first);
      ::cleave::frame::frameMember(W, KV.second);
    }
  }
  static bool decode(FrameReader &R, M &V) {
    std::size_t N = 0;
    if (!R.readCount(N, frameMinSize<K>() + frameMinSize<T>(), "map"))
      return false;
    V.clear();
    if constexpr (detail::HasReserve<M>::value)
      V.reserve(N);
    for (std::size_t I = 0; I < N; ++I) {
      std::size_t At = R.offset();
      std::size_t Before = V.size();
      // The encoder wrote a std::map in order, so the end is the right hint.
      bool Valued = false;
      if (!decodeElement<K>(R, [&](K &&Key) {
            Valued = decodeElement<T>(R, [&](T &&Value) {
              V.emplace_hint(V.end(), std::move(Key), std::move(Value));
            });
          }) ||
          !Valued)
        return false;
      if (Unique && V.size() == Before)
        return R.failAt(At, "duplicate map key");
    }
    return true;
  }
};
template <class K, class T, class C, class A>
struct FrameCodec<std::map<K, T, C, A>> : FrameMapCodec<std::map<K, T, C, A>> {
};
template <class K, class T, class H, class E, class A>
struct FrameCodec<std::unordered_map<K, T, H, E, A>>
    : FrameMapCodec<std::unordered_map<K, T, H, E, A>> {};
/// multimap and unordered_multimap: the same, and keys may repeat.
template <class K, class T, class C, class A>
struct FrameCodec<std::multimap<K, T, C, A>>
    : FrameMapCodec<std::multimap<K, T, C, A>, false> {};
template <class K, class T, class H, class E, class A>
struct FrameCodec<std::unordered_multimap<K, T, H, E, A>>
    : FrameMapCodec<std::unordered_multimap<K, T, H, E, A>, false> {};

namespace detail {
/// Memory for one T, as `new T` would get it (see FrameCodec<unique_ptr>).
template <class T> void *allocateLike() {
  if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
    return ::operator new(sizeof(T), std::align_val_t(alignof(T)));
  else
    return ::operator new(sizeof(T));
}
template <class T> void deallocateLike(void *P) {
  if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
    ::operator delete(P, std::align_val_t(alignof(T)));
  else
    ::operator delete(P);
}
} // namespace detail

/// What an optional and a unique_ptr share: a tag byte, 0 (empty) or 1
/// (then the value); any other tag is corrupt.
template <class P> struct FrameNullableCodec {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const P &V) {
    W.writeByte(V ? 1 : 0);
    if (V)
      ::cleave::frame::frameMember(W, *V);
  }
  /// Reads the tag into \p Present, emptying \p V for 0; false for a bad
  /// tag.
  static bool readTag(FrameReader &R, P &V, const char *What, bool &Present) {
    std::size_t At = R.offset();
    std::uint8_t Tag = 0;
    if (!R.readByte(Tag))
      return false;
    if (Tag > 1)
      return R.failAt(At, std::string("invalid ") + What + " tag " +
                              std::to_string(Tag));
    Present = Tag == 1;
    if (!Present)
      V.reset();
    return true;
  }
};

/// A std::unique_ptr (with the default deleter): a tag byte, 0 (null) or 1
/// (then the object). The object is rebuilt in memory from the allocation
/// function `new T` uses, without a constructor of the program's, so that
/// the unique_ptr deletes it as it would the original (the compiler refuses
/// a class with an allocation function of its own).
template <class T>
struct FrameCodec<std::unique_ptr<T>>
    : FrameNullableCodec<std::unique_ptr<T>> {
  static bool decode(FrameReader &R, std::unique_ptr<T> &V) {
    bool Present = false;
    if (!FrameCodec::readTag(R, V, "unique_ptr", Present) || !Present)
      return R.ok();
    void *Mem = detail::allocateLike<T>();
    if (!::cleave::frame::constructMember(R, static_cast<T *>(Mem))) {
      detail::deallocateLike<T>(Mem);
      return false;
    }
    V.reset(std::launder(static_cast<T *>(Mem)));
    return true;
  }
};

/// A string stream: its text, where it reads and writes, and its format
/// state (flags, precision, width, fill, error state). Its locale is not
/// kept: a stream that is rebuilt has the global one.
template <class S> struct FrameStreamCodec {
  static constexpr std::size_t MinSize = 1;
  static constexpr bool In = std::is_base_of_v<std::istream, S>;
  static constexpr bool Out = std::is_base_of_v<std::ostream, S>;
  static void encode(FrameWriter &W, const S &V) {
    S &M = const_cast<S &>(V);
    ::cleave::frame::frameMember(W, M.str());
    // tellg/tellp are -1 on a failed stream; keep the state apart.
    std::ios_base::iostate State = M.rdstate();
    M.clear();
    long long G = -1, P = -1;
    if constexpr (In)
      G = static_cast<long long>(M.tellg());
    if constexpr (Out)
      P = static_cast<long long>(M.tellp());
    M.clear(State);
    ::cleave::frame::frameMember(W, G);
    ::cleave::frame::frameMember(W, P);
    ::cleave::frame::frameMember(W, static_cast<long long>(M.flags()));
    ::cleave::frame::frameMember(W, static_cast<long long>(M.precision()));
    ::cleave::frame::frameMember(W, static_cast<long long>(M.width()));
    ::cleave::frame::frameMember(W, M.fill());
    ::cleave::frame::frameMember(W, static_cast<int>(State));
  }
  static bool decode(FrameReader &R, S &V) {
    std::string Text;
    long long G = -1, P = -1, Flags = 0, Precision = 0, Width = 0;
    char Fill = ' ';
    int State = 0;
    ::cleave::frame::frameMember(R, Text);
    ::cleave::frame::frameMember(R, G);
    ::cleave::frame::frameMember(R, P);
    ::cleave::frame::frameMember(R, Flags);
    ::cleave::frame::frameMember(R, Precision);
    ::cleave::frame::frameMember(R, Width);
    ::cleave::frame::frameMember(R, Fill);
    ::cleave::frame::frameMember(R, State);
    if (!R.ok())
      return false;
    V.str(std::move(Text));
    V.clear();
    if constexpr (In)
      if (G >= 0)
        V.seekg(G);
    if constexpr (Out)
      if (P >= 0)
        V.seekp(P);
    V.flags(static_cast<std::ios_base::fmtflags>(Flags));
    V.precision(static_cast<std::streamsize>(Precision));
    V.width(static_cast<std::streamsize>(Width));
    V.fill(Fill);
    V.clear(static_cast<std::ios_base::iostate>(State));
    return true;
  }
};
template <> struct FrameCodec<std::ostringstream>
    : FrameStreamCodec<std::ostringstream> {};
template <> struct FrameCodec<std::istringstream>
    : FrameStreamCodec<std::istringstream> {};
template <> struct FrameCodec<std::stringstream>
    : FrameStreamCodec<std::stringstream> {};

/// A tag byte, 0 (empty) or 1 (then the value); any other tag is corrupt.
template <class T>
struct FrameCodec<std::optional<T>> : FrameNullableCodec<std::optional<T>> {
  static bool decode(FrameReader &R, std::optional<T> &V) {
    bool Present = false;
    if (!FrameCodec::readTag(R, V, "optional", Present) || !Present)
      return R.ok();
    if constexpr (std::is_default_constructible_v<T>) {
      if (!V)
        V.emplace();
      return FrameCodec<T>::decode(R, *V);
    } else {
      return decodeElement<T>(R, [&](T &&E) { V.emplace(std::move(E)); });
    }
  }
};

template <class A, class B> struct FrameCodec<std::pair<A, B>> {
  static constexpr std::size_t MinSize = frameMinSize<A>() + frameMinSize<B>();
  static void encode(FrameWriter &W, const std::pair<A, B> &V) {
    ::cleave::frame::frameMember(W, V.first);
    ::cleave::frame::frameMember(W, V.second);
  }
  static bool decode(FrameReader &R, std::pair<A, B> &V) {
    return FrameCodec<A>::decode(R, V.first) &&
           FrameCodec<B>::decode(R, V.second);
  }
};

/// The elements one after another, with nothing around them: a tuple is
/// encoded exactly like its elements passed to encodeFrame one by one.
template <class... Ts> struct FrameCodec<std::tuple<Ts...>> {
  static constexpr std::size_t MinSize =
      (std::size_t(0) + ... + detail::MinSizeOf<Ts>::value);
  static void encode(FrameWriter &W, const std::tuple<Ts...> &V) {
    std::apply([&W](const Ts &...E) { (::cleave::frame::frameMember(W, E), ...); }, V);
  }
  static bool decode(FrameReader &R, std::tuple<Ts...> &V) {
    return std::apply(
        [&R](Ts &...E) {
          return (true && ... && FrameCodec<Ts>::decode(R, E));
        },
        V);
  }
};

/// deque and list: a count, then the elements. (Sets encode the same way.)
template <class C> struct FrameSequenceCodec {
  using T = typename C::value_type;
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const C &V) {
    W.writeLength(V.size());
    for (const T &E : V)
      ::cleave::frame::frameMember(W, E);
  }
  static bool decode(FrameReader &R, C &V) {
    std::size_t N = 0;
    if (!R.readCount(N, frameMinSize<T>(), "sequence"))
      return false;
    V.clear();
    for (std::size_t I = 0; I < N; ++I)
      if (!::cleave::frame::decodeBack(R, V))
        return false;
    return true;
  }
};
template <class T, class A>
struct FrameCodec<std::deque<T, A>> : FrameSequenceCodec<std::deque<T, A>> {};
template <class T, class A>
struct FrameCodec<std::list<T, A>> : FrameSequenceCodec<std::list<T, A>> {};

/// set, multiset, unordered_set, unordered_multiset: a count, then the
/// elements. A repeated element of a set is corrupt.
template <class C, bool Unique>
struct FrameSetCodec : FrameSequenceCodec<C> {
  using T = typename C::value_type;
  static bool decode(FrameReader &R, C &V) {
    std::size_t N = 0;
    if (!R.readCount(N, frameMinSize<T>(), "set"))
      return false;
    V.clear();
    for (std::size_t I = 0; I < N; ++I) {
      std::size_t At = R.offset();
      std::size_t Before = V.size();
      if (!decodeElement<T>(R, [&](T &&E) { V.insert(std::move(E)); }))
        return false;
      if (Unique && V.size() == Before)
        return R.failAt(At, "duplicate set element");
    }
    return true;
  }
};
template <class T, class C, class A>
struct FrameCodec<std::set<T, C, A>>
    : FrameSetCodec<std::set<T, C, A>, true> {};
template <class T, class C, class A>
struct FrameCodec<std::multiset<T, C, A>>
    : FrameSetCodec<std::multiset<T, C, A>, false> {};
template <class T, class H, class E, class A>
struct FrameCodec<std::unordered_set<T, H, E, A>>
    : FrameSetCodec<std::unordered_set<T, H, E, A>, true> {};
template <class T, class H, class E, class A>
struct FrameCodec<std::unordered_multiset<T, H, E, A>>
    : FrameSetCodec<std::unordered_multiset<T, H, E, A>, false> {};

/// std::monostate: one zero byte, so that a count of them stays bounded.
template <> struct FrameCodec<std::monostate> {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, std::monostate) { W.writeByte(0); }
  static bool decode(FrameReader &R, std::monostate &) {
    std::size_t At = R.offset();
    std::uint8_t B = 0;
    if (!R.readByte(B))
      return false;
    return B == 0 || R.failAt(At, "invalid empty value " + std::to_string(B));
  }
};

/// A struct without data members (the compiler selects it): one zero byte,
/// and the object's own byte is never touched, since an empty base may share
/// it with a member of the class that derives from it.
template <class T> struct FrameEmptyCodec {
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const T &) { W.writeByte(0); }
  static bool decode(FrameReader &R, T &) {
    std::monostate M;
    return FrameCodec<std::monostate>::decode(R, M);
  }
};

/// std::variant: the alternative's index as a varint, then its value. An
/// index past the alternatives is corrupt. A valueless variant is written as
/// its index std::variant_npos and refused when read.
template <class... Ts> struct FrameCodec<std::variant<Ts...>> {
  using V_t = std::variant<Ts...>;
  static constexpr std::size_t MinSize = 1;
  static void encode(FrameWriter &W, const V_t &V) {
    W.writeLength(V.index());
    if (!V.valueless_by_exception())
      std::visit([&W](const auto &Alt) { ::cleave::frame::frameMember(W, Alt); }, V);
  }
  template <std::size_t I> static bool decodeAlt(FrameReader &R, V_t &V) {
    if (V.index() != I)
      V.template emplace<I>();
    return FrameCodec<std::variant_alternative_t<I, V_t>>::decode(
        R, std::get<I>(V));
  }
  template <std::size_t... I>
  static bool decodeIndex(std::size_t Index, FrameReader &R, V_t &V,
                          std::index_sequence<I...>) {
    using Fn = bool (*)(FrameReader &, V_t &);
    static constexpr Fn Table[] = {&decodeAlt<I>...};
    return Table[Index](R, V);
  }
  static bool decode(FrameReader &R, V_t &V) {
    std::size_t At = R.offset();
    std::uint64_t Index = 0;
    if (!R.readLength(Index))
      return false;
    if (Index >= sizeof...(Ts))
      return R.failAt(At, "invalid variant index " + std::to_string(Index));
    return decodeIndex(static_cast<std::size_t>(Index), R, V,
                       std::index_sequence_for<Ts...>());
  }
};

/// Appends a frame holding \p Values (header, then each value in order).
template <class... Ts> void encodeFrame(FrameWriter &W, const Ts &...Values) {
  std::size_t HeaderAt = W.size();
  char Header[FrameHeaderSize] = {FrameMagic[0], FrameMagic[1], FrameMagic[2],
                                  static_cast<char>(FrameVersion)};
  W.write(Header, FrameHeaderSize);
  // A braced list, not a fold expression: a frame may hold hundreds of
  // values, past the nesting limit compilers put on folds.
  int InOrder[] = {0, (::cleave::frame::frameMember(W, Values), 0)...};
  (void)InOrder;
  std::uint64_t Payload = W.size() - HeaderAt - FrameHeaderSize;
  W.overwrite(HeaderAt + 4, &Payload, sizeof(Payload));
}

/// Appends a frame holding \p Values to \p Out.
template <class... Ts> void encodeFrame(std::string &Out, const Ts &...Values) {
  FrameWriter W(Out);
  ::cleave::frame::encodeFrame(W, Values...);
}
template <class... Ts>
void encodeFrame(std::vector<char> &Out, const Ts &...Values) {
  FrameWriter W(Out);
  ::cleave::frame::encodeFrame(W, Values...);
}

/// Checks the header of the frame \p R is at: the magic, the version, and
/// that the payload length is exactly the rest of the bytes.
inline bool readFrameHeader(FrameReader &R) {
  std::size_t At = R.offset();
  std::size_t Size = R.remaining();
  const char *H = nullptr;
  if (Size < FrameHeaderSize)
    return R.fail("truncated frame header: " + std::to_string(Size) + " of " +
                  std::to_string(FrameHeaderSize) + " bytes");
  if (!R.take(FrameHeaderSize, H))
    return false;
  if (std::memcmp(H, FrameMagic, sizeof(FrameMagic)) != 0)
    return R.failAt(At, "not a frame: bad magic");
  auto Version = static_cast<std::uint8_t>(H[3]);
  if (Version != FrameVersion)
    return R.failAt(At + 3, "unsupported frame version " +
                                std::to_string(Version) + " (expected " +
                                std::to_string(FrameVersion) + ")");
  std::uint64_t Payload = 0;
  std::memcpy(&Payload, H + 4, sizeof(Payload));
  if (Payload > R.remaining())
    return R.failAt(At + 4, "truncated frame: payload of " +
                                std::to_string(Payload) + " bytes, " +
                                std::to_string(R.remaining()) + " present");
  if (Payload < R.remaining())
    return R.failAt(At + FrameHeaderSize + static_cast<std::size_t>(Payload),
                    std::to_string(R.remaining() - Payload) +
                        " trailing bytes after the frame");
  return true;
}

/// Decodes the frame \p Bytes into \p Values, which must be the types it
/// was encoded from, in the same order. Fails on a bad header, on truncated
/// or invalid bytes, and when bytes are left over after the last value. On
/// failure the values hold whatever was decoded before the error.
template <class... Ts>
FrameStatus decodeFrame(std::string_view Bytes, Ts &...Values) {
  FrameReader R(Bytes);
  if (!readFrameHeader(R))
    return R.status();
  bool Decoded = true;
  int InOrder[] = {0, (Decoded = Decoded && ::cleave::frame::frameMember(R, Values), 0)...};
  (void)InOrder;
  // A codec that returns false must have said why; if it did not, still fail.
  if (!Decoded && R.ok())
    R.fail("invalid value");
  if (R.ok() && !R.atEnd())
    R.fail(std::to_string(R.remaining()) +
           " trailing bytes after the last value");
  return R.status();
}

//===----------------------------------------------------------------------===//
// Building objects from a frame without running their constructors
//===----------------------------------------------------------------------===//
//
// A function resumed in a later step gets its live variables back from the
// frame. In the plain program each of them was constructed once, at its
// declaration, and is destroyed once, at its scope's end; the deployment must
// run the same user-written constructors and destructors the same number of
// times. So an object that travels is *rebuilt* in place from its bytes,
// without calling any constructor the user wrote, and the copy left behind
// ends without its destructor body (constructFrame and releaseQuietly).
//
// A *quiet* type has no user-written constructor, destructor, copy, move or
// assignment (and no default member initializer with side effects) anywhere
// among its subobjects and elements: scalars, std::string, standard
// containers of quiet types, and plain structs of them. Running its special
// members is unobservable, so it is simply value-initialized and decoded.
// A user class with user-written special members is rebuilt one subobject at
// a time: its bases, then its fields, each from its own codec, so its own
// constructor body never runs.

/// What the compiler tells the runtime about a user class it generated codecs
/// for. Every specialization is generated:
/// \code
///   template <> struct FrameRecord<::Account> {
///     static constexpr bool Quiet = false;         // see above
///     static constexpr bool Resurrectable = true;  // bases, fields are
///     static constexpr std::size_t Subobjects = 2; // bases + fields
///     // Builds the bases and fields of *P in place, in order; on failure
///     // releases what it built and returns false.
///     static bool construct(FrameReader &R, ::Account *P);
///     // Quietly ends the first N subobjects of *P, last first.
///     static void releaseFirst(::Account *P, std::size_t N);
///   };
/// \endcode
template <class T> struct FrameRecord;

/// Whether the status of a failed decode is bad; the name the lowering uses.
using Status = FrameStatus;

namespace detail {
template <class T> struct IsUniquePtr : std::false_type {};
template <class T>
struct IsUniquePtr<std::unique_ptr<T>> : std::true_type {};
template <class T, class = void> struct HasFrameRecord : std::false_type {};
template <class T>
struct HasFrameRecord<T, std::void_t<decltype(FrameRecord<T>::Quiet)>>
    : std::true_type {};
} // namespace detail

/// Whether running T's special members is unobservable, so that a T may be
/// value-initialized and then decoded (see above). False for any type the
/// runtime does not know: references, pointers, classes without a generated
/// FrameRecord.
template <class T, class = void> struct IsQuiet : std::false_type {};
template <class... Ts>
struct IsQuietAll : std::bool_constant<(true && ... && IsQuiet<Ts>::value)> {};

template <class T>
struct IsQuiet<T, std::enable_if_t<std::is_arithmetic_v<T> ||
                                   std::is_enum_v<T>>> : std::true_type {};
template <> struct IsQuiet<std::string> : std::true_type {};
template <> struct IsQuiet<std::monostate> : std::true_type {};
template <> struct IsQuiet<std::ostringstream> : std::true_type {};
template <> struct IsQuiet<std::istringstream> : std::true_type {};
template <> struct IsQuiet<std::stringstream> : std::true_type {};
/// A unique_ptr runs its object's destructor: quiet when the object is.
template <class T>
struct IsQuiet<std::unique_ptr<T>> : IsQuietAll<T> {};
template <class T>
struct IsQuiet<T, std::enable_if_t<detail::HasFrameRecord<T>::value>>
    : std::bool_constant<FrameRecord<T>::Quiet> {};
template <class T, class A>
struct IsQuiet<std::vector<T, A>> : IsQuietAll<T> {};
template <class T, class A> struct IsQuiet<std::deque<T, A>> : IsQuietAll<T> {};
template <class T, class A> struct IsQuiet<std::list<T, A>> : IsQuietAll<T> {};
template <class T, std::size_t N>
struct IsQuiet<std::array<T, N>> : IsQuietAll<T> {};
template <class T, class C, class A>
struct IsQuiet<std::set<T, C, A>> : IsQuietAll<T> {};
template <class T, class C, class A>
struct IsQuiet<std::multiset<T, C, A>> : IsQuietAll<T> {};
template <class T, class H, class E, class A>
struct IsQuiet<std::unordered_set<T, H, E, A>> : IsQuietAll<T> {};
template <class T, class H, class E, class A>
struct IsQuiet<std::unordered_multiset<T, H, E, A>> : IsQuietAll<T> {};
template <class K, class T, class C, class A>
struct IsQuiet<std::map<K, T, C, A>> : IsQuietAll<K, T> {};
template <class K, class T, class C, class A>
struct IsQuiet<std::multimap<K, T, C, A>> : IsQuietAll<K, T> {};
template <class K, class T, class H, class E, class A>
struct IsQuiet<std::unordered_map<K, T, H, E, A>> : IsQuietAll<K, T> {};
template <class K, class T, class H, class E, class A>
struct IsQuiet<std::unordered_multimap<K, T, H, E, A>> : IsQuietAll<K, T> {};
template <class T> struct IsQuiet<std::optional<T>> : IsQuietAll<T> {};
template <class A, class B>
struct IsQuiet<std::pair<A, B>> : IsQuietAll<A, B> {};
template <class... Ts>
struct IsQuiet<std::tuple<Ts...>> : IsQuietAll<Ts...> {};
template <class... Ts>
struct IsQuiet<std::variant<Ts...>> : IsQuietAll<Ts...> {};

/// Whether constructFrame<T> and releaseQuietly<T> apply: a quiet type, or a
/// user class with user-written special members whose bases and fields are
/// themselves quiet or such classes. False for standard containers of types
/// with user-written special members (the container would run them),
/// polymorphic classes and references.
template <class T, class = void>
struct IsResurrectable : std::bool_constant<IsQuiet<T>::value> {};
template <class T>
struct IsResurrectable<T, std::enable_if_t<detail::HasFrameRecord<T>::value>>
    : std::bool_constant<FrameRecord<T>::Resurrectable &&
                         !std::is_polymorphic_v<T>> {};
/// Its object is rebuilt by constructMember, and ended by releaseQuietly.
template <class T>
struct IsResurrectable<std::unique_ptr<T>> : IsResurrectable<T> {};

/// Ends the lifetime of \p Obj without running T's user-written destructor
/// body: for a quiet type it is `Obj->~T()`; for a class with user-written
/// special members it destroys the fields, last first, then the bases, each
/// of them quietly in turn. The inverse of constructFrame.
template <class T> void releaseQuietly(T *Obj) {
  static_assert(IsResurrectable<T>::value,
                "releaseQuietly needs a quiet type or a class whose "
                "subobjects are (see frame::IsResurrectable)");
  if constexpr (IsQuiet<T>::value) {
    Obj->~T();
  } else if constexpr (detail::IsUniquePtr<T>::value) {
    using E = typename T::element_type;
    if (E *P = Obj->release()) {
      ::cleave::frame::releaseQuietly(P);
      detail::deallocateLike<E>(P);
    }
    Obj->~T();
  } else {
    FrameRecord<T>::releaseFirst(Obj, FrameRecord<T>::Subobjects);
  }
}

/// Builds a T in place at \p Storage (not yet an object) from \p R, as
/// constructFrame does, and returns whether it succeeded; on failure nothing
/// is left constructed and the reader holds the error. What generated
/// FrameRecord code calls per subobject, with T deduced from the address.
template <class T> bool constructMember(FrameReader &R, T *Storage) {
  if (!R.ok())
    return false;
  // A unique_ptr starts null; its decoder rebuilds the object.
  if constexpr ((IsQuiet<T>::value || detail::IsUniquePtr<T>::value) &&
                std::is_default_constructible_v<T>) {
    T *Obj = ::new (static_cast<void *>(Storage)) T();
    if (FrameCodec<T>::decode(R, *Obj))
      return true;
    Obj->~T();
    // A codec that returns false must have said why; if it did not, still
    // fail.
    if (R.ok())
      R.fail("invalid value");
    return false;
  } else {
    if (FrameRecord<T>::construct(R, Storage))
      return true;
    if (R.ok())
      R.fail("invalid value");
    return false;
  }
}

/// Builds a T in the uninitialized, suitably aligned \p Storage from the
/// next value in \p R (as FrameCodec<T> wrote it) without running any
/// user-written constructor of T: a quiet type is value-initialized and then
/// decoded; a class with user-written special members (or, quiet, without a
/// default constructor) gets its bases and
/// fields constructed one by one in place, each from its own codec, so T's
/// constructor body never runs. On failure nothing is left constructed and
/// the status says why. End the object with releaseQuietly (or, when the
/// program's own scope ends it, with its destructor).
template <class T> Status constructFrame(FrameReader &R, void *Storage) {
  static_assert(IsResurrectable<T>::value,
                "constructFrame needs a quiet type or a class whose "
                "subobjects are (see frame::IsResurrectable)");
  ::cleave::frame::constructMember(R, static_cast<T *>(Storage));
  return R.status();
}

} // namespace frame
} // namespace cleave

#endif // CLEAVE_FRAME_H
