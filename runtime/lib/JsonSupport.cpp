//===- JsonSupport.cpp - JSON parsing and printing, compiled once --------===//
//
// The parts of codec.h that are the same for every program: the parser
// (with ExactSax, which keeps what a number says), the printer and the
// order of unordered containers. Built into libcleave_support.a, which
// every handler library links, so that no generated unit compiles
// nlohmann's parser or serializer again.
//
//===----------------------------------------------------------------------===//

#include "cleave/codec.h"

namespace cleave {
namespace codec {

bool exactInteger(const std::string &Raw, std::uint64_t &Magnitude,
                  bool &Negative) {
  size_t I = 0;
  Negative = I < Raw.size() && Raw[I] == '-';
  if (Negative)
    ++I;
  std::string Digits;
  long long Exponent = 0;
  for (; I < Raw.size() && std::isdigit(static_cast<unsigned char>(Raw[I])); ++I)
    Digits += Raw[I];
  if (I < Raw.size() && Raw[I] == '.')
    for (++I; I < Raw.size() && std::isdigit(static_cast<unsigned char>(Raw[I]));
         ++I) {
      Digits += Raw[I];
      --Exponent;
    }
  if (I < Raw.size() && (Raw[I] == 'e' || Raw[I] == 'E')) {
    ++I;
    bool NegExp = I < Raw.size() && Raw[I] == '-';
    if (I < Raw.size() && (Raw[I] == '-' || Raw[I] == '+'))
      ++I;
    long long E = 0;
    for (; I < Raw.size() && std::isdigit(static_cast<unsigned char>(Raw[I]));
         ++I)
      E = std::min(E * 10 + (Raw[I] - '0'), 100000LL);
    Exponent += NegExp ? -E : E;
  }
  if (I != Raw.size())
    return false;
  size_t First = Digits.find_first_not_of('0');
  if (First == std::string::npos) {
    Magnitude = 0;
    return true;
  }
  Digits.erase(0, First);
  while (Exponent < 0 && !Digits.empty() && Digits.back() == '0') {
    Digits.pop_back();
    ++Exponent;
  }
  if (Exponent < 0 ||
      static_cast<long long>(Digits.size()) + Exponent > 20)
    return false;
  Digits.append(static_cast<size_t>(Exponent), '0');
  std::uint64_t V = 0;
  for (char C : Digits) {
    unsigned D = static_cast<unsigned>(C - '0');
    if (V > (std::numeric_limits<std::uint64_t>::max() - D) / 10)
      return false;
    V = V * 10 + D;
  }
  Magnitude = V;
  return true;
}

namespace {

/// Builds a Json from JSON text without losing what a number says. A number
/// written with a fraction or an exponent that is exactly an integer
/// (`3.0`, `1e3`, `2.50e1`) is kept as that integer when it fits 64 bits, so
/// that an integer field takes it; any other such number is a double, which
/// an integer field refuses. nlohmann::json alone would read
/// `1.00000000000000001` as the double 1.0, which an integer field could
/// not tell from `1`. Builds with a stack of its own, so deep nesting does
/// not recurse.
class ExactSax {
public:
  explicit ExactSax(Json &Root) : Root(Root) {}

  bool null() { return put(Json(nullptr)); }
  bool boolean(bool B) { return put(Json(B)); }
  bool number_integer(std::int64_t I) { return put(Json(I)); }
  bool number_unsigned(std::uint64_t U) { return put(Json(U)); }
  bool number_float(double D, const std::string &Raw) {
    std::uint64_t Magnitude = 0;
    bool Negative = false;
    if (codec::exactInteger(Raw, Magnitude, Negative)) {
      if (!Negative)
        return put(Json(Magnitude));
      if (Magnitude == 0)
        return put(Json(D)); // -0.0 stays a double: its sign is its value
      if (Magnitude <= static_cast<std::uint64_t>(
                           std::numeric_limits<std::int64_t>::max()) +
                           1)
        return put(Json(static_cast<std::int64_t>(0 - Magnitude)));
    }
    return put(Json(D));
  }
  bool string(std::string &S) { return put(Json(std::move(S))); }
  bool binary(Json::binary_t &B) { return put(Json(std::move(B))); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool key(std::string &K) {
    Keys.back() = K;
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &E) {
    std::string What = E.what();
    // "[json.exception.parse_error.101] parse error at line 1, ..."
    if (auto End = What.find("] "); What.rfind("[json.exception.", 0) == 0 &&
                                    End != std::string::npos)
      What = What.substr(End + 2);
    std::string Where = path();
    Error = Where.empty() ? What : "at '" + Where + "': " + What;
    return false;
  }

  /// Why the text is not JSON, with where in it; empty when it is.
  const std::string &error() const { return Error; }


private:
  bool put(Json V) {
    if (Stack.empty()) {
      Root = std::move(V);
      return true;
    }
    Json &Top = *Stack.back();
    if (Top.is_array()) {
      Top.push_back(std::move(V));
      ++Indices.back();
    } else {
      Top[Keys.back()] = std::move(V);
    }
    return true;
  }
  bool open(Json V) {
    if (Stack.size() >= MaxJsonDepth) {
      Error = "nested deeper than " + std::to_string(MaxJsonDepth) +
              " levels of arrays and objects";
      return false;
    }
    Json *Made;
    if (Stack.empty()) {
      Root = std::move(V);
      Made = &Root;
    } else if (Stack.back()->is_array()) {
      Stack.back()->push_back(std::move(V));
      Made = &Stack.back()->back();
    } else {
      Made = &((*Stack.back())[Keys.back()] = std::move(V));
    }
    Stack.push_back(Made);
    Keys.emplace_back();
    Indices.push_back(0);
    return true;
  }
  bool close() {
    Stack.pop_back();
    Keys.pop_back();
    Indices.pop_back();
    if (!Indices.empty() && Stack.back()->is_array())
      ++Indices.back();
    return true;
  }
  std::string path() const {
    std::string P;
    for (size_t I = 0; I < Stack.size(); ++I) {
      if (Stack[I]->is_array())
        P += "[" + std::to_string(Indices[I]) + "]";
      else if (!Keys[I].empty())
        P += (P.empty() ? "" : ".") + Keys[I];
    }
    return P;
  }

  Json &Root;
  std::vector<Json *> Stack;
  std::vector<std::string> Keys;
  std::vector<size_t> Indices;
  std::string Error;
};


} // namespace

bool parseJson(const char *Data, size_t Len, Json &Out, std::string &Error) {
  // nlohmann's lexer reads a NUL byte as the end of the input, which would
  // accept `{...}\0anything`. A raw NUL is never valid JSON (inside a
  // string it must be escaped), so it is refused here, wherever it is.
  if (const void *Nul = std::memchr(Data, 0, Len)) {
    Error = "syntax error at byte " +
            std::to_string(static_cast<const char *>(Nul) - Data + 1) +
            ": a NUL byte is not valid JSON";
    return false;
  }
  ExactSax Sax(Out);
  bool OK = Json::sax_parse(Data, Data + Len, &Sax);
  if (!OK)
    Error = Sax.error().empty() ? "not valid JSON" : Sax.error();
  return OK;
}

std::string dumpJson(const Json &J) {
  return J.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace detail {
void sortJson(Json::array_t &Values) {
  std::sort(Values.begin(), Values.end());
}
} // namespace detail

} // namespace codec
} // namespace cleave
