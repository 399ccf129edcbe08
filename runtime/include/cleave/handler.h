//===- handler.h - Support for generated handlers -------------*- C++ -*-===//
//
// Everything the code that `cleave build` generates needs at run time, on
// top of the C ABI in abi.h: the per-call Invocation (argument decoding,
// state slots, the reply), state access for rewritten user code, and the
// type-erased operations on each state variable.
//
// In the handler library a CLEAVE_STATE variable is thread_local
// (cleave.h adds the specifier under CLEAVE_HANDLER_LIBRARY). Before a
// handler or step runs, its thread's copy of every variable the function may
// touch (the compiler's list, registered by the generated module) is filled
// from the runtime's store, or from the variable's initial value when the
// store has none; when it ends, each copy whose encoding changed is handed
// back. User code then touches the right value wherever it is written, with
// no rewriting. Only a map stored per key is reached through a view,
// KeyedState, that loads and writes one entry at a time.
//
// Included by generated code only, in C++17 or later. No exception leaves a
// handler: every one is turned into a 400 or 500 reply.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_HANDLER_H
#define CLEAVE_HANDLER_H

#include "cleave/abi.h"
#include "cleave/codec.h"
#include "cleave/frame.h"
#include "cleave/registry.h"
#include "cleave/resume.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cleave {
namespace rt {

using codec::Json;

template <class T>
StateOps makeStateOps(const char *Name, void *(*Local)()) {
  StateOps Ops;
  Ops.Name = Name;
  Ops.Copy = [](const void *From) -> void * {
    return new T(*static_cast<const T *>(From));
  };
  Ops.Destroy = [](void *Obj) { delete static_cast<T *>(Obj); };
  Ops.Decode = [](const char *Data, size_t Len, void *Obj) -> std::string {
    Json J;
    std::string Why;
    if (!codec::parseJson(Data, Len, J, Why))
      return "stored value is not valid JSON: " + Why;
    try {
      // Decoding into an object that already holds a value would merge
      // into it (a map keeps its other keys): start from an empty one.
      T Fresh{};
      codec::Codec<T>::decode(J, Fresh, codec::Path{});
      *static_cast<T *>(Obj) = std::move(Fresh);
    } catch (const codec::DecodeError &E) {
      return E.what();
    }
    return {};
  };
  Ops.Encode = [](const void *Obj) -> std::string {
    Json J;
    codec::Codec<T>::encode(J, *static_cast<const T *>(Obj));
    return codec::dumpJson(J);
  };
  Ops.Local = Local;
  Ops.Assign = [](void *To, const void *From) {
    *static_cast<T *>(To) = *static_cast<const T *>(From);
  };
  return Ops;
}

/// A failure to reach or decode program state inside user code. Turned into
/// a 500 reply; user code should not catch it (it derives from
/// std::exception only so that a catch-all does not hide it by accident).
class StateError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The state one handler or step reads and writes. Variables stored whole
/// are loaded into the thread's copies by load() before the function runs;
/// a map stored per key is loaded one key at a time, on first use, through
/// KeyedState. commit() hands back whatever changed.
class StateScope {
public:
  explicit StateScope(const cleave_host_v1 *Host) : Host(Host) {}
  ~StateScope() {
    for (auto &[Key, S] : KeySlots)
      if (S.Entry)
        S.Destroy(S.Entry);
  }
  StateScope(const StateScope &) = delete;
  StateScope &operator=(const StateScope &) = delete;

  /// Fills this thread's copy of every variable stored whole that
  /// \p Function may touch: from the store, or from the initial value when
  /// the store holds none. Throws StateError when the store cannot be read
  /// or holds a value that does not decode; the function has not run then.
  void load(const char *Function) {
    const StateRegistry &R = stateRegistry();
    auto It = R.ByFunction.find(Function);
    if (It == R.ByFunction.end())
      return;
    // The first use of a thread_local on a thread runs the initializers of
    // its unit's thread_locals, which may touch other state: run them all
    // before any copy is filled, so that none overwrites a loaded value.
    static thread_local bool Initialized = false;
    if (!Initialized) {
      for (const StateRegistry::Var &V : R.Vars)
        V.Ops->Local();
      Initialized = true;
    }
    for (size_t Index : It->second) {
      const StateRegistry::Var &V = R.Vars[Index];
      const char *Data = nullptr;
      size_t Len = 0;
      int Got = Host->state_get(Host->ctx, V.Ops->Name, &Data, &Len);
      if (Got < 0)
        throw StateError(std::string("cannot read state '") + V.Ops->Name +
                         "'");
      void *Local = V.Ops->Local();
      if (Got == 1) {
        std::string Err = V.Ops->Decode(Data, Len, Local);
        if (!Err.empty())
          throw StateError("state '" + std::string(V.Ops->Name) + "': " + Err);
        Loaded.push_back({&V, std::string(Data, Len)});
      } else {
        V.Ops->Assign(Local, V.Initial);
        Loaded.push_back({&V, V.InitialText});
      }
    }
  }

