//===- resume.h - Structured resume for functions cut into steps -*- C++ -*-===//
//
// What a generated state machine needs to re-enter the user's own code at a
// resume point (docs/splitting.md, "How a step resumes"). The machine is a
// copy of the function body, not a rearrangement of it: declarations stay
// where the user wrote them, and a resumed step walks down the same nesting
// (the branch, the loop iteration, the range-for position) to the call it
// resumes after, skipping the statements before it on that path.
//
//   - Resume holds the step's target and the continuation frame. While it
//     is *skipping*, the machine is on its way to the target; reaching the
//     call it resumes after (stop()) ends the skipping.
//   - Local<T> is the storage of a local that lives across a boundary. On
//     the way to a resume point it is restored from the frame at its own
//     declaration (or left absent where nothing after the resume point uses
//     it); otherwise it is constructed by the user's initializer. Its
//     destructor runs at the end of its scope, in whichever step gets there.
//     When a step stops at a boundary, a carried object has travelled in the
//     frame: it is released quietly, without the user's destructor body.
//   - Cursor<R> walks a range-for's range by a position that survives the
//     frame: an index, a key, or the keys still to visit.
//   - An exception the callee let escape is thrown again where its call
//     was; a step resuming in a handler throws the exception the handler
//     held again at the start of its try block (thrown.h).
//
// Included by generated code only (through handler.h), C++17.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_RESUME_H
#define CLEAVE_RESUME_H

#include "cleave/frame.h"
#include "cleave/thrown.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cleave {
namespace rt {

class Step;

/// A continuation frame that cannot be restored where the machine needs it.
/// Turned into a 500 by Step::run.
class ResumeError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Builds a T in \p Storage from \p R without running a user-written
/// constructor of T (frame::constructFrame). The compiler carries only types
/// for which that is possible; any other type is never restored.
template <class T> bool constructFromFrame(frame::FrameReader &R, void *Storage) {
  if constexpr (frame::IsResurrectable<T>::value) {
    return static_cast<bool>(frame::constructFrame<T>(R, Storage));
  } else {
    (void)Storage;
    R.fail("a value of this type does not travel in frames");
    return false;
  }
}

/// Ends \p Obj's lifetime without the user's destructor body: the object
/// went into a frame and lives on in the step that restores it. A type that
/// never travels ends as usual.
template <class T> void releaseQuietly(T *Obj) {
  if constexpr (frame::IsResurrectable<T>::value)
    frame::releaseQuietly(Obj);
  else
    Obj->~T();
}

} // namespace detail

/// Splits a list of frames (a little-endian uint32 length, then the bytes,
/// per element; see appendListElement in handler.h); false when it is
/// malformed.
inline bool splitList(const char *Data, size_t Len,
                      std::vector<std::string_view> &Out) {
  size_t At = 0;
  while (At < Len) {
    if (Len - At < 4)
      return false;
    const auto *P = reinterpret_cast<const unsigned char *>(Data + At);
    size_t N = P[0] | (P[1] << 8) | (P[2] << 16) |
               (static_cast<size_t>(P[3]) << 24);
    At += 4;
    if (N > Len - At)
      return false;
    Out.emplace_back(Data + At, N);
    At += N;
  }
  return true;
}

/// Resume points, in the lists that say where a frame carries a value: one
/// point, or the range {Lo, Hi} of consecutive ones (a value that crosses
/// the many stops of one statement).
struct Points {
  constexpr Points(std::uint32_t K) : Lo(K), Hi(K) {}
  constexpr Points(std::uint32_t Lo, std::uint32_t Hi) : Lo(Lo), Hi(Hi) {}
  std::uint32_t Lo, Hi;
};

class Resume;

/// The values of the calls of resume points Lo..Hi, for a continuation
/// frame: saved one after another, as pending<R>(K) for each K would be.
struct PendingRun {
  Resume *R;
  std::uint32_t Lo, Hi;
};

