//===- handler.h - Support for generated handlers -------------*- C++ -*-===//
//
// Everything the code that `cleave build` generates needs at run time, on
// top of the C ABI in abi.h: the per-call Invocation (argument decoding,
// state slots, the reply), state access for rewritten user code, and the
// type-erased operations on each state variable.
//
// User code never touches a CLEAVE_STATE global in a deployment: the
// compiler rewrites every use of `stock` into `cleave::rt::stateRef(stock,
// "stock")`, which returns this invocation's copy, loaded from the runtime's
// store on first use and written back when the handler succeeds. The global
// itself only holds the initial value, used when the store has none.
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

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cleave {
namespace rt {

using codec::Json;

/// What the runtime needs to do with a state variable without knowing its
/// C++ type. One per CLEAVE_STATE variable, defined in the glue of the
/// translation unit that defines the variable.
struct StateOps {
  const char *Name;
  void *(*Copy)(const void *From);
  void (*Destroy)(void *Obj);
  /// Decodes JSON text into *Obj; returns an error message, empty on success.
  std::string (*Decode)(const char *Data, size_t Len, void *Obj);
  std::string (*Encode)(const void *Obj);
};

template <class T> StateOps makeStateOps(const char *Name) {
  StateOps Ops;
  Ops.Name = Name;
  Ops.Copy = [](const void *From) -> void * {
    return new T(*static_cast<const T *>(From));
  };
  Ops.Destroy = [](void *Obj) { delete static_cast<T *>(Obj); };
  Ops.Decode = [](const char *Data, size_t Len, void *Obj) -> std::string {
    Json J = Json::parse(Data, Data + Len, nullptr, /*allow_exceptions=*/false);
    if (J.is_discarded())
      return "stored value is not valid JSON";
    try {
      codec::Codec<T>::decode(J, *static_cast<T *>(Obj), codec::Path{});
    } catch (const codec::DecodeError &E) {
      return E.what();
    }
    return {};
  };
  Ops.Encode = [](const void *Obj) -> std::string {
    Json J;
    codec::Codec<T>::encode(J, *static_cast<const T *>(Obj));
    return J.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  return Ops;
}

/// The module's table of state variables, generated in cleave_module.cpp.
const StateOps *findStateOps(const char *Name);

/// A failure to reach or decode program state inside user code. Turned into
/// a 500 reply; user code should not catch it (it derives from
/// std::exception only so that a catch-all does not hide it by accident).
class StateError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class Invocation;
inline Invocation *&currentInvocation() {
  static thread_local Invocation *Current = nullptr;
  return Current;
}

/// One call of one handler.
class Invocation {
public:
  Invocation(const cleave_call_v1 *Call, cleave_reply_v1 *Reply,
             const char *Function)
      : Call(Call), Reply(Reply), Function(Function) {
    Reply->status = 500;
    Reply->body = nullptr;
    Reply->body_len = 0;
  }
  ~Invocation() {
    for (auto &S : Slots)
      S.Ops->Destroy(S.Obj);
  }
  Invocation(const Invocation &) = delete;
  Invocation &operator=(const Invocation &) = delete;

  /// Parses the argument object; on failure the reply is a 400.
  bool parseArgs() {
    Args = Json::parse(Call->args, Call->args + Call->args_len, nullptr,
                       /*allow_exceptions=*/false);
    if (Args.is_discarded() || !Args.is_object()) {
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

  /// Runs the user's function: sets this invocation current, turns an
  /// escaping exception into a 500, and replies with the encoded result
  /// (204 for void). State written by the function is handed to the runtime
  /// whether it returns or throws: in the plain program a change made before
  /// a throw persists too, and the deployment behaves as the program does.
  template <class Fn> void run(Fn &&F) {
    currentInvocation() = this;
    struct Reset {
      ~Reset() { currentInvocation() = nullptr; }
    } R;
    try {
      using Result = decltype(F());
      if constexpr (std::is_void_v<Result>) {
        F();
        if (commit())
          reply(204, std::string());
      } else {
        Json J;
        {
          const auto &V = F();
          codec::encode<std::decay_t<Result>>(J, V);
        }
        if (commit())
          reply(200, J.dump(-1, ' ', false, Json::error_handler_t::replace));
      }
    } catch (const StateError &E) {
      // The store could not be read: nothing the function did is trusted.
      replyError(
          500, std::string("state error in ") + Function + ": " + E.what(), "");
    } catch (const std::exception &E) {
      if (commit())
        replyError(
            500, std::string("exception in ") + Function + ": " + E.what(), "");
    } catch (...) {
      if (commit())
        replyError(500, std::string("unknown exception in ") + Function, "");
    }
  }

  int finish() { return Reply->status; }

  /// This invocation's copy of state variable \p Name, loaded on first use.
  void *stateSlot(const char *Name, const void *Initial) {
    for (auto &S : Slots)
      if (S.Name == Name || std::strcmp(S.Name, Name) == 0)
        return S.Obj;
    const StateOps *Ops = findStateOps(Name);
    if (!Ops)
      throw StateError(std::string("unknown state variable '") + Name + "'");
    const char *Data = nullptr;
    size_t Len = 0;
    int Got = Call->host->state_get(Call->host->ctx, Name, &Data, &Len);
    if (Got < 0)
      throw StateError(std::string("cannot read state '") + Name + "'");
    Slot S{Name, Ops, Ops->Copy(Initial), std::string(), Got == 1};
    if (Got == 1) {
      S.Original.assign(Data, Len);
      std::string Err = Ops->Decode(Data, Len, S.Obj);
      if (!Err.empty()) {
        Ops->Destroy(S.Obj);
        throw StateError("state '" + std::string(Name) + "': " + Err);
      }
    }
    Slots.push_back(std::move(S));
    return Slots.back().Obj;
  }

private:
  struct Slot {
    const char *Name;
    const StateOps *Ops;
    void *Obj;
    std::string Original;
    bool Stored;
  };

  /// Hands every changed state value to the runtime. Values equal to what
  /// was read are not written, so a read-only call writes nothing.
  bool commit() {
    for (auto &S : Slots) {
      std::string Text = S.Ops->Encode(S.Obj);
      if (S.Stored && Text == S.Original)
        continue;
      if (Call->host->state_put(Call->host->ctx, S.Name, Text.data(),
                                Text.size()) != 0) {
        replyError(500, std::string("cannot write state '") + S.Name + "'", "");
        return false;
      }
    }
    return true;
  }

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

  void replyError(int Status, const std::string &Message,
                  const std::string &Field) {
    Json J = {{"error", Message}};
    if (!Field.empty())
      J["field"] = Field;
    reply(Status, J.dump(-1, ' ', false, Json::error_handler_t::replace));
  }

  const cleave_call_v1 *Call;
  cleave_reply_v1 *Reply;
  const char *Function;
  Json Args;
  std::vector<Slot> Slots;
};

/// The current invocation's copy of a state variable. Outside any invocation
/// (static initialization of the handler library) it is the variable itself.
template <class T> T &stateRef(const T &Variable, const char *Name) {
  Invocation *Inv = currentInvocation();
  if (!Inv)
    return const_cast<T &>(Variable);
  return *static_cast<T *>(Inv->stateSlot(Name, &Variable));
}

} // namespace rt
} // namespace cleave

#endif // CLEAVE_HANDLER_H