  /// One key of a map stored per key ("name/<key>"): its entry, or none.
  /// Filled by KeyedState, which knows the entry's type.
  struct KeySlot {
    void *Entry = nullptr; ///< the map's value_type; null: no entry
    void (*Destroy)(void *Entry) = nullptr;
    std::string (*Encode)(const void *Entry) = nullptr; ///< the mapped value
    /// What the program saw before this scope: the entry's JSON text, if
    /// HadEntry. commit() writes only what differs from it.
    std::string Original;
    bool HadEntry = false;
  };

  /// The slot of \p Key, if this scope loaded it already.
  KeySlot *findKeySlot(const std::string &Key) {
    auto It = KeySlots.find(Key);
    return It == KeySlots.end() ? nullptr : &It->second;
  }
  KeySlot &addKeySlot(std::string Key, KeySlot S) {
    return KeySlots.emplace(std::move(Key), std::move(S)).first->second;
  }
  /// The stored text of \p Key: 1 with \p Data and \p Len set, 0 when the
  /// store has none. An empty text records an erased entry.
  int readKey(const std::string &Key, const char *&Data, size_t &Len) {
    int Got = Host->state_get(Host->ctx, Key.c_str(), &Data, &Len);
    if (Got < 0)
      failState("cannot read state '" + Key + "'");
    return Got;
  }

  /// Ends the function with a StateError that nothing may hide: were a
  /// handler of the user's to take it, the function still fails.
  [[noreturn]] void failState(const std::string &Why) {
    if (Broken.empty())
      Broken = Why;
    throw StateError(Why);
  }
  /// Empty unless a StateError was thrown: then why.
  const std::string &broken() const { return Broken; }

  /// Hands every changed state value to the runtime and forgets what was
  /// loaded. A value whose encoding equals what was loaded (the stored
  /// text, or the initial value's) is not written, so a read-only call
  /// writes nothing; an erased entry is written as an empty value. Returns
  /// the name of a variable (or key) the runtime refused, or nullptr.
  const char *commit() {
    const char *Failed = nullptr;
    for (const LoadedVar &L : Loaded) {
      const StateOps &Ops = *L.Var->Ops;
      std::string Text = Ops.Encode(Ops.Local());
      if (!Failed && Text != L.Original &&
          Host->state_put(Host->ctx, Ops.Name, Text.data(), Text.size()) != 0)
        Failed = Ops.Name;
    }
    Loaded.clear();
    for (auto &[Key, S] : KeySlots) {
      std::string Text = S.Entry ? S.Encode(S.Entry) : std::string();
      bool Changed = S.Entry ? !S.HadEntry || Text != S.Original : S.HadEntry;
      if (!Failed && Changed &&
          Host->state_put(Host->ctx, Key.c_str(), Text.data(), Text.size()) !=
              0) {
        FailedKey = Key;
        Failed = FailedKey.c_str();
      }
      if (S.Entry)
        S.Destroy(S.Entry);
    }
    KeySlots.clear();
    return Failed;
  }

private:
  /// A variable stored whole that load() filled, with the text it was
  /// filled from.
  struct LoadedVar {
    const StateRegistry::Var *Var;
    std::string Original;
  };

  const cleave_host_v1 *Host;
  std::vector<LoadedVar> Loaded;
  std::unordered_map<std::string, KeySlot> KeySlots;
  std::string FailedKey;
  std::string Broken;
};

inline StateScope *&currentInvocation() {
  static thread_local StateScope *Current = nullptr;
  return Current;
}

/// Makes \p S the scope of state uses while alive.
/// Thrown by Invocation::argInRun when a parameter does not decode.
struct BadArgument {};

class ScopeGuard {
public:
  explicit ScopeGuard(StateScope *S) { currentInvocation() = S; }
  ~ScopeGuard() { currentInvocation() = nullptr; }
  ScopeGuard(const ScopeGuard &) = delete;
  ScopeGuard &operator=(const ScopeGuard &) = delete;
};

/// Allocates a copy of \p Bytes with malloc, for the runtime to release.
inline char *mallocCopy(const std::string &Bytes) {
  if (Bytes.empty())
    return nullptr;
  char *P = static_cast<char *>(std::malloc(Bytes.size()));
  if (!P)
    throw std::bad_alloc();
  std::memcpy(P, Bytes.data(), Bytes.size());
  return P;
}

/// One call of one handler.
class Invocation : public StateScope {
public:
  Invocation(const cleave_call_v1 *Call, cleave_reply_v1 *Reply,
             const char *Function)
      : StateScope(Call->host), Call(Call), Reply(Reply), Function(Function) {
    Reply->status = 500;
    Reply->body = nullptr;
    Reply->body_len = 0;
  }

