#include <string>
inline std::string suffix() { return "!"; }
