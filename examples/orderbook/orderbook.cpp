//===- orderbook.cpp - A limit order book ---------------------------------===//
//
// Orders for one instrument, matched by price, then by time. The book is a
// class with private members and its own constructor and destructor; sides
// and time-in-force are enumerations, which travel by name. The state and
// the entries use most of the standard types Cleave serializes: maps with
// integer, enum and pair keys, deques, lists, sets, multimaps, unordered
// containers, pairs, tuples, optionals, variants, and integers of several
// widths.
//
// Prices are integer ticks, so the monolith and the deployment agree on
// every bit; the one double (a tick size) is rounded to cents.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <iostream>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

enum class Side : std::uint8_t { Buy, Sell };
enum TimeInForce { GoodTillCancel, ImmediateOrCancel };

struct OrderRequest {
  std::string trader;
  Side side = Side::Buy;
  std::int64_t price = 0; // ticks
  std::uint32_t qty = 0;
  TimeInForce tif = GoodTillCancel;
  std::optional<std::string> tag;
};

struct Fill {
  std::uint64_t maker = 0; // the resting order's id
  std::int64_t price = 0;
  std::uint32_t qty = 0;
  std::pair<std::string, std::string> parties; // buyer, seller
};

struct OrderResult {
  std::uint64_t id = 0;
  std::vector<Fill> fills;
  std::optional<std::int64_t> resting_at; // the price it rests at, if any
  std::tuple<Side, std::uint32_t, TimeInForce> echo;
};

struct Resting {
  std::uint64_t id = 0;
  std::string trader;
  std::uint32_t qty = 0;
};

/// The book. Its members are private; Cleave reaches them without any
/// change to the class.
class Book {
public:
  Book() : next_id(1), trades(0) {}
  ~Book() {}

  OrderResult submit(const OrderRequest &o) {
    if (o.qty == 0)
      throw std::invalid_argument("quantity must be positive");
    if (o.price <= 0)
      throw std::invalid_argument("price must be positive");
    OrderResult r;
    r.id = next_id++;
    r.echo = {o.side, o.qty, o.tif};
    std::uint32_t left = o.qty;
    auto &other = o.side == Side::Buy ? asks : bids;
    while (left > 0 && !other.empty()) {
      auto level = o.side == Side::Buy ? other.begin() : std::prev(other.end());
      if (o.side == Side::Buy ? level->first > o.price
                              : level->first < o.price)
        break;
      Resting &maker = level->second.front();
      std::uint32_t qty = std::min(left, maker.qty);
      Fill f;
      f.maker = maker.id;
      f.price = level->first;
      f.qty = qty;
      f.parties = o.side == Side::Buy ? std::make_pair(o.trader, maker.trader)
                                      : std::make_pair(maker.trader, o.trader);
      r.fills.push_back(f);
      last_fills.push_back(f);
      if (last_fills.size() > 3)
        last_fills.pop_front();
      ++trades;
      left -= qty;
      maker.qty -= qty;
      if (maker.qty == 0)
        level->second.pop_front();
      if (level->second.empty())
        other.erase(level);
    }
    if (left > 0 && o.tif == GoodTillCancel) {
      auto &own = o.side == Side::Buy ? bids : asks;
      own[o.price].push_back(Resting{r.id, o.trader, left});
      r.resting_at = o.price;
    }
    return r;
  }

  bool cancel(std::uint64_t id) {
    for (auto *side : {&bids, &asks})
      for (auto it = side->begin(); it != side->end(); ++it)
        for (auto o = it->second.begin(); o != it->second.end(); ++o)
          if (o->id == id) {
            it->second.erase(o);
            if (it->second.empty())
              side->erase(it);
            return true;
          }
    return false;
  }

  /// The best \p levels price levels of \p s: price and total quantity.
  std::vector<std::pair<std::int64_t, std::uint64_t>> depth(Side s,
                                                            int levels) const {
    std::vector<std::pair<std::int64_t, std::uint64_t>> out;
    auto add = [&](const auto &level) {
      std::uint64_t total = 0;
      for (const Resting &r : level.second)
        total += r.qty;
      out.emplace_back(level.first, total);
    };
    if (s == Side::Buy) {
      for (auto it = bids.rbegin(); it != bids.rend() && levels-- > 0; ++it)
        add(*it);
    } else {
      for (auto it = asks.begin(); it != asks.end() && levels-- > 0; ++it)
        add(*it);
    }
    return out;
  }

  std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>
  best() const {
    std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>> b;
    if (!bids.empty())
      b.first = bids.rbegin()->first;
    if (!asks.empty())
      b.second = asks.begin()->first;
    return b;
  }

  std::uint64_t trade_count() const { return trades; }
  const std::list<Fill> &recent() const { return last_fills; }

private:
  std::map<std::int64_t, std::deque<Resting>> bids;
  std::map<std::int64_t, std::deque<Resting>> asks;
  std::uint64_t next_id;
  std::uint64_t trades;
  std::list<Fill> last_fills; // the last three
};