  /// Parses the argument object; on failure the reply is a 400.
  bool parseArgs() {
    std::string Why;
    if (!codec::parseJson(Call->args, Call->args_len, Args, Why)) {
      replyError(400, "malformed JSON: " + Why, "");
      return false;
    }
    if (!Args.is_object()) {
      replyError(400, "request arguments must be a JSON object", "");
      return false;
    }
    return true;
  }

  /// Decodes parameter \p Name into \p V; on failure the reply is a 400 that
  /// names the field.
  template <class T> bool arg(const char *Name, T &V) {
    codec::Path P{nullptr, Name};
    try {
      auto It = Args.find(Name);
      if (It == Args.end()) {
        if constexpr (codec::IsOptional<T>::value) {
          V.reset();
          return true;
        }
        codec::fail(P, "missing parameter");
      }
      if (Call->args_are_strings && It->is_string())
        codec::decodeText(It->template get_ref<const std::string &>(), V, P);
      else
        codec::decode(*It, V, P);
      return true;
    } catch (const codec::DecodeError &E) {
      replyError(400, E.what(), E.Field);
    } catch (const std::exception &E) {
      replyError(400, E.what(), Name);
    }
    return false;
  }

  /// arg() inside run(): the parameters are made after the state is
  /// loaded, as the plain program makes them where the state is the
  /// program's own (a default member initializer or a constructor may read
  /// or write state). A field that does not decode ends the run with the
  /// 400 arg() replied, and nothing is written back.
  template <class T> void argInRun(const char *Name, T &V) {
    if (!arg(Name, V))
      throw BadArgument{};
  }

  /// Runs the user's function: sets this invocation current, loads the
  /// state the function may touch, turns an
  /// escaping exception into a 500, and replies with the encoded result
  /// (204 for void). State written by the function is handed to the runtime
  /// whether it returns or throws: in the plain program a change made before
  /// a throw persists too, and the deployment behaves as the program does.
  template <class Fn> void run(Fn &&F) {
    ScopeGuard Guard(this);
    try {
      load(Function);
      using Result = decltype(F());
      if constexpr (std::is_void_v<Result>) {
        F();
        if (hidden())
          return;
        if (commit())
          reply(204, std::string());
      } else {
        Json J;
        {
          const auto &V = F();
          codec::encode<std::decay_t<Result>>(J, V);
        }
        if (hidden())
          return;
        if (commit())
          reply(200, codec::dumpJson(J));
      }
    } catch (const BadArgument &) {
      // Replied 400 already; the function did not run.
    } catch (const StateError &E) {
      // The store could not be read: nothing the function did is trusted.
      replyError(
          500, std::string("state error in ") + Function + ": " + E.what(), "");
    } catch (const std::exception &E) {
      if (!hidden() && commit())
        replyError(
            500, std::string("exception in ") + Function + ": " + E.what(), "");
    } catch (...) {
      if (!hidden() && commit())
        replyError(500, std::string("unknown exception in ") + Function, "");
    }
  }

  /// A StateError that a handler of the user's took: the function failed
  /// all the same, and nothing it did is trusted.
  bool hidden() {
    if (broken().empty())
      return false;
    replyError(500, std::string("state error in ") + Function + ": " + broken(),
               "");
    return true;
  }

  int finish() { return Reply->status; }

  /// Replies \p Status with \p Body (JSON text, or a frame).
  void reply(int Status, const std::string &Body) {
    std::free(Reply->body);
    Reply->status = Status;
    Reply->body = nullptr;
    Reply->body_len = Body.size();
    if (!Body.empty()) {
      Reply->body = static_cast<char *>(std::malloc(Body.size()));
      if (!Reply->body) {
        Reply->status = 500;
        Reply->body_len = 0;
        return;
      }
      std::memcpy(Reply->body, Body.data(), Body.size());
    }
  }

private:
  /// Hands every changed state value to the runtime; on failure the reply
  /// is a 500.
  bool commit() {
    if (const char *Name = StateScope::commit()) {
      replyError(500, std::string("cannot write state '") + Name + "'", "");
      return false;
    }
    return true;
  }