/// Where one run of a state machine is going, and the frame it resumes from.
class Resume {
public:
  /// \p Layouts[k] is the layout fingerprint of resume point k (index 0 is
  /// unused); \p Points is the number of resume points. \p Thrown: \p Input
  /// is the exception the callee let escape, not its value.
  Resume(std::uint32_t Target, std::string_view Frame, std::string_view Input,
         bool Thrown, const std::uint32_t *Layouts, std::uint32_t Points)
      : Target(Target), Skipping(Target != 0), Thrown(Thrown), Input(Input),
        Reader(Frame.data(), Frame.size()) {
    if (Target > Points) {
      Error = "it has no step " + std::to_string(Target);
      return;
    }
    if (!frame::readFrameHeader(Reader)) {
      Error = (Target ? "bad continuation frame: " : "bad arguments frame: ") +
              Reader.status().str();
      return;
    }
    if (Target == 0)
      return;
    std::uint32_t Saved = 0;
    if (!frame::frameMember(Reader, Saved)) {
      Error = "bad continuation frame: " + Reader.status().str();
      return;
    }
    if (Saved != Layouts[Target]) {
      char Buf[96];
      std::snprintf(Buf, sizeof(Buf),
                    "it was saved by another build of the function (layout "
                    "%08x, this build has %08x)",
                    static_cast<unsigned>(Saved),
                    static_cast<unsigned>(Layouts[Target]));
      Error = Buf;
    }
  }
  Resume(const Resume &) = delete;
  Resume &operator=(const Resume &) = delete;
  ~Resume() {
    for (Box &B : Pending)
      B.Destroy(B.Obj);
  }

  /// The step \p S runs: its resume point, frames and input. \p S hears of
  /// a failure to resume even where a handler of the user's took the
  /// ResumeError (defined in handler.h).
  Resume(Step &S, const std::uint32_t *Layouts, std::uint32_t Points);

  /// Empty when the frame can be resumed from; otherwise why not.
  const std::string &error() const { return Error; }
  /// Ends the step with a ResumeError that nothing may hide: the step
  /// (which outlives this object) hears why, whatever the code around does
  /// with the error.
  [[noreturn]] void fail(const std::string &Why) {
    Suspending = true;
    noteFailure(Why);
    throw ResumeError(Why);
  }
  /// Fails the step without throwing (from a destructor).
  void noteFailure(const std::string &Why) {
    if (Failure && Failure->empty())
      *Failure = Why;
  }
  std::uint32_t target() const { return Target; }

  /// On the way to the resume point: statements before it are skipped.
  bool skipping() const { return Skipping; }
  /// Whether the resume point lies in [Lo, Hi], the resume points of one
  /// statement.
  bool in(std::uint32_t Lo, std::uint32_t Hi) const {
    return Target >= Lo && Target <= Hi;
  }
  /// Whether the resume point is one of \p At: the points whose frame
  /// carries a given value.
  bool carries(std::initializer_list<Points> At) const {
    for (const Points &P : At)
      if (Target >= P.Lo && Target <= P.Hi)
        return true;
    return false;
  }
  /// The step is ending at a boundary (or failing while it restores):
  /// carried locals are released quietly.
  bool suspending() const { return Suspending; }
  void suspend() { Suspending = true; }

  /// Reads the next value of the continuation frame into \p Storage.
  template <class T> void restoreInto(void *Storage) {
    if (!detail::constructFromFrame<T>(Reader, Storage))
      failFrame();
  }
  /// Builds in \p Storage the final value of in-out parameter \p Index of
  /// the callee the step resumes after: the variable the call passed there.
  template <class T> void restoreOut(std::uint32_t Index, void *Storage) {
    if (!OutsSplit) {
      OutsSplit = true;
      if (!splitList(OutsList.data(), OutsList.size(), OutParts))
        fail("bad in-out parameter list");
    }
    if (Index >= OutParts.size())
      fail("the callee gave back no in-out parameter " + std::to_string(Index));
    frame::FrameReader Out(OutParts[Index].data(), OutParts[Index].size());
    if (!frame::readFrameHeader(Out) || !detail::constructFromFrame<T>(Out, Storage))
      fail("bad in-out parameter " + std::to_string(Index) + ": " +
           Out.status().str());
    if (!Out.atEnd())
      fail("bad in-out parameter " + std::to_string(Index) +
           ": bytes left over");
  }

  /// Whether this step has just arrived at resume point \p K.
  bool arrivedAt(std::uint32_t K) const { return Arrived && K == Target; }
  /// Gives \p Place, which the call passed to in-out parameter \p Index,
  /// the callee's final value: rebuilt in place from the frame, without
  /// running an assignment or constructor of the program's (the bytes are
  /// checked first, so that a bad frame does not leave it destroyed).
  template <class T> void giveBack(std::uint32_t Index, T &Place) {
    using Object = std::remove_cv_t<T>;
    alignas(Object) unsigned char Probe[sizeof(Object)];
    restoreOut<Object>(Index, Probe);
    detail::releaseQuietly(std::launder(reinterpret_cast<Object *>(Probe)));
    detail::releaseQuietly(const_cast<Object *>(&Place));
    restoreOut<Object>(Index, const_cast<Object *>(&Place));
  }
  /// After giveBack: the callee's exception, thrown where the call was.
  void settle() {
    if (PendingThrow) {
      PendingThrow = false;
      throwAgain(PendingText);
    }
  }

