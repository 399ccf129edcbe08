//===- cleave-run.cpp - Serve a compiled Cleave deployment ----------------===//
//
// `cleave-run OUT` loads OUT/manifest.yaml and the handler library it names,
// and serves every entry over HTTP until SIGTERM or SIGINT. Only option
// parsing and wiring live here; the work is in the runtime library.
//
//===----------------------------------------------------------------------===//

#include "cleave/Manifest.h"
#include "cleave/Module.h"
#include "cleave/Server.h"
#include "cleave/StateStore.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <string>
#include <string_view>

using namespace cleave::rt;

namespace {

constexpr const char *Usage =
    "usage: cleave-run OUT [--port N] [--host H] [--state STORE] [limits]\n"
    "\n"
    "Serves the entries of a compiled Cleave deployment over HTTP until\n"
    "SIGTERM or SIGINT.\n"
    "\n"
    "  OUT              the output folder of `cleave build` (holding\n"
    "                   manifest.yaml), or the manifest file itself\n"
    "  --port N         TCP port (default 8080; 0 picks a free port)\n"
    "  --host H         interface to listen on (default 127.0.0.1)\n"
    "  --max-body BYTES largest request body accepted (default 6291456)\n"
    "  --max-header BYTES\n"
    "                   largest header field section (default 16384;\n"
    "                   larger gets 431)\n"
    "  --max-url BYTES  longest request target (default 8192; longer gets\n"
    "                   414)\n"
    "  --header-timeout MS\n"
    "                   time to receive a request's head (default 10000;\n"
    "                   slower gets 408)\n"
    "  --body-timeout MS\n"
    "                   time to receive a body (default 30000)\n"
    "  --idle-timeout MS\n"
    "                   an idle keep-alive connection closes after this\n"
    "                   (default 30000)\n"
    "  --max-connections N\n"
    "                   open connections (default 10000, at most what the\n"
    "                   descriptor limit allows); more wait to be accepted\n"
    "  --max-requests-per-connection N\n"
    "                   then the connection closes (default 1000; 0: no\n"
    "                   limit)\n"
    "  --threads N      threads that run functions (default: twice the\n"
    "                   hardware threads, at least 8)\n"
    "  --max-queue N    requests waiting for a thread (default 1024; more\n"
    "                   get 503 with Retry-After)\n"
    "  --max-function-queue N\n"
    "                   requests waiting for one function at its\n"
    "                   concurrency limit (default 256; more get 429)\n"
    "  --idempotency-ttl SECONDS\n"
    "                   how long an Idempotency-Key holds its answer\n"
    "                   (default 86400)\n"
    "  --drain-timeout MS\n"
    "                   on SIGTERM, how long requests in flight may take\n"
    "                   (default 10000)\n"
    "  --step-workers N workers that run the steps of functions cut at\n"
    "                   boundaries (default: one per hardware thread, at\n"
    "                   least 2)\n"
    "  --state STORE    where program state lives: an SQLite file\n"
    "                   (default OUT/.cleave/state.db; sqlite:PATH for\n"
    "                   another), memory (lost on exit), or\n"
    "                   redis://HOST:PORT\n"
    "  --auth-token-file FILE\n"
    "                   bearer tokens that may call the entries, one per\n"
    "                   line, each optionally after a caller name; every\n"
    "                   entry then requires one unless it says auth=none\n"
    "  --durability MODE\n"
    "                   normal (default): an acknowledged write survives\n"
    "                   the process, not a power cut; fsync: it survives\n"
    "                   both (SQLite only; commits are grouped)\n"
    "  --skip-integrity-check\n"
    "                   serve from an SQLite file that SQLite's quick_check\n"
    "                   finds damaged (by default cleave-run refuses it)\n"
    "  --help           show this message\n";

struct Options {
  std::string Out;
  std::string State;
  std::string TokenFile;
  bool Fsync = false;
  bool CheckIntegrity = true;
  ServerOptions Server;
};

int usageError(std::string_view Message) {
  fmt::print(stderr, "cleave-run: error: {}\n{}", Message, Usage);
  return 2;
}

template <class T> std::optional<T> parseNumber(std::string_view Text) {
  T V{};
  auto [End, Ec] = std::from_chars(Text.data(), Text.data() + Text.size(), V);
  if (Ec != std::errc() || End != Text.data() + Text.size())
    return std::nullopt;
  return V;
}

/// Parses the command line into \p O. Returns an exit code when the program
/// should stop (0 after --help, 2 after a usage error), else std::nullopt.
std::optional<int> parseOptions(int Argc, char **Argv, Options &O) {
  bool HaveOut = false;
  bool OptionsEnded = false; // After "--", everything is positional.
  for (int I = 1; I < Argc; ++I) {
    std::string_view Arg = Argv[I];
    if (!OptionsEnded && Arg == "--") {
      OptionsEnded = true;
      continue;
    }
    if (!OptionsEnded && (Arg == "--help" || Arg == "-h")) {
      fmt::print("{}", Usage);
      return 0;
    }
    if (!OptionsEnded && Arg == "--skip-integrity-check") {
      O.CheckIntegrity = false;
      continue;
    }
    if (OptionsEnded || Arg.empty() || Arg.front() != '-') {
      if (HaveOut)
        return usageError(fmt::format("unexpected argument '{}'", Arg));
      O.Out = Arg;
      HaveOut = true;
      continue;
    }
    // Both `--port N` and `--port=N`.
    std::string_view Name = Arg, Value;
    bool Inline = false;
    if (size_t Eq = Arg.find('='); Eq != std::string_view::npos) {
      Name = Arg.substr(0, Eq);
      Value = Arg.substr(Eq + 1);
      Inline = true;
    }
    static const std::string_view Known[] = {
        "--port",          "--host",
        "--max-body",      "--threads",
        "--step-workers",  "--state",
        "--max-header",    "--max-url",
        "--header-timeout", "--body-timeout",
        "--idle-timeout",  "--max-connections",
        "--max-requests-per-connection",
        "--max-queue",     "--max-function-queue",
        "--drain-timeout", "--auth-token-file", "--idempotency-ttl",
        "--durability"};
    if (std::find(std::begin(Known), std::end(Known), Name) == std::end(Known))
      return usageError(fmt::format("unknown option '{}'", Name));
    if (!Inline) {
      if (I + 1 >= Argc)
        return usageError(fmt::format("option '{}' needs a value", Name));
      Value = Argv[++I];
    }
    if (Name == "--durability") {
      if (Value != "normal" && Value != "fsync")
        return usageError(fmt::format(
            "invalid durability '{}'; expected normal or fsync", Value));
      O.Fsync = Value == "fsync";
    } else if (Name == "--auth-token-file") {
      if (Value.empty())
        return usageError("option '--auth-token-file' needs a value");
      O.TokenFile = Value;
    } else if (Name == "--state") {
      if (Value.empty())
        return usageError("option '--state' needs a value");
      O.State = Value;
    } else if (Name == "--host") {
      if (Value.empty())
        return usageError("option '--host' needs a value");
      O.Server.Host = Value;
    } else if (Name == "--port") {
      auto Port = parseNumber<int>(Value);
      if (!Port || *Port < 0 || *Port > 65535)
        return usageError(fmt::format("invalid port '{}'", Value));
      O.Server.Port = *Port;
    } else if (Name == "--max-body") {
      auto Bytes = parseNumber<size_t>(Value);
      if (!Bytes)
        return usageError(fmt::format("invalid body size '{}'", Value));
      O.Server.MaxBodyBytes = *Bytes;
    } else if (Name != "--threads" && Name != "--step-workers") {
      // The limits: non-negative counts, or milliseconds.
      auto N = parseNumber<uint64_t>(Value);
      bool Positive = Name != "--max-requests-per-connection";
      if (!N || (Positive && *N == 0) || *N > (uint64_t(1) << 40))
        return usageError(
            fmt::format("invalid value '{}' for '{}'", Value, Name));
      http::Limits &L = O.Server.Http;
      auto Ms = std::chrono::milliseconds(*N);
      if (Name == "--max-header")
        L.MaxHeaderBytes = *N;
      else if (Name == "--max-url")
        L.MaxTargetBytes = *N;
      else if (Name == "--header-timeout")
        L.HeaderTimeout = Ms;
      else if (Name == "--body-timeout")
        L.BodyTimeout = Ms;
      else if (Name == "--idle-timeout")
        L.IdleTimeout = Ms;
      else if (Name == "--max-connections")
        L.MaxConnections = *N;
      else if (Name == "--max-requests-per-connection")
        L.MaxRequestsPerConnection = *N;
      else if (Name == "--max-queue")
        O.Server.MaxQueued = *N;
      else if (Name == "--max-function-queue")
        O.Server.MaxQueuedPerFunction = *N;
      else if (Name == "--idempotency-ttl")
        O.Server.IdempotencyTtl = *N;
      else
        O.Server.Drain = Ms;
    } else {
      auto Threads = parseNumber<unsigned>(Value);
      if (!Threads || *Threads == 0)
        return usageError(fmt::format("invalid {} count '{}'",
                                      Name == "--threads" ? "thread" : "worker",
                                      Value));
      (Name == "--threads" ? O.Server.Threads : O.Server.StepWorkers) = *Threads;
    }
  }
  if (!HaveOut)
    return usageError("no output folder given");
  return std::nullopt;
}

int fail(const Error &E) {
  if (E.isLocated())
    fmt::print(stderr, "{}\n", E.message());
  else
    fmt::print(stderr, "cleave-run: error: {}\n", E.message());
  return 1;
}

} // namespace