  void replyError(int Status, const std::string &Message,
                  const std::string &Field) {
    Json J = {{"error", Message}};
    if (!Field.empty())
      J["field"] = Field;
    reply(Status, codec::dumpJson(J));
  }

  const cleave_call_v1 *Call;
  cleave_reply_v1 *Reply;
  const char *Function;
  Json Args;
};

/// A frame that cannot be decoded where a step needs it: a continuation, a
/// callee's value, or a fan-out's results. Turned into a 500.
class FrameError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Appends \p Frame to \p Out as one element of a list: a little-endian
/// uint32 length, then the bytes.
inline void appendListElement(std::string &Out, const std::string &Frame) {
  std::uint32_t N = static_cast<std::uint32_t>(Frame.size());
  unsigned char Len[4] = {static_cast<unsigned char>(N),
                          static_cast<unsigned char>(N >> 8),
                          static_cast<unsigned char>(N >> 16),
                          static_cast<unsigned char>(N >> 24)};
  Out.append(reinterpret_cast<const char *>(Len), 4);
  Out += Frame;
}

/// One run of one step of a function cut at its boundaries. The generated
/// state machine of the function takes a Step and either finishes (the
/// function returned) or stops at a boundary after recording the call and
/// saving its continuation frame.
class Step : public StateScope {
public:
  Step(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply,
       const char *Function)
      : StateScope(Call->host), Call(Call), Reply(Reply), Function(Function) {
    std::memset(Reply, 0, sizeof(*Reply));
    Reply->status = CLEAVE_STEP_DONE;
  }

  std::uint32_t resumePoint() const { return Call->step; }
  /// The input is the exception the callee let escape, not its value.
  bool thrown() const { return Call->step != 0 && Call->thrown != 0; }
  /// Where the machine's Resume records a failure to resume: the step
  /// fails, even where a handler of the user's took the ResumeError.
  std::string *resumeFailure() { return &ResumeFailure; }
  /// The arguments frame (step 0) or the continuation frame.
  std::string_view frame() const {
    return std::string_view(Call->frame, Call->frame_len);
  }
  /// The callee's value (or a fan-out's result list) at a resume point.
  std::string_view input() const {
    return std::string_view(Call->input, Call->input_len);
  }
  /// The final values of the callee's in-out parameters at a resume point.
  std::string_view outs() const {
    return Call->step ? std::string_view(Call->outs, Call->outs_len)
                      : std::string_view();
  }
  /// The final values of this function's in-out parameters (non-const
  /// references), at its end, for the caller: see OutParams (resume.h).
  template <class... Ts> void keepOuts(const Ts &...V) {
    Outs.clear();
    std::string One;
    auto Add = [&](const auto &X) {
      One.clear();
      frame::encodeFrame(One, X);
      appendListElement(Outs, One);
    };
    int InOrder[] = {0, (Add(V), 0)...};
    (void)InOrder;
  }
  /// Answers a frame the machine cannot resume from (see Resume::error).
  void cannotResume(const std::string &Why) {
    fail(Call->step ? CLEAVE_STEP_ERROR : CLEAVE_STEP_BAD_REQUEST,
         std::string("cannot resume ") + Function + " at step " +
             std::to_string(Call->step) + ": " + Why);
  }

  /// Decodes the arguments frame of step 0.
  template <class... Ts> bool args(Ts &...V) {
    auto St = frame::decodeFrame(
        std::string_view(Call->frame, Call->frame_len), V...);
    if (St)
      return true;
    fail(CLEAVE_STEP_BAD_REQUEST,
         std::string("bad arguments frame for ") + Function + ": " + St.str());
    return false;
  }