  /// Reads the next value of the frame into \p V, which exists.
  template <class T> void readInto(T &V) {
    if (!frame::frameMember(Reader, V))
      failFrame();
  }
  /// Reads the next value of the continuation frame.
  template <class T> T read() {
    T V{};
    if (!frame::frameMember(Reader, V))
      failFrame();
    return V;
  }

  /// The call of resume point \p K, when the machine reaches it: true when
  /// running (the step stops there: the machine evaluates the arguments,
  /// saves the frame and returns); false on the way to a later resume point
  /// (the call's value, if the frame carries it, is restored) or at the
  /// resume point itself (the callee's value is decoded, and skipping ends).
  /// \p GiveBack: the call passed places (an element, a member) to
  /// in-out parameters; at the resume point the callee's exception waits
  /// until they have their values back (giveBack, then settle).
  template <class R>
  bool stop(std::uint32_t K, std::initializer_list<Points> CarriedAt,
            bool GiveBack = false) {
    if (!Skipping)
      return true;
    if (K == Target) {
      DeferThrow = GiveBack;
      arrive<R>(K);
      Arrived = true;
      return false;
    }
    if constexpr (!std::is_void_v<R>)
      if (carries(CarriedAt))
        restorePending<R>(K);
    return false;
  }
  /// The same for a cleave::parallel_map whose elements return \p E.
  template <class E>
  bool stopJoin(std::uint32_t K, std::initializer_list<Points> CarriedAt) {
    if (!Skipping)
      return true;
    if (K == Target) {
      arriveJoin<E>(K);
      return false;
    }
    if constexpr (!std::is_void_v<E>)
      if (carries(CarriedAt))
        restorePending<std::vector<E>>(K);
    return false;
  }

  /// The value of the call of resume point \p K, which the statement uses
  /// once, where the call was written.
  template <class R> R value(std::uint32_t K) {
    if constexpr (std::is_void_v<R>) {
      return;
    } else {
      return std::move(pending<R>(K));
    }
  }
  /// The decision \p Id of an operator that runs an operand only sometimes
  /// (?:, &&, ||), taken before a stop in that operand and read by the
  /// operator when its statement runs with the callee's value.
  void decide(std::uint32_t Id, bool Taken) {
    if (Id >= Decided.size())
      Decided.resize(Id + 1, false);
    Decided[Id] = Taken;
  }
  bool decided(std::uint32_t Id) const {
    return Id < Decided.size() && Decided[Id];
  }
  /// A decision taken before an earlier stop of the statement travels in
  /// the frame: keep() reads it on the way to a resume point in \p At, and
  /// kept() gives it back (or \p Otherwise when none was read).
  void keep(std::uint32_t Id, std::initializer_list<Points> At) {
    if (Skipping && carries(At))
      Kept.push_back({Id, read<bool>()});
  }
  bool kept(std::uint32_t Id, bool Otherwise) const {
    for (const auto &[K, V] : Kept)
      if (K == Id)
        return V;
    return Otherwise;
  }
  /// The value of the call of \p K in an operand that runs only sometimes:
  /// a frame saves whether it ran (pendingIf), and keepValue() restores it,
  /// on the way to a resume point in \p At, where it did.
  template <class R>
  void keepValue(std::uint32_t K, std::initializer_list<Points> At) {
    if (!Skipping || !carries(At))
      return;
    std::optional<R> V;
    if (!frame::frameMember(Reader, V))
      failFrame();
    if (V)
      box<R>(K) = std::move(*V);
  }
  template <class R> std::optional<R> pendingIf(std::uint32_t K) const {
    for (const Box &B : Pending)
      if (B.Point == K)
        return *static_cast<const R *>(B.Obj);
    return std::nullopt;
  }

  /// The value of the call of \p K, as a continuation frame saves it.
  template <class R> R &pending(std::uint32_t K) {
    for (Box &B : Pending)
      if (B.Point == K)
        return *static_cast<R *>(B.Obj);
    fail("no value for the call of resume point " + std::to_string(K));
  }

