//===- driver.cpp - Run the order book scenario against the monolith ------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines, calls the entry functions directly and prints what the
// deployment must answer. Arguments are decoded and results encoded by hand,
// following the JSON forms of docs/annotations.md, not by Cleave's code, so
// that the two sides stay independent. What the deployment refuses before
// the entry runs (400) is refused here too: an unknown enumerator, a number
// out of its type's range or not exactly an integer, a missing member, a
// map key not in canonical form, a repeated key, a variant index that does
// not exist.
//
//===----------------------------------------------------------------------===//

#define main orderbook_example_main
#include "orderbook.cpp"
#undef main

#include "../driver.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace {

/// An argument the deployment refuses with 400.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const Json &member(const Json &J, const char *Key) {
  if (!J.is_object() || !J.contains(Key))
    throw Refused(std::string("missing ") + Key);
  return J.at(Key);
}

template <class T> T integer(const Json &J) {
  if (J.is_number_unsigned()) {
    auto U = J.get<std::uint64_t>();
    if (U > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      throw Refused("out of range");
    return static_cast<T>(U);
  }
  std::int64_t I = 0;
  if (J.is_number_integer()) {
    I = J.get<std::int64_t>();
  } else if (J.is_number_float()) {
    // Exact only below 2^53; beyond, the double is not what was written.
    double D = J.get<double>();
    if (!std::isfinite(D) || std::trunc(D) != D || std::fabs(D) >= 9007199254740992.0)
      throw Refused("not an exact integer");
    I = static_cast<std::int64_t>(D);
  } else {
    throw Refused("not an integer");
  }
  if (I < 0 ? (!std::is_signed_v<T> ||
               I < static_cast<std::int64_t>(std::numeric_limits<T>::min()))
            : static_cast<std::uint64_t>(I) >
                  static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
    throw Refused("out of range");
  return static_cast<T>(I);
}

double number(const Json &J) {
  if (!J.is_number())
    throw Refused("not a number");
  return J.get<double>();
}

std::string text(const Json &J) {
  if (!J.is_string())
    throw Refused("not a string");
  return J.get<std::string>();
}

const char *name(Side S) { return S == Side::Buy ? "Buy" : "Sell"; }
const char *name(TimeInForce T) {
  return T == GoodTillCancel ? "GoodTillCancel" : "ImmediateOrCancel";
}

Side side(const std::string &S) {
  if (S == "Buy")
    return Side::Buy;
  if (S == "Sell")
    return Side::Sell;
  throw Refused("unknown side '" + S + "'");
}
Side side(const Json &J) {
  if (J.is_string())
    return side(J.get<std::string>());
  return static_cast<Side>(integer<std::uint8_t>(J));
}

TimeInForce tif(const Json &J) {
  if (J.is_string()) {
    std::string S = J.get<std::string>();
    if (S == "GoodTillCancel")
      return GoodTillCancel;
    if (S == "ImmediateOrCancel")
      return ImmediateOrCancel;
    throw Refused("unknown time in force '" + S + "'");
  }
  return static_cast<TimeInForce>(integer<unsigned>(J));
}

OrderRequest order(const Json &J) {
  if (!J.is_object())
    throw Refused("not an object");
  OrderRequest O;
  O.trader = text(member(J, "trader"));
  O.side = side(member(J, "side"));
  O.price = integer<std::int64_t>(member(J, "price"));
  O.qty = integer<std::uint32_t>(member(J, "qty"));
  O.tif = tif(member(J, "tif"));
  if (J.contains("tag") && !J.at("tag").is_null())
    O.tag = text(J.at("tag"));
  return O;
}

Limit limit(const Json &J) {
  if (!J.is_object())
    throw Refused("not an object");
  return Limit(integer<std::int64_t>(member(J, "max_position")),
               side(member(J, "side")),
               integer<std::uint16_t>(member(J, "weight")));
}

Json optionalInt(const std::optional<std::int64_t> &V) {
  return V ? Json(*V) : Json(nullptr);
}

Json encode(const Fill &F) {
  return {{"maker", F.maker},
          {"price", F.price},
          {"qty", F.qty},
          {"parties", Json::array({F.parties.first, F.parties.second})}};
}

template <class C> Json fills(const C &Fills) {
  Json A = Json::array();
  for (const Fill &F : Fills)
    A.push_back(encode(F));
  return A;
}

Json encode(const OrderResult &R) {
  const auto &[S, Q, T] = R.echo;
  return {{"id", R.id},
          {"fills", fills(R.fills)},
          {"resting_at", optionalInt(R.resting_at)},
          {"echo", Json::array({name(S), Q, name(T)})}};
}

Json encode(const Limit &L) {
  return {{"max_position", L.cap()},
          {"side", name(L.applies_to())},
          {"weight", L.scale()}};
}

Json encode(const Summary &S) {
  Json Tags = Json::array();
  for (const auto &[Trader, Tag] : S.tags)
    Tags.push_back(Json::array({Trader, Tag}));
  Json Active = Json::array();
  for (const std::string &A : std::set<std::string>(S.active.begin(),
                                                    S.active.end()))
    Active.push_back(A);
  Json Volume = Json::object();
  for (const auto &[Sd, V] : S.volume)
    Volume[name(Sd)] = V;
  return {{"volume_by_side", S.volume_by_side},
          {"trades", S.trades},
          {"traders", S.traders},
          {"active", Active},
          {"tags", Tags},
          {"recent", fills(S.recent)},
          {"positions", S.positions},
          {"volume", Volume},
          {"mood", S.mood}};
}

Call decodeCall(const std::string &Route, const Json &Args) {
  try {
    if (Route == "POST /order") {
      OrderRequest O = order(member(Args, "o"));
      return [=] { return Reply{200, encode(place(O))}; };
    }
    if (Route == "POST /cancel") {
      auto Id = integer<std::uint64_t>(member(Args, "id"));
      return [=] { return Reply{200, cancel(Id)}; };
    }
    if (Route == "GET /depth") {
      // Query values are text: a side by name, levels in decimal.
      const Json &S = member(Args, "side");
      Side Sd = S.is_string() ? side(S.get<std::string>()) : side(S);
      auto Levels = queryInt<int>(&member(Args, "levels"));
      if (!Levels)
        throw Refused("levels");
      int L = *Levels;
      return [=] {
        Json A = Json::array();
        for (const auto &[P, Q] : depth(Sd, L))
          A.push_back(Json::array({P, Q}));
        return Reply{200, A};
      };
    }
    if (Route == "GET /best")
      return [] {
        auto B = best();
        return Reply{200,
                     Json::array({optionalInt(B.first), optionalInt(B.second)})};
      };
    if (Route == "GET /summary")
      return [] { return Reply{200, encode(summary())}; };
    if (Route == "POST /convert") {
      const Json &P = member(Args, "price");
      std::variant<std::monostate, std::int64_t, std::string> Price;
      auto Index = integer<std::size_t>(member(P, "index"));
      const Json &V = member(P, "value");
      if (Index == 0 && !V.is_null())
        throw Refused("not null");
      if (Index == 1)
        Price = integer<std::int64_t>(V);
      else if (Index == 2)
        Price = text(V);
      else if (Index > 2)
        throw Refused("no such alternative");
      double Tick = number(member(Args, "tick"));
      return [=] {
        auto R = convert(Price, Tick);
        Json Value = nullptr;
        if (const double *D = std::get_if<double>(&R))
          Value = *D;
        else if (const std::string *S = std::get_if<std::string>(&R))
          Value = *S;
        return Reply{200, {{"index", R.index()}, {"value", Value}}};
      };
    }
    if (Route == "POST /limits") {
      Limit L = limit(member(Args, "l"));
      std::map<std::int64_t, std::uint32_t> Caps;
      const Json &C = member(Args, "caps");
      if (!C.is_object())
        throw Refused("caps is not an object");
      for (auto It = C.begin(); It != C.end(); ++It) {
        std::int64_t K = 0;
        const std::string &Key = It.key();
        auto [Ptr, Ec] = std::from_chars(Key.data(), Key.data() + Key.size(), K);
        if (Ec != std::errc() || Ptr != Key.data() + Key.size() ||
            std::to_string(K) != Key)
          throw Refused("bad key");
        Caps[K] = integer<std::uint32_t>(It.value());
      }
      std::map<std::pair<std::string, Side>, std::int64_t> Weights;
      const Json &W = member(Args, "weights");
      if (!W.is_array())
        throw Refused("weights is not an array");
      for (const Json &E : W) {
        if (!E.is_array() || E.size() != 2 || !E[0].is_array() ||
            E[0].size() != 2)
          throw Refused("not a pair");
        std::pair<std::string, Side> K{text(E[0][0]), side(E[0][1])};
        if (!Weights.emplace(K, integer<std::int64_t>(E[1])).second)
          throw Refused("duplicate key");
      }
      return [=] {
        auto [Out, BySide] = limits(L, Caps, Weights);
        Json S = Json::object();
        for (const auto &[Sd, V] : BySide)
          S[name(Sd)] = V;
        return Reply{200, Json::array({encode(Out), S})};
      };
    }
  } catch (const Refused &) {
    return [] { return Reply{400, nullptr}; };
  }
  throw std::runtime_error("no such route in the order book example: " +
                           Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