  /// Decodes the continuation frame of a resume point. \p Layout is the
  /// fingerprint of the frame's layout at this resume point (the function,
  /// the step and the carried types); a frame saved by a build with another
  /// layout is refused rather than misread.
  template <class... Ts> bool restore(std::uint32_t Layout, Ts &...V) {
    std::uint32_t Saved = 0;
    auto St = frame::decodeFrame(
        std::string_view(Call->frame, Call->frame_len), Saved, V...);
    if (St && Saved == Layout)
      return true;
    std::string Why = St.str();
    if (Saved != Layout) {
      char Buf[64];
      std::snprintf(Buf, sizeof(Buf), "layout %08x, this build has %08x",
                    static_cast<unsigned>(Saved), static_cast<unsigned>(Layout));
      Why = std::string("it was saved by another build of the function (") +
            Buf + ")";
    }
    fail(CLEAVE_STEP_ERROR, std::string("cannot resume ") + Function +
                                " at step " + std::to_string(Call->step) +
                                ": " + Why);
    return false;
  }

  /// Answers a resume point the machine does not have.
  void badStep() {
    fail(CLEAVE_STEP_ERROR, std::string(Function) + " has no step " +
                                std::to_string(Call->step));
  }

  /// Appends one argument, as the callee's parameter type \p P, to the call
  /// being prepared.
  template <class P> void arg(const P &V) {
    if (Args.empty())
      Args.assign(frame::FrameHeaderSize, '\0');
    frame::FrameWriter W(Args);
    frame::frameMember(W, V);
  }
  /// Appends an argument for a parameter of type \p P taken by value: the
  /// parameter is initialized from the argument as the call would, so that
  /// `f(std::move(buf))` leaves the caller's buf moved from, as in the plain
  /// program.
  /// The parameter travels to the callee, which destroys it at its end:
  /// here it ends without the user's destructor body, so that the
  /// destructor runs once, as in the plain program.
  template <class P, class A> void argByValue(A &&V) {
    alignas(P) unsigned char Storage[sizeof(P)];
    // Copy-initialized, as a parameter is (no explicit constructor), and
    // made in place.
    P *Param = ::new (static_cast<void *>(Storage))
        P([&]() -> P { return std::forward<A>(V); }());
    struct End {
      P *Obj;
      ~End() { detail::releaseQuietly(Obj); }
    } Ender{Param};
    arg<P>(*Param);
  }

  /// Ends the step at a boundary: call \p Callee with the arguments given
  /// by arg(), then resume at \p Resume with \p Live restored.
  template <class... Ts>
  void call(const char *Callee, std::uint32_t Resume, std::uint32_t Layout,
            const Ts &...Live) {
    if (Args.empty())
      Args.assign(frame::FrameHeaderSize, '\0');
    std::memcpy(&Args[0], frame::FrameMagic, sizeof(frame::FrameMagic));
    Args[3] = static_cast<char>(frame::FrameVersion);
    std::uint64_t Payload = Args.size() - frame::FrameHeaderSize;
    std::memcpy(&Args[4], &Payload, sizeof(Payload));
    Reply->args = mallocCopy(Args);
    Reply->args_len = Args.size();
    Args.clear();
    suspend(CLEAVE_STEP_CALL, Callee, Resume, Layout, Live...);
  }

  /// Ends the step at a cleave::parallel_map: call \p Callee once per
  /// element of \p Items, each passed as parameter type \p P, then resume
  /// at \p Resume with the results in input order.
  template <class P, class C, class... Ts>
  void fanOut(const char *Callee, std::uint32_t Resume, std::uint32_t Layout,
              const C &Items, const Ts &...Live) {
    std::string List, One;
    std::uint32_t Count = 0;
    for (const auto &Item : Items) {
      One.clear();
      frame::encodeFrame(One, static_cast<const P &>(Item));
      appendListElement(List, One);
      ++Count;
    }
    Reply->args = mallocCopy(List);
    Reply->args_len = List.size();
    Reply->count = Count;
    suspend(CLEAVE_STEP_FAN_OUT, Callee, Resume, Layout, Live...);
  }

  /// At a resume point whose callee let an exception escape: throws it
  /// again, as Resume does where the call was.
  void throwIfThrown() {
    if (!thrown())
      return;
    std::string Message;
    ThrownText T;
    if (!frame::decodeFrame(input(), Message, T.first, T.second))
      throw FrameError("bad exception frame");
    std::string Why = uncarried(T);
    if (!Why.empty()) {
      if (ResumeFailure.empty())
        ResumeFailure = Why;
      throw ResumeError(Why);
    }
    throwDescribed(T);
  }

  /// The value of the call the step resumes after (or its exception,
  /// thrown again).
  template <class R> R result() {
    throwIfThrown();
    if constexpr (std::is_void_v<R>) {
      return;
    } else {
      R V{};
      auto St = frame::decodeFrame(
          std::string_view(Call->input, Call->input_len), V);
      if (!St)
        throw FrameError("bad value frame: " + St.str());
      return V;
    }
  }