  /// The values of the calls of resume points \p Lo to \p Hi, which a
  /// continuation frame saves in that order.
  PendingRun pendingRun(std::uint32_t Lo, std::uint32_t Hi) {
    return {this, Lo, Hi};
  }
  /// Writes the values of pendingRun(\p Lo, \p Hi) to \p W.
  void savePending(frame::FrameWriter &W, std::uint32_t Lo, std::uint32_t Hi) {
    for (std::uint32_t K = Lo; K <= Hi && K >= Lo; ++K) {
      const Box *Found = nullptr;
      for (const Box &B : Pending)
        if (B.Point == K) {
          Found = &B;
          break;
        }
      if (!Found)
        fail("no value for the call of resume point " + std::to_string(K));
      Found->Save(W, Found->Obj);
    }
  }

  /// The start of a handler around a boundary (\p Id numbers it in the
  /// function): the exception it holds, for a frame to carry.
  void enterHandler(std::uint32_t Id) { Handled[Id] = std::current_exception(); }
  ThrownText handled(std::uint32_t Id) {
    auto It = Handled.find(Id);
    if (It == Handled.end() || !It->second)
      fail("internal error: no exception for handler " + std::to_string(Id));
    return describeException(It->second);
  }
  /// The start of a try block whose handler holds the resume point: the
  /// exception the handler held, from the frame, thrown again, so that the
  /// handler takes it as it took the original.
  void throwHandled() {
    ThrownText T;
    if (!frame::frameMember(Reader, T))
      failFrame();
    throwAgain(T);
  }
  /// Throws \p T again, or fails the step where it cannot cross
  /// (thrown.h, uncarried): no handler of the program may take it then.
  [[noreturn]] void throwAgain(const ThrownText &T) {
    std::string Why = uncarried(T);
    if (!Why.empty())
      fail(Why);
    throwDescribed(T);
  }

private:
  struct Box {
    std::uint32_t Point;
    void *Obj;
    void (*Destroy)(void *);
    void (*Save)(frame::FrameWriter &, const void *);
  };

  [[noreturn]] void failFrame() {
    fail("cannot resume at step " + std::to_string(Target) +
         ": bad continuation frame: " + Reader.status().str());
  }

  template <class R> R &box(std::uint32_t K) {
    Pending.push_back({K, new R(), [](void *P) { delete static_cast<R *>(P); },
                       [](frame::FrameWriter &W, const void *P) {
                         frame::frameMember(W, *static_cast<const R *>(P));
                       }});
    return *static_cast<R *>(Pending.back().Obj);
  }
  template <class R> void restorePending(std::uint32_t K) {
    if (!frame::frameMember(Reader, box<R>(K)))
      failFrame();
  }
  /// Reaching the resume point: every carried value was read, and the
  /// callee's value takes the call's place.
  void finishFrame() {
    Skipping = false;
    if (!Reader.atEnd())
      fail("cannot resume at step " + std::to_string(Target) + ": " +
           std::to_string(Reader.remaining()) +
           " bytes of the continuation frame were not used");
    if (Thrown) {
      // The callee's exception, where its call was (after the places the
      // call passed have their values back: settle).
      std::string Message;
      ThrownText T;
      if (!frame::decodeFrame(Input, Message, T.first, T.second))
        fail("bad exception frame");
      if (!DeferThrow)
        throwAgain(T);
      PendingThrow = true;
      PendingText = std::move(T);
    }
  }
  template <class R> void arrive(std::uint32_t K) {
    finishFrame();
    if (PendingThrow)
      return;
    if constexpr (!std::is_void_v<R>) {
      R &V = box<R>(K);
      frame::FrameStatus St = frame::decodeFrame(Input, V);
      if (!St)
        fail("bad value frame: " + St.str());
    }
  }
  template <class E> void arriveJoin(std::uint32_t K);

  std::uint32_t Target;
  bool Skipping;
  bool Thrown;
  bool Suspending = false;
  std::string_view Input;
  frame::FrameReader Reader;
  std::string Error;
  std::string *Failure = nullptr; ///< the step's record of a failure
  std::map<std::uint32_t, std::exception_ptr> Handled;
  std::string_view OutsList;
  bool OutsSplit = false;
  bool Arrived = false;
  bool DeferThrow = false;
  bool PendingThrow = false;
  ThrownText PendingText;
  std::vector<std::string_view> OutParts;
  std::vector<Box> Pending;
  std::vector<bool> Decided;
  std::vector<std::pair<std::uint32_t, bool>> Kept;
};