/// A trader's risk limit: private members, set through its constructor.
class Limit {
public:
  Limit() = default;
  Limit(std::int64_t max_position, Side side, std::uint16_t weight)
      : max_position(max_position), side(side), weight(weight) {}
  std::int64_t cap() const { return max_position; }
  Side applies_to() const { return side; }
  std::uint16_t scale() const { return weight; }

private:
  std::int64_t max_position = 0;
  Side side = Side::Buy;
  std::uint16_t weight = 1;
};

struct Summary {
  std::array<std::uint64_t, 2> volume_by_side{};
  std::uint64_t trades = 0;
  std::set<std::string> traders;
  std::unordered_set<std::string> active; // traders with a position
  std::multimap<std::string, std::string> tags;
  std::list<Fill> recent;
  std::unordered_map<std::string, std::int64_t> positions;
  std::map<Side, std::uint64_t> volume;
  std::int8_t mood = 0; // -1 more sold than bought, 0 even, 1 more bought
};

CLEAVE_STATE() Book book;
CLEAVE_STATE() std::unordered_map<std::string, std::int64_t> positions;
CLEAVE_STATE() std::map<Side, std::uint64_t> volume;
CLEAVE_STATE() std::unordered_set<std::string> traders;
CLEAVE_STATE() std::multimap<std::string, std::string> tags;

CLEAVE_ENTRY("POST /order") OrderResult place(OrderRequest o) {
  OrderResult r = book.submit(o);
  traders.insert(o.trader);
  if (o.tag)
    tags.emplace(o.trader, *o.tag);
  for (const Fill &f : r.fills) {
    positions[f.parties.first] += f.qty;
    positions[f.parties.second] -= f.qty;
    volume[o.side] += f.qty;
  }
  return r;
}

CLEAVE_ENTRY("POST /cancel") bool cancel(std::uint64_t id) {
  return book.cancel(id);
}

CLEAVE_ENTRY("GET /depth")
std::vector<std::pair<std::int64_t, std::uint64_t>> depth(Side side,
                                                          int levels) {
  if (levels < 0)
    throw std::invalid_argument("levels must not be negative");
  return book.depth(side, levels);
}

CLEAVE_ENTRY("GET /best")
std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>> best() {
  return book.best();
}

CLEAVE_ENTRY("GET /summary") Summary summary() {
  Summary s;
  s.volume_by_side = {volume[Side::Buy], volume[Side::Sell]};
  s.trades = book.trade_count();
  s.traders.insert(traders.begin(), traders.end());
  for (const auto &[name, qty] : positions)
    if (qty != 0)
      s.active.insert(name);
  s.tags = tags;
  s.recent = book.recent();
  s.positions = positions;
  s.volume = volume;
  s.mood = s.volume_by_side[0] > s.volume_by_side[1]   ? 1
           : s.volume_by_side[0] < s.volume_by_side[1] ? -1
                                                       : 0;
  return s;
}

/// A price given as ticks or as "bid" / "ask" (the best one), in currency
/// units of \p tick each; nothing in, nothing out.
CLEAVE_ENTRY("POST /convert")
std::variant<std::monostate, double, std::string>
convert(std::variant<std::monostate, std::int64_t, std::string> price,
        double tick) {
  if (std::holds_alternative<std::monostate>(price))
    return std::monostate{};
  std::optional<std::int64_t> ticks;
  if (const auto *t = std::get_if<std::int64_t>(&price)) {
    ticks = *t;
  } else {
    const std::string &which = std::get<std::string>(price);
    auto b = book.best();
    if (which == "bid")
      ticks = b.first;
    else if (which == "ask")
      ticks = b.second;
    else
      throw std::invalid_argument("unknown price '" + which + "'");
    if (!ticks)
      return "no " + which;
  }
  return std::round(static_cast<double>(*ticks) * tick * 100) / 100;
}

/// Scales a limit by the caps and weights given, per side.
CLEAVE_ENTRY("POST /limits")
std::tuple<Limit, std::map<Side, std::int64_t>>
limits(Limit l, std::map<std::int64_t, std::uint32_t> caps,
       std::map<std::pair<std::string, Side>, std::int64_t> weights) {
  std::int64_t cap = l.cap();
  for (const auto &[price, qty] : caps)
    if (price > 0 && qty < cap)
      cap = qty;
  std::map<Side, std::int64_t> by_side;
  for (const auto &[key, w] : weights)
    by_side[key.second] += w * l.scale();
  return {Limit(cap, l.applies_to(), l.scale()), by_side};
}

int main() {
  OrderRequest o;
  o.trader = "ann";
  o.side = Side::Sell;
  o.price = 101;
  o.qty = 5;
  place(o);
  o.trader = "bob";
  o.side = Side::Buy;
  o.price = 102;
  o.qty = 3;
  OrderResult r = place(o);
  std::cout << "order " << r.id << ": " << r.fills.size() << " fill(s)\n";
  auto b = best();
  std::cout << "best ask " << (b.second ? *b.second : 0) << "\n";
  return 0;
}