int main(int Argc, char **Argv) {
  Options O;
  if (std::optional<int> Exit = parseOptions(Argc, Argv, O))
    return *Exit;

  std::error_code Ec;
  std::string ManifestPath = O.Out;
  if (std::filesystem::is_directory(O.Out, Ec))
    ManifestPath = (std::filesystem::path(O.Out) / "manifest.yaml").string();

  Result<Manifest> M = loadManifest(ManifestPath);
  if (!M)
    return fail(M.error());
  Result<std::unique_ptr<Module>> Mod =
      Module::loadForManifest(*M, ManifestPath);
  if (!Mod)
    return fail(Mod.error());

  // Each connection is a descriptor: raise the soft limit to the hard one,
  // and keep the connection limit under it with room for the store's files.
  if (rlimit Files{}; getrlimit(RLIMIT_NOFILE, &Files) == 0) {
    if (Files.rlim_cur < Files.rlim_max) {
      Files.rlim_cur = Files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &Files);
      getrlimit(RLIMIT_NOFILE, &Files);
    }
    if (Files.rlim_cur != RLIM_INFINITY && Files.rlim_cur > 128)
      O.Server.Http.MaxConnections = std::min<size_t>(
          O.Server.Http.MaxConnections, Files.rlim_cur - 64);
  }

  // Block the stop signals before any thread exists, so every server thread
  // inherits the mask and only sigwait below ever sees them: the shutdown
  // then runs as ordinary code, not in a signal handler.
  sigset_t Stop;
  sigemptyset(&Stop);
  sigaddset(&Stop, SIGTERM);
  sigaddset(&Stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &Stop, nullptr);

  if (!O.TokenFile.empty()) {
    auto Tokens = loadTokens(O.TokenFile);
    if (!Tokens)
      return fail(Tokens.error());
    O.Server.Tokens = Tokens.take();
    struct stat St {};
    if (::stat(O.TokenFile.c_str(), &St) == 0 && (St.st_mode & 077))
      fmt::print(stderr,
                 "cleave-run: warning: the token file '{}' may be read by "
                 "other users (mode {:o}); chmod 600 it\n",
                 O.TokenFile, St.st_mode & 0777);
  }
  bool Loopback = O.Server.Host == "localhost" || O.Server.Host == "::1" ||
                  O.Server.Host.rfind("127.", 0) == 0;
  if (!Loopback && O.Server.Tokens.empty()) {
    bool Open = false;
    for (const FunctionSpec &F : M->Functions)
      Open |= F.isEntry() && F.Auth != "token";
    if (Open)
      fmt::print(stderr,
                 "cleave-run: warning: serving on {} without authentication: "
                 "anyone who can reach the port can call the entries; give "
                 "--auth-token-file (docs/security.md)\n",
                 O.Server.Host);
  }

  // State lives beside the deployment unless told otherwise.
  std::string Spec = O.State;
  if (Spec.empty())
    Spec = "sqlite:" +
           (std::filesystem::path(ManifestPath).parent_path() / ".cleave" /
            "state.db")
               .lexically_normal()
               .string();
  Result<std::unique_ptr<StateStore>> Store = openStateStore(Spec, O.CheckIntegrity, O.Fsync);
  if (!Store)
    return fail(Store.error());
  O.Server.DurableState = Spec != "memory";
  Result<std::unique_ptr<Server>> S =
      Server::create(M.take(), **Mod, **Store, O.Server);
  if (!S)
    return fail(S.error());
  Result<int> Port = (*S)->start();
  if (!Port)
    return fail(Port.error());

  const std::string &Host = O.Server.Host;
  bool Bracket = Host.find(':') != std::string::npos; // An IPv6 literal.
  size_t Entries = (*S)->entryCount();
  fmt::print("cleave-run: serving {} {} on http://{}{}{}:{}\n", Entries,
             Entries == 1 ? "entry" : "entries", Bracket ? "[" : "", Host,
             Bracket ? "]" : "", *Port);
  std::fflush(stdout);

  int Signal = 0;
  sigwait(&Stop, &Signal);
  fmt::print(stderr, "cleave-run: stopping: answering the requests in "
                     "flight (at most {} ms)\n",
             O.Server.Drain.count());
  if (size_t Left = (*S)->stop()) {
    // A function that does not return must not keep the process: what it
    // had not committed is not acknowledged, and a durable store holds
    // nothing of it.
    fmt::print(stderr,
               "cleave-run: {} request{} still running after the drain "
               "time; exiting without {}\n",
               Left, Left == 1 ? "" : "s", Left == 1 ? "it" : "them");
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(1);
  }
  return 0;
}