template <class E> void Resume::arriveJoin(std::uint32_t K) {
  finishFrame();
  if constexpr (!std::is_void_v<E>) {
    std::vector<std::string_view> Parts;
    if (!splitList(Input.data(), Input.size(), Parts))
      fail("bad fan-out result list");
    std::vector<E> &Out = box<std::vector<E>>(K);
    Out.resize(Parts.size());
    for (size_t I = 0; I < Parts.size(); ++I) {
      frame::FrameStatus St = frame::decodeFrame(Parts[I], Out[I]);
      if (!St)
        fail("bad value frame of element " + std::to_string(I) + ": " +
             St.str());
    }
  }
}

/// Where a variable comes back from the callee: at resume point Point, the
/// call passed it to the callee's in-out parameter Index.
struct OutAt {
  std::uint32_t Point;
  std::uint32_t Index;
};

/// The storage of a local (or parameter) that lives across a boundary. The
/// user's name is bound to the object, wherever it came from.
template <class T> class Local {
  using Object = std::remove_cv_t<T>;

public:
  /// \p Borrowed: a parameter the function takes by reference. In the plain
  /// program it names the caller's object, which this function does not
  /// destroy: the copy here ends without the user's destructor body.
  explicit Local(Resume &R, bool Borrowed = false) : R(R), Borrowed(Borrowed) {}
  Local(const Local &) = delete;
  Local &operator=(const Local &) = delete;
  ~Local() {
    if (!Live)
      return;
    if (R.suspending() || Borrowed)
      detail::releaseQuietly(const_cast<Object *>(ptr()));
    else
      ptr()->~T();
  }

  /// Where the user's initializer constructs the object.
  void *raw() { return Buf; }
  /// The object the user's initializer constructed in raw().
  T &make(T *Made) {
    Live = true;
    return *Made;
  }
  /// On the way to a resume point: the object from the frame where the
  /// frame carries it (one of \p At), otherwise absent: nothing after the
  /// resume point uses it.
  /// Where the rest of the function only writes it before reading it (one
  /// of \p Fresh), it starts afresh: value-initialized, which the compiler
  /// allows only for types whose constructors have no effects.
  /// Where the call of the resume point passed it to an in-out parameter
  /// (one of \p Outs), it comes back from the callee, as the callee left it.
  T &resume(std::initializer_list<Points> At,
            std::initializer_list<Points> Fresh,
            std::initializer_list<OutAt> Outs = {}) {
    for (const OutAt &O : Outs)
      if (R.skipping() && O.Point == R.target()) {
        R.restoreOut<Object>(O.Index, Buf);
        Live = true;
        return *ptr();
      }
    if (R.carries(At)) {
      R.restoreInto<Object>(Buf);
      Live = true;
    } else if (R.carries(Fresh)) {
      if constexpr (std::is_default_constructible_v<Object>) {
        ::new (static_cast<void *>(Buf)) Object();
        Live = true;
      }
    }
    return *ptr();
  }
  /// A parameter: from the arguments frame at step 0, otherwise as resume().
  /// At step 0 the caller makes it: constructed, where the type allows,
  /// with the state loaded (a constructor may read or write state), then
  /// filled from the frame, as a one-step entry fills it from JSON.
  T &param(std::initializer_list<Points> At,
           std::initializer_list<Points> Fresh,
           std::initializer_list<OutAt> Outs = {}) {
    if (R.target() == 0) {
      if constexpr (std::is_default_constructible_v<Object>) {
        ::new (static_cast<void *>(Buf)) Object();
        Live = true;
        R.readInto(*ptr());
      } else {
        R.restoreInto<Object>(Buf);
        Live = true;
      }
      return *ptr();
    }
    return resume(At, Fresh, Outs);
  }
  /// A parameter of a function that is not an entry: at step 0 the caller's
  /// step made the argument, so it is rebuilt from the frame without a
  /// constructor of the program's (where the type allows), as in the plain
  /// program the caller's argument is the parameter; otherwise as resume().
  T &argument(std::initializer_list<Points> At,
              std::initializer_list<Points> Fresh,
              std::initializer_list<OutAt> Outs = {}) {
    if constexpr (frame::IsResurrectable<Object>::value) {
      if (R.target() == 0) {
        R.restoreInto<Object>(Buf);
        Live = true;
        return *ptr();
      }
    }
    return param(At, Fresh, Outs);
  }
  /// The object, for the continuation frame. A frame never carries an
  /// object the step does not have; were the compiler to get that wrong,
  /// the step fails (500) instead of saving whatever the storage holds.
  const Object &get() const {
    if (!Live)
      R.fail("internal error: a value of the continuation frame was not "
             "restored in this step");
    return *ptr();
  }

private:
  T *ptr() const {
    return std::launder(reinterpret_cast<T *>(const_cast<unsigned char *>(Buf)));
  }

  Resume &R;
  alignas(Object) unsigned char Buf[sizeof(Object)];
  bool Live = false;
  bool Borrowed = false;
};