  /// The results of the fan-out the step resumes after, in input order (or
  /// the exception of its first element that threw, thrown again).
  template <class R> std::vector<R> joined() {
    throwIfThrown();
    std::vector<std::string_view> Parts;
    if (!splitList(Call->input, Call->input_len, Parts))
      throw FrameError("bad fan-out result list");
    std::vector<R> Out(Parts.size());
    for (size_t I = 0; I < Parts.size(); ++I) {
      auto St = frame::decodeFrame(Parts[I], Out[I]);
      if (!St)
        throw FrameError("bad value frame of element " + std::to_string(I) +
                         ": " + St.str());
    }
    return Out;
  }

  /// The function returns \p V.
  template <class R> void finish(const R &V) {
    std::string Bytes;
    frame::encodeFrame(Bytes, V);
    std::free(Reply->value);
    Reply->value = mallocCopy(Bytes);
    Reply->value_len = Bytes.size();
    Reply->status = CLEAVE_STEP_DONE;
  }

  /// Runs the machine once: makes this step the scope of state uses, loads
  /// the state its function may touch, turns
  /// an escaping exception into a 500, and hands the state writes to the
  /// runtime whether the machine finished, stopped at a boundary or threw
  /// (as a handler does).
  template <class Fn> int run(Fn &&Machine) {
    ScopeGuard Guard(this);
    std::exception_ptr Escaped;
    try {
      load(Function);
      Machine();
    } catch (const StateError &E) {
      return fail(CLEAVE_STEP_ERROR, std::string("state error in ") +
                                         Function + ": " + E.what());
    } catch (const FrameError &E) {
      return fail(CLEAVE_STEP_ERROR,
                  std::string("in ") + Function + ": " + E.what());
    } catch (const ResumeError &E) {
      return fail(CLEAVE_STEP_ERROR,
                  std::string("in ") + Function + ": " + E.what());
    } catch (...) {
      Escaped = std::current_exception();
    }
    // The store could not be read, or the frame not resumed from, and a
    // handler of the user's took the error: the step fails all the same.
    if (!broken().empty())
      return fail(CLEAVE_STEP_ERROR,
                  std::string("state error in ") + Function + ": " + broken());
    if (!ResumeFailure.empty())
      return fail(CLEAVE_STEP_ERROR,
                  std::string("in ") + Function + ": " + ResumeFailure);
    if (Escaped) {
      if (commitOrFail()) {
        throwOut(Escaped);
        attachOuts();
      }
      return Reply->status;
    }
    if (Reply->status == CLEAVE_STEP_DONE ||
        Reply->status == CLEAVE_STEP_CALL ||
        Reply->status == CLEAVE_STEP_FAN_OUT)
      if (commitOrFail() && Reply->status == CLEAVE_STEP_DONE)
        attachOuts();
    return Reply->status;
  }

private:
  template <class... Ts>
  void suspend(int Status, const char *Callee, std::uint32_t Resume,
               std::uint32_t Layout, const Ts &...Live) {
    std::string Frame;
    frame::encodeFrame(Frame, Layout, Live...);
    Reply->frame = mallocCopy(Frame);
    Reply->frame_len = Frame.size();
    Reply->callee = Callee;
    Reply->resume = Resume;
    Reply->status = Status;
  }

  bool commitOrFail() {
    if (const char *Name = StateScope::commit()) {
      fail(CLEAVE_STEP_ERROR, std::string("cannot write state '") + Name + "'");
      return false;
    }
    return true;
  }

  /// An exception escaped the function: it goes to the caller's resume
  /// point, described (thrown.h), with the 500 it gives where no caller
  /// waits.
  void throwOut(std::exception_ptr P) {
    ThrownText T = describeException(P);
    std::string Message = exceptionMessage(P, Function);
    std::string Bytes;
    frame::encodeFrame(Bytes, Message, T.first, T.second);
    fail(CLEAVE_STEP_THROW, std::string());
    std::free(Reply->value);
    Reply->value = mallocCopy(Bytes);
    Reply->value_len = Bytes.size();
  }

  void attachOuts() {
    std::free(Reply->outs);
    Reply->outs = mallocCopy(Outs);
    Reply->outs_len = Outs.size();
  }

  int fail(int Status, const std::string &Message) {
    std::free(Reply->value);
    std::free(Reply->frame);
    std::free(Reply->args);
    std::free(Reply->outs);
    std::memset(Reply, 0, sizeof(*Reply));
    Json J = {{"error", Message}};
    std::string Body = codec::dumpJson(J);
    Reply->value = mallocCopy(Body);
    Reply->value_len = Body.size();
    Reply->status = Status;
    return Status;
  }

