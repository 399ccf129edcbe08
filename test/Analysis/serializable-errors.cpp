// Entry parameters, results and state must be serializable; each failure
// names the member path to the part that fails and says why, with a note at
// the declaration to blame.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -ferror-limit=0 -Xclang -verify

#include <cleave/cleave.h>

#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

union Bits { // expected-note 2 {{union declared here}}
  int i;
  float f;
};

struct Shape {
  virtual ~Shape() = default; // makes it polymorphic
  int sides = 0;
};
// expected-note@-4 2 {{declared here}}

CLEAVE_ENTRY("POST /c") int c(int *p) { return *p; }
// expected-error@-1 {{parameter 'p' of entry 'c' cannot be serialized: 'int *' is a pointer}}

CLEAVE_ENTRY("POST /d") int d(int &r) { return r; }
// expected-error@-1 {{parameter 'r' of entry 'd' is a non-const reference; an entry receives its parameters by value}}

CLEAVE_ENTRY("POST /e") int e(Bits u) { return u.i; }
// expected-error@-1 {{parameter 'u' of entry 'e' cannot be serialized: 'Bits' is a union}}

CLEAVE_ENTRY("GET /h") FILE *h() { return nullptr; }
// expected-error@-1 {{return type of entry 'h' cannot be serialized: 'FILE *' is a pointer}}

CLEAVE_ENTRY("POST /i") int i(Shape s) { return s.sides; }
// expected-error@-1 {{'Shape' is polymorphic (has virtual functions)}}

CLEAVE_ENTRY("POST /j") int j(int) { return 0; }
// expected-error@-1 {{parameter 1 of entry 'j' has no name; the request names each parameter}}

CLEAVE_STATE() std::mutex lock;
// expected-error@-1 {{state variable 'lock' cannot be stored: 'std::mutex' is not supported by generated serializers}}

CLEAVE_ENTRY("POST /k") int k(int arr[3]) { return arr[0]; }
// expected-error@-1 {{'int *' is a pointer}}

// A problem deep inside a type is named by its member path.
struct Line {
  std::string name;
  char16_t sku = 0; // expected-note {{'sku' declared here}}
};
struct Order {
  std::vector<Line> lines;
};
CLEAVE_ENTRY("POST /o") int o(Order ord) { return (int)ord.lines.size(); }
// expected-error@-1 {{parameter 'ord' of entry 'o' cannot be serialized: Order.lines[].sku: 'char16_t' is a wide character type; use std::string or an integer type}}

struct Wide {
  std::map<std::string, std::pair<int, wchar_t>> m; // expected-note {{'m' declared here}}
};
CLEAVE_ENTRY("POST /w") int w(Wide x) { return (int)x.m.size(); }
// expected-error@-1 {{Wide.m[].second: 'wchar_t' is a wide character type}}

struct Half {
  std::optional<_Float16> h; // expected-note {{'h' declared here}}
};
CLEAVE_ENTRY("POST /half") int half(Half x) { (void)x; return 0; }
// expected-error@-1 {{Half.h: '_Float16' is not a standard floating type; use float, double or long double}}

struct Flaky {
  volatile int v = 0; // expected-note {{'v' declared here}}
};
CLEAVE_ENTRY("POST /vol") int vol(Flaky x) { return x.v; }
// expected-error@-1 {{Flaky.v: 'volatile int' is volatile}}

struct Anon {
  struct { // expected-note {{declared here}}
    int a;
  } inner;
};
CLEAVE_ENTRY("POST /anon") int anon(Anon x) { return x.inner.a; }
// expected-error@-1 {{Anon.inner: 'struct (unnamed)' is an anonymous struct; generated code cannot name it}}

struct Holder {
  std::vector<std::tuple<int, Bits>> items;
};
CLEAVE_ENTRY("POST /holder") int holder(Holder x) { return (int)x.items.size(); }
// expected-error@-1 {{Holder.items[]<1>: 'Bits' is a union}}

struct Pointy {
  std::map<std::string, const char *> names; // expected-note {{'names' declared here}}
};
CLEAVE_STATE() Pointy pointy;
// expected-error@-1 {{state variable 'pointy' cannot be stored: Pointy.names[]: 'const char *' is a pointer}}

struct NoAssign {
  int n = 0;
  NoAssign &operator=(const NoAssign &) = delete;
};
// expected-note@-4 {{declared here}}
struct UsesNoAssign {
  std::optional<NoAssign> once;
};
CLEAVE_ENTRY("POST /na") int na(UsesNoAssign x) { (void)x; return 0; }
// expected-error@-1 {{UsesNoAssign.once: 'NoAssign' has a deleted or non-public copy assignment operator}}

class Book {
  struct Level { // expected-note {{declared here}}
    double price = 0;
  };
  std::vector<Level> levels;
};
CLEAVE_ENTRY("POST /book") int book(Book b) { (void)b; return 0; }
// expected-error@-1 {{Book.levels[]: 'Book::Level' is a private nested type; generated code cannot name it}}

struct Owner {
  std::shared_ptr<int> p; // expected-note {{'p' declared here}}
};
CLEAVE_ENTRY("POST /own") int own(const Owner &x) { (void)x; return 0; }
// expected-error@-1 {{Owner.p: 'std::shared_ptr<int>' is not supported by generated serializers}}