/// At the end of a function with in-out parameters (a return, or an
/// exception leaving it; not a stop at a boundary), after its locals are
/// destroyed: hands the parameters' final values to the step, for the
/// caller, which restores the variables it passed from them (copy-in,
/// copy-out: docs/splitting.md, "In-out parameters").
template <class Fn> class OutParams {
public:
  OutParams(Resume &R, Fn Keep) : R(R), Keep(std::move(Keep)) {}
  OutParams(const OutParams &) = delete;
  OutParams &operator=(const OutParams &) = delete;
  ~OutParams() {
    if (R.suspending())
      return;
    try {
      Keep();
    } catch (const std::exception &E) {
      R.noteFailure(std::string("cannot save the in-out parameters: ") +
                    E.what());
    } catch (...) {
      R.noteFailure("cannot save the in-out parameters");
    }
  }

private:
  Resume &R;
  Fn Keep;
};

/// A reference that nothing after the resume point uses, bound on the way
/// to it: it must name something, and is never read.
template <class T> T &absent() {
  alignas(std::max_align_t) static thread_local unsigned char
      Nothing[sizeof(std::remove_reference_t<T>) + 1];
  return *std::launder(reinterpret_cast<std::remove_reference_t<T> *>(Nothing));
}

namespace detail {

template <class C, class = void> struct HasHasher : std::false_type {};
template <class C>
struct HasHasher<C, std::void_t<typename C::hasher>> : std::true_type {};
template <class C, class = void> struct HasKeyCompare : std::false_type {};
template <class C>
struct HasKeyCompare<C, std::void_t<typename C::key_compare>> : std::true_type {
};
template <class C, class = void> struct HasMapped : std::false_type {};
template <class C>
struct HasMapped<C, std::void_t<typename C::mapped_type>> : std::true_type {};

/// Whether equal keys may repeat: std::multimap and std::multiset insert
/// always, which their insert's return type tells.
template <class C, class = void> struct IsMulti : std::false_type {};
template <class C>
struct IsMulti<C, std::enable_if_t<std::is_same_v<
                      decltype(std::declval<C &>().insert(
                          std::declval<const typename C::value_type &>())),
                      typename C::iterator>>> : std::true_type {};

enum class Walk { Index, Key, MultiKey, Keys };

template <class C> constexpr Walk walkOf() {
  using It = decltype(std::begin(std::declval<C &>()));
  if constexpr (HasKeyCompare<C>::value)
    return IsMulti<C>::value ? Walk::MultiKey : Walk::Key;
  else if constexpr (HasHasher<C>::value)
    return Walk::Keys;
  else {
    (void)sizeof(It);
    return Walk::Index;
  }
}

template <class C, class Elem> const auto &keyOf(const Elem &E) {
  if constexpr (HasMapped<C>::value)
    return E.first;
  else
    return E;
}

} // namespace detail