  const cleave_step_call_v1 *Call;
  cleave_step_reply_v1 *Reply;
  const char *Function;
  std::string Args;
  std::string Outs;
  std::string ResumeFailure;
};

inline Resume::Resume(Step &S, const std::uint32_t *Layouts,
                      std::uint32_t Points)
    : Resume(S.resumePoint(), S.frame(), S.input(), S.thrown(), Layouts,
             Points) {
  Failure = S.resumeFailure();
  OutsList = S.outs();
}

/// The JSON reply for the value frame of an entry run as steps.
template <class R>
int valueToJson(const char *Value, size_t Len, cleave_reply_v1 *Reply) {
  Reply->status = 500;
  Reply->body = nullptr;
  Reply->body_len = 0;
  auto Set = [&](int Status, const std::string &Body) {
    Reply->status = Status;
    Reply->body = mallocCopy(Body);
    Reply->body_len = Body.size();
  };
  try {
    if constexpr (std::is_void_v<R>) {
      Set(204, std::string());
    } else {
      R V{};
      auto St = frame::decodeFrame(std::string_view(Value, Len), V);
      if (!St) {
        Json E = {{"error", "bad value frame: " + St.str()}};
        Set(500, codec::dumpJson(E));
      } else {
        Json J;
        codec::encode<R>(J, V);
        Set(200, codec::dumpJson(J));
      }
    }
  } catch (const std::exception &E) {
    std::free(Reply->body);
    Reply->body = nullptr;
    Reply->body_len = 0;
    Reply->status = 500;
  }
  return Reply->status;
}

/// A map stored per key, as the rewritten code sees it: the compiler stores
/// a map this way only when every use is one of these keyed accesses, and
/// rewrites `stock` into `cleave::rt::stateKeys(stock, "stock")`. Each key
/// is loaded on first use, from "stock/<key>" or the initial value, and
/// written back on its own. Outside an invocation (static initialization)
/// it works on the variable itself.
template <class M> class KeyedState {
public:
  using key_type = typename M::key_type;
  using mapped_type = typename M::mapped_type;
  using value_type = typename M::value_type;
  using size_type = typename M::size_type;

  /// What find() returns: the entry, or end(). It offers what the compiler
  /// allows on it, `->`, `*` and comparison with end().
  class iterator {
  public:
    iterator() = default;
    value_type &operator*() const { return *Entry; }
    value_type *operator->() const { return Entry; }
    friend bool operator==(const iterator &A, const iterator &B) {
      return A.Entry == B.Entry;
    }
    friend bool operator!=(const iterator &A, const iterator &B) {
      return A.Entry != B.Entry;
    }

  private:
    friend class KeyedState;
    explicit iterator(value_type *Entry) : Entry(Entry) {}
    value_type *Entry = nullptr;
  };

  KeyedState(const M &Variable, const char *Name)
      : Variable(Variable), Name(Name), Scope(currentInvocation()) {}

  mapped_type &operator[](const key_type &Key) {
    if (!Scope)
      return self()[Key];
    StateScope::KeySlot &S = slot(Key);
    if (!S.Entry)
      S.Entry = new value_type(Key, mapped_type());
    return entry(S).second;
  }
  mapped_type &at(const key_type &Key) {
    if (!Scope)
      return self().at(Key);
    StateScope::KeySlot &S = slot(Key);
    if (!S.Entry)
      throw std::out_of_range("map::at");
    return entry(S).second;
  }
  size_type count(const key_type &Key) {
    if (!Scope)
      return self().count(Key);
    return slot(Key).Entry ? 1 : 0;
  }
  bool contains(const key_type &Key) { return count(Key) != 0; }
  size_type erase(const key_type &Key) {
    if (!Scope)
      return self().erase(Key);
    StateScope::KeySlot &S = slot(Key);
    if (!S.Entry)
      return 0;
    S.Destroy(S.Entry);
    S.Entry = nullptr;
    return 1;
  }
  iterator find(const key_type &Key) {
    if (!Scope) {
      auto It = self().find(Key);
      return iterator(It == self().end() ? nullptr : &*It);
    }
    return iterator(static_cast<value_type *>(slot(Key).Entry));
  }
  iterator end() const { return iterator(); }
  iterator cend() const { return iterator(); }

private:
  M &self() { return const_cast<M &>(Variable); }
  static value_type &entry(StateScope::KeySlot &S) {
    return *static_cast<value_type *>(S.Entry);
  }
  static void destroy(void *Entry) { delete static_cast<value_type *>(Entry); }
  static std::string encode(const void *Entry) {
    Json J;
    codec::Codec<mapped_type>::encode(
        J, static_cast<const value_type *>(Entry)->second);
    return codec::dumpJson(J);
  }

  /// The map as it stood after the library's static initialization; the
  /// thread's own copy is that too when nothing registered the module.
  const M &initial() const {
    if (const StateRegistry::Var *V = stateRegistry().find(Name))
      return *static_cast<const M *>(V->Initial);
    return Variable;
  }

  StateScope::KeySlot &slot(const key_type &Key) {
    std::string Full = std::string(Name) + "/" + Key;
    if (StateScope::KeySlot *Found = Scope->findKeySlot(Full))
      return *Found;
    StateScope::KeySlot S;
    S.Destroy = &destroy;
    S.Encode = &encode;
    const char *Data = nullptr;
    size_t Len = 0;
    int Got = Scope->readKey(Full, Data, Len);
    if (Got == 1 && Len > 0) {
      Json J;
      std::string Why;
      if (!codec::parseJson(Data, Len, J, Why))
        Scope->failState("state '" + Full +
                         "': stored value is not valid JSON: " + Why);
      mapped_type V{};
      try {
        codec::Codec<mapped_type>::decode(J, V, codec::Path{});
      } catch (const codec::DecodeError &E) {
        Scope->failState("state '" + Full + "': " + E.what());
      }
      S.Entry = new value_type(Key, std::move(V));
      S.Original.assign(Data, Len);
      S.HadEntry = true;
    } else if (Got == 0) {
      const M &Initial = initial();
      auto It = Initial.find(Key);
      if (It != Initial.end()) {
        S.Entry = new value_type(*It);
        S.Original = encode(S.Entry);
        S.HadEntry = true;
      }
    }
    return Scope->addKeySlot(std::move(Full), std::move(S));
  }

  const M &Variable;
  const char *Name;
  StateScope *Scope;
};

/// The current invocation's view of a map stored per key.
template <class M> KeyedState<M> stateKeys(const M &Variable, const char *Name) {
  return KeyedState<M>(Variable, Name);
}

namespace detail {

/// The payload of an exception of class \p T: its what() for a class made
/// from its message, otherwise its members, as a frame.
template <class T> std::string encodeCarried(std::exception_ptr P) {
  try {
    std::rethrow_exception(P);
  } catch (const T &E) {
    if constexpr (std::is_base_of_v<std::exception, T>) {
      const char *W = E.what();
      return W ? W : "";
    } else {
      std::string Bytes;
      frame::encodeFrame(Bytes, E);
      return Bytes;
    }
  } catch (...) {
  }
  return {};
}

/// Throws the object of class \p T that \p Payload holds: rebuilt from
/// the frame without a constructor of the program's, then moved into the
/// exception (the compiler carries only quiet classes this way, whose
/// special members do nothing one could see).
template <class T> void throwCarried(const std::string &Payload) {
  alignas(T) unsigned char Buf[sizeof(T)];
  frame::FrameReader R(Payload.data(), Payload.size());
  if (!frame::readFrameHeader(R) || !frame::constructFrame<T>(R, Buf))
    throw FrameError("bad exception frame: " + R.status().str());
  T *Obj = std::launder(reinterpret_cast<T *>(Buf));
  struct Release {
    T *Obj;
    ~Release() { frame::releaseQuietly(Obj); }
  } Guard{Obj};
  throw std::move(*Obj);
}

} // namespace detail

/// Registers a class of the program that a handler around a boundary
/// catches (generated code does, as the handler library loads): exceptions
/// of exactly this class cross as it (thrown.h). \p Throw, for a class
/// derived from a standard exception, throws one made from its message.
template <class T>
bool carryClass(const char *Name,
                void (*Throw)(const std::string &) = nullptr) {
  if (findCarried(Name))
    return true;
  void (*Thrower)(const std::string &) = Throw;
  if constexpr (!std::is_base_of_v<std::exception, T>)
    Thrower = &detail::throwCarried<T>;
  carriedClasses().push_back({Name, &typeid(T), &detail::isA<T>,
                              &detail::encodeCarried<T>, Thrower});
  return true;
}

} // namespace rt
} // namespace cleave

#endif // CLEAVE_HANDLER_H