struct Many {
  std::unique_ptr<int[]> p; // expected-note {{'p' declared here}}
};
CLEAVE_ENTRY("POST /many") int many(const Many &x) { (void)x; return 0; }
// expected-error@-1 {{Many.p: 'std::unique_ptr<int[]>' owns an array; use std::vector}}

struct Freer {
  void operator()(int *p) const { delete p; }
};
struct Custom {
  std::unique_ptr<int, Freer> p; // expected-note {{'p' declared here}}
};
CLEAVE_ENTRY("POST /custom") int custom(const Custom &x) { (void)x; return 0; }
// expected-error@-1 {{Custom.p: 'std::unique_ptr<int, Freer>' has a deleter of its own, which generated code cannot rebuild}}

struct Pooled { // expected-note {{declared here}}
  static void *operator new(std::size_t n) { return ::operator new(n); }
  int v = 0;
};
struct UsesPool {
  std::unique_ptr<Pooled> p;
};
CLEAVE_ENTRY("POST /pool") int pool(const UsesPool &x) { (void)x; return 0; }
// expected-error@-1 {{UsesPool.p: 'std::unique_ptr<Pooled>' owns a class with an allocation function of its own, which a rebuilt object would not come from}}

CLEAVE_ENTRY("POST /stream") int stream(const std::ostringstream &x) { (void)x; return 0; }
// expected-error@-1 {{'std::ostringstream' is a string stream; it crosses a boundary as a local, in a continuation frame, but not as JSON}}

CLEAVE_ENTRY("POST /oo") int oo(std::optional<std::optional<int>> x) { (void)x; return 0; }
// expected-error@-1 {{nests optionals; null could not tell the empty one apart}}

CLEAVE_ENTRY("POST /a0") int a0(std::array<int, 0> x) { return (int)x.size(); }
// expected-error@-1 {{'std::array<int, 0>' has no elements}}

CLEAVE_ENTRY("POST /pc") int pc(std::vector<std::pair<const int, int>> x) { return (int)x.size(); }
// expected-error@-1 {{'const int' is const; decoding assigns to it}}

struct Dup {
  int id = 0;
};
struct DupDerived : Dup {
  int id = 1; // expected-note {{'id' declared here}}
};
CLEAVE_ENTRY("POST /dup") int dup(DupDerived x) { return x.id; }
// expected-error@-1 {{DupDerived.id: 'DupDerived' and a base both have a member named 'id'; JSON keys must differ}}

struct MyVec : std::vector<int> {}; // expected-note {{base declared here}}
CLEAVE_ENTRY("POST /mv") int mv(MyVec x) { return (int)x.size(); }
// expected-error@-1 {{'MyVec' derives from standard library class 'std::vector<int>'}}

struct Nested {
  std::map<int, std::vector<Shape>> shapes;
};
CLEAVE_ENTRY("POST /nested") int nested(Nested x) { return (int)x.shapes.size(); }
// expected-error@-1 {{Nested.shapes[][]: 'Shape' is polymorphic (has virtual functions)}}

struct Bitty {
  int flag : 1; // expected-note {{'flag' declared here}}
};
CLEAVE_ENTRY("POST /bits") int bits(Bitty x) { return x.flag; }
// expected-error@-1 {{Bitty.flag: bit-field 'flag' cannot be bound to a reference}}

enum { Anonymous1, Anonymous2 } anonymous_enum_state;
// Anonymous enumerations cannot be named by generated code.
struct UsesAnonEnum {
  decltype(anonymous_enum_state) e;
};
// expected-note@-5 {{declared here}}
CLEAVE_ENTRY("POST /ae") int ae(UsesAnonEnum x) { return (int)x.e; }
// expected-error@-1 {{UsesAnonEnum.e: 'decltype(anonymous_enum_state)' is an anonymous enumeration; generated code cannot name it}}

// Everything supported, together, is accepted: const references, nested
// classes with private members and private bases, every standard container,
// enums, recursion through a vector.
enum class Color { Red, Green };
struct Node {
  std::string name;
  std::vector<Node> children;
};
class Audit {
  std::vector<std::string> notes;
};
class Account : private Audit {
public:
  Account() : balance(0) {}
  ~Account() {}

private:
  long balance;
  Color color = Color::Red;
};
struct Everything {
  bool b = false;
  char c = 0;
  unsigned long long u = 0;
  long double d = 0;
  Color color = Color::Red;
  std::optional<std::string> note;
  std::map<std::string, std::vector<int>> index;
  std::map<int, std::string> byId;
  std::map<std::pair<int, int>, Color> grid;
  std::multimap<Color, Node> multi;
  std::set<std::string> tags;
  std::deque<Account> accounts;
  std::tuple<int, std::string> t;
  std::variant<std::monostate, int, Node> v;
  std::array<double, 2> xy{};
  Node tree;
};
CLEAVE_ENTRY("POST /ok") Everything ok(const Everything &e, Node n) { (void)n; return e; }
CLEAVE_STATE() std::map<Color, Account> accounts;