/// Walks the range of a range-for around a boundary. Its position travels
/// in the continuation frame:
///   - sequences (std::vector, std::deque, std::list, std::array,
///     std::string, arrays, user ranges): the index of the element;
///   - std::map and std::set: the element's key; std::multimap and
///     std::multiset: the key and the element's rank among equal keys;
///   - std::unordered_map and std::unordered_set: the keys still to visit,
///     in the order the loop was visiting them, because a container rebuilt
///     from a frame need not iterate in the same order.
template <class Range> class Cursor {
  using C = std::remove_reference_t<Range>;
  using Iter = decltype(std::begin(std::declval<C &>()));
  using Plain = std::remove_cv_t<C>;
  static constexpr detail::Walk How = detail::walkOf<Plain>();

  template <class P, class = void> struct KeyType {
    using type = std::size_t;
  };
  template <class P> struct KeyType<P, std::void_t<typename P::key_type>> {
    using type = typename P::key_type;
  };
  using Key = typename KeyType<Plain>::type;

public:
  using Position = std::conditional_t<
      How == detail::Walk::Index, std::size_t,
      std::conditional_t<How == detail::Walk::Key, Key,
                         std::conditional_t<How == detail::Walk::MultiKey,
                                            std::pair<Key, std::size_t>,
                                            std::vector<Key>>>>;

  static_assert(!(How == detail::Walk::Keys && detail::IsMulti<Plain>::value),
                "a range-for around a boundary cannot walk an unordered "
                "container with repeated keys");

  /// Starts at the beginning, or, on the way to a resume point in
  /// [Lo, Hi] inside the loop, where the frame says the loop was.
  Cursor(C &Rng, Resume &R, std::uint32_t Lo, std::uint32_t Hi)
      : Rng(Rng), Cur(std::begin(Rng)), End(std::end(Rng)) {
    if (R.skipping() && R.in(Lo, Hi))
      seek(R.read<Position>());
  }

  bool more() {
    if constexpr (How == detail::Walk::Keys) {
      if (ByKeys) {
        for (; KeyAt < Keys.size(); ++KeyAt) {
          Cur = Rng.find(Keys[KeyAt]);
          if (Cur != End)
            return true;
        }
        return false;
      }
    }
    return Cur != End;
  }
  void next() {
    if constexpr (How == detail::Walk::Keys)
      if (ByKeys) {
        ++KeyAt;
        return;
      }
    ++Cur;
    ++Index;
  }
  decltype(auto) get() const { return *Cur; }

  /// Where the loop is, for the continuation frame.
  Position position() const {
    if constexpr (How == detail::Walk::Index) {
      return Index;
    } else if constexpr (How == detail::Walk::Key) {
      return detail::keyOf<Plain>(*Cur);
    } else if constexpr (How == detail::Walk::MultiKey) {
      const Key &K = detail::keyOf<Plain>(*Cur);
      std::size_t Rank = 0;
      for (auto It = Rng.lower_bound(K); It != Cur; ++It)
        ++Rank;
      return {K, Rank};
    } else {
      std::vector<Key> Rest;
      if (ByKeys) {
        Rest.assign(Keys.begin() + static_cast<std::ptrdiff_t>(KeyAt),
                    Keys.end());
      } else {
        for (auto It = Cur; It != End; ++It)
          Rest.push_back(detail::keyOf<Plain>(*It));
      }
      return Rest;
    }
  }

private:
  void seek(Position P) {
    if constexpr (How == detail::Walk::Index) {
      Index = P;
      if constexpr (std::is_base_of_v<std::random_access_iterator_tag,
                                      typename std::iterator_traits<
                                          Iter>::iterator_category>) {
        Cur = std::begin(Rng) +
              static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                  P, static_cast<std::size_t>(std::distance(Cur, End))));
      } else {
        for (std::size_t I = 0; I < P && Cur != End; ++I)
          ++Cur;
      }
    } else if constexpr (How == detail::Walk::Key) {
      Cur = Rng.lower_bound(P);
    } else if constexpr (How == detail::Walk::MultiKey) {
      Cur = Rng.lower_bound(P.first);
      for (std::size_t I = 0;
           I < P.second && Cur != End && !(Rng.key_comp()(P.first, detail::keyOf<Plain>(*Cur)));
           ++I)
        ++Cur;
    } else {
      Keys = std::move(P);
      KeyAt = 0;
      ByKeys = true;
    }
  }

  C &Rng;
  Iter Cur;
  Iter End;
  std::size_t Index = 0;
  std::vector<Key> Keys;
  std::size_t KeyAt = 0;
  bool ByKeys = false;
};

} // namespace rt

namespace frame {
/// A run of a step's pending call values, as a continuation frame saves it:
/// each value in turn (never decoded as a whole; each is restored at its
/// own stop).
template <> struct FrameCodec<rt::PendingRun> {
  static constexpr std::size_t MinSize = 0;
  static void encode(FrameWriter &W, const rt::PendingRun &V) {
    V.R->savePending(W, V.Lo, V.Hi);
  }
};
} // namespace frame
} // namespace cleave

#endif // CLEAVE_RESUME_H
