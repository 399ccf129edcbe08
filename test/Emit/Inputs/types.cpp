// Every supported kind of type in one program: an entry takes and returns
// them, state holds them. types-harness.cpp round-trips them through the
// generated codecs.
#include <cleave/cleave.h>

#include <array>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

enum class Side : std::uint8_t { Buy, Sell };
enum Venue { Lit = 3, Dark = 7 };

namespace book {
struct Level {
  double price = 0;
  long qty = 0;
};
} // namespace book

/// Counted, so that the harness can tell whether a constructor ran.
inline int Built = 0;

struct Audit {
  Audit() { ++Built; }
  std::vector<std::string> notes;
};

/// Private members and a private base, reached without any change here.
class Ledger : private Audit {
public:
  Ledger() : total(-1) { ++Built; }
  ~Ledger() {}
  long sum() const { return total; }
  void add(long v, Side s) {
    total += v;
    sides.push_back(s);
    notes.push_back("add");
  }
  const std::vector<Side> &history() const { return sides; }
  const std::vector<std::string> &log() const { return notes; }

private:
  long total;
  std::vector<Side> sides;
  std::map<Venue, std::string> names;
};

struct Everything {
  bool b = false;
  signed char i8 = 0;
  unsigned short u16 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  float f = 0;
  double d = 0;
  long double ld = 0;
  Side side = Side::Buy;
  Venue venue = Lit;
  std::deque<int> dq;
  std::list<std::string> ls;
  std::array<book::Level, 2> top;
  std::set<int> s;
  std::multiset<Side> ms;
  std::unordered_set<std::string> us;
  std::map<std::int64_t, book::Level> byId;
  std::unordered_map<Side, int> bySide;
  std::multimap<std::string, int> mm;
  std::map<std::pair<int, int>, std::string> grid;
  std::pair<std::string, Venue> p;
  std::tuple<int, std::string, Side> t;
  std::optional<book::Level> best;
  std::variant<std::monostate, long, std::string> v;
  Ledger ledger;
};

CLEAVE_STATE() std::map<Side, std::vector<book::Level>> levels;
CLEAVE_STATE() Ledger ledger;

CLEAVE_ENTRY("POST /echo") Everything echo(Everything e, Side s) {
  e.side = s;
  return e;
}

CLEAVE_ENTRY("GET /venue") Venue venue_of(Venue v) { return v; }

int main() { return echo(Everything{}, Side::Sell).side == Side::Sell ? 0 : 1; }
