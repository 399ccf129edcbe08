//===- RedisServer.h - A private redis-server for tests ---------*- C++ -*-===//
//
// Starts a real `redis-server` as a child process on a free loopback port,
// with persistence off, and stops it when the RedisServer is destroyed. The
// store tests (unittests/Runtime) and StoreBench (bench/) share it; it
// needs hiredis and nothing of GoogleTest.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_UNITTESTS_RUNTIME_REDISSERVER_H
#define CLEAVE_UNITTESTS_RUNTIME_REDISSERVER_H

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cleave::test {

/// A loopback TCP port that nothing listens on right now: the kernel's
/// choice for a socket bound to port 0, closed again. Another process may
/// take it before the caller does; RedisServer::start tries again then.
/// 0 on failure.
inline int freeLoopbackPort() {
  int Fd = socket(AF_INET, SOCK_STREAM, 0);
  if (Fd < 0)
    return 0;
  sockaddr_in Addr{};
  Addr.sin_family = AF_INET;
  Addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Addr.sin_port = 0;
  socklen_t Len = sizeof(Addr);
  int Port = 0;
  if (bind(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof(Addr)) == 0 &&
      getsockname(Fd, reinterpret_cast<sockaddr *>(&Addr), &Len) == 0)
    Port = ntohs(Addr.sin_port);
  close(Fd);
  return Port;
}

/// The full path of \p Program found on $PATH, or "" when it is not there.
inline std::string findOnPath(std::string_view Program) {
  const char *Path = std::getenv("PATH");
  std::string_view Dirs = Path ? Path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t Colon = Dirs.find(':');
    std::string Dir(Dirs.substr(0, Colon));
    std::string Candidate =
        (Dir.empty() ? std::string(".") : Dir) + "/" + std::string(Program);
    if (access(Candidate.c_str(), X_OK) == 0)
      return Candidate;
    if (Colon == std::string_view::npos)
      return "";
    Dirs.remove_prefix(Colon + 1);
  }
}

/// Sends one command on a fresh connection; true when the reply is not an
/// error. For the tests' own set-up (FLUSHALL, PING).
inline bool redisSimpleCommand(int Port,
                               std::initializer_list<std::string_view> Args,
                               std::string *Reply = nullptr) {
  timeval Tv{1, 0};
  redisContext *C = redisConnectWithTimeout("127.0.0.1", Port, Tv);
  if (!C || C->err) {
    if (C)
      redisFree(C);
    return false;
  }
  std::vector<const char *> Argv;
  std::vector<size_t> Lens;
  for (std::string_view A : Args) {
    Argv.push_back(A.data());
    Lens.push_back(A.size());
  }
  auto *R = static_cast<redisReply *>(redisCommandArgv(
      C, static_cast<int>(Argv.size()), Argv.data(), Lens.data()));
  bool Ok = R && R->type != REDIS_REPLY_ERROR;
  if (Ok && Reply && R->str)
    *Reply = std::string(R->str, R->len);
  if (R)
    freeReplyObject(R);
  redisFree(C);
  return Ok;
}

/// A redis-server child process, stopped (SIGTERM, then SIGKILL) on
/// destruction.
class RedisServer {
public:
  /// Starts redis-server on a free loopback port and waits until it answers
  /// PING. On failure returns null and says why in \p Why. With \p Port
  /// nonzero, uses that port (to restart a server where a client expects
  /// it).
  static std::unique_ptr<RedisServer> start(std::string &Why, int Port = 0) {
    std::string Binary = findOnPath("redis-server");
    if (Binary.empty()) {
      Why = "redis-server is not installed (it is not on PATH); install it "
            "with scripts/install-deps.sh (Debian package redis-server)";
      return nullptr;
    }
    // A port that was free a moment ago may be taken by the time the server
    // binds it: try a few.
    for (int Attempt = 0; Attempt < 5; ++Attempt) {
      int P = Port ? Port : freeLoopbackPort();
      if (P == 0) {
        Why = std::string("cannot find a free port: ") + std::strerror(errno);
        return nullptr;
      }
      std::unique_ptr<RedisServer> S(new RedisServer());
      if (S->launch(Binary, P, Why))
        return S;
      if (Port)
        return nullptr;
    }
    return nullptr;
  }

  RedisServer(const RedisServer &) = delete;
  RedisServer &operator=(const RedisServer &) = delete;

  ~RedisServer() { stop(); }

  int port() const { return Port; }

  /// Stops the server: SIGTERM, and SIGKILL if it has not exited in 5 s.
  void stop() {
    if (Pid <= 0)
      return;
    kill(Pid, SIGTERM);
    for (int I = 0; I < 500; ++I) {
      if (waitpid(Pid, nullptr, WNOHANG) == Pid) {
        Pid = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(Pid, SIGKILL);
    waitpid(Pid, nullptr, 0);
    Pid = -1;
  }

  /// Empties every database of the server; false if it did not answer.
  bool flushAll() const { return redisSimpleCommand(Port, {"FLUSHALL"}); }

private:
  RedisServer() = default;

  bool launch(const std::string &Binary, int P, std::string &Why) {
    std::string PortText = std::to_string(P);
    std::string Dir = std::filesystem::temp_directory_path().string();
    pid_t Child = fork();
    if (Child < 0) {
      Why = std::string("cannot fork redis-server: ") + std::strerror(errno);
      return false;
    }
    if (Child == 0) {
      // The server must not outlive a test that crashes.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int Null = open("/dev/null", O_RDWR);
      if (Null >= 0) {
        dup2(Null, STDIN_FILENO);
        dup2(Null, STDOUT_FILENO);
      }
      // stderr stays: a server that cannot start says why there.
      execl(Binary.c_str(), Binary.c_str(), "--port", PortText.c_str(),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", Dir.c_str(), "--loglevel", "warning",
            static_cast<char *>(nullptr));
      _exit(127);
    }
    Pid = Child;
    Port = P;
    auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < Deadline) {
      int Status = 0;
      if (waitpid(Pid, &Status, WNOHANG) == Pid) {
        Pid = -1;
        Why = "redis-server exited at start on port " + PortText + " (status " +
              std::to_string(Status) + ")";
        return false;
      }
      std::string Pong;
      if (redisSimpleCommand(Port, {"PING"}, &Pong) && Pong == "PONG")
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Why = "redis-server on port " + PortText + " did not answer PING in 10 s";
    stop();
    return false;
  }

  pid_t Pid = -1;
  int Port = 0;
};

} // namespace cleave::test

#endif // CLEAVE_UNITTESTS_RUNTIME_REDISSERVER_H
