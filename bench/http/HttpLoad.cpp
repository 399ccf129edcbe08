//===- HttpLoad.cpp - A closed-loop HTTP load generator -------------------===//
//
// N clients, each on its own keep-alive connection and thread, send one
// request, wait for the whole answer, and send the next, for a fixed time
// after a warm-up. Prints one line of JSON: requests per second, latency
// percentiles, and how many answers were not 2xx or failed. The same
// generator drives every server the benchmark compares, so its own cost
// is the same on each side of a ratio.
//
//   HttpLoad HOST PORT PATH BODY CLIENTS SECONDS [WARMUP_SECONDS]
//
// "{client}" in BODY is replaced by each client's number.
//
//===----------------------------------------------------------------------===//

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Client {
  std::vector<double> Latencies; ///< microseconds, measured phase only
  long Errors = 0;
  long Non2xx = 0;
};

int connectTo(const char *Host, int Port) {
  int Fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in A{};
  A.sin_family = AF_INET;
  A.sin_port = htons(static_cast<uint16_t>(Port));
  ::inet_pton(AF_INET, Host, &A.sin_addr);
  if (::connect(Fd, reinterpret_cast<sockaddr *>(&A), sizeof(A)) != 0) {
    ::close(Fd);
    return -1;
  }
  int On = 1;
  ::setsockopt(Fd, IPPROTO_TCP, TCP_NODELAY, &On, sizeof(On));
  return Fd;
}

/// Reads one response; returns its status, or -1 on a broken connection.
int readResponse(int Fd, std::string &Pending, bool &Close) {
  size_t HeaderEnd;
  char Buf[16384];
  while ((HeaderEnd = Pending.find("\r\n\r\n")) == std::string::npos) {
    ssize_t N = ::recv(Fd, Buf, sizeof(Buf), 0);
    if (N <= 0)
      return -1;
    Pending.append(Buf, static_cast<size_t>(N));
  }
  int Status = std::atoi(Pending.c_str() + 9);
  size_t Length = 0;
  std::string Head = Pending.substr(0, HeaderEnd);
  for (char &C : Head)
    C = static_cast<char>(std::tolower(static_cast<unsigned char>(C)));
  if (size_t At = Head.find("content-length:"); At != std::string::npos)
    Length = std::strtoul(Head.c_str() + At + 15, nullptr, 10);
  Close = Head.find("connection: close") != std::string::npos;
  size_t Total = HeaderEnd + 4 + Length;
  while (Pending.size() < Total) {
    ssize_t N = ::recv(Fd, Buf, sizeof(Buf), 0);
    if (N <= 0)
      return -1;
    Pending.append(Buf, static_cast<size_t>(N));
  }
  Pending.erase(0, Total);
  return Status;
}

} // namespace

int main(int Argc, char **Argv) {
  if (Argc < 7) {
    std::fprintf(stderr, "usage: HttpLoad HOST PORT PATH BODY CLIENTS SECONDS "
                         "[WARMUP_SECONDS]\n");
    return 2;
  }
  const char *Host = Argv[1];
  int Port = std::atoi(Argv[2]);
  std::string Path = Argv[3], Body = Argv[4];
  int Clients = std::atoi(Argv[5]);
  double Seconds = std::atof(Argv[6]);
  double Warmup = Argc > 7 ? std::atof(Argv[7]) : 0.5;
  // "{client}" in the body stands for the client's number, so that each
  // client can work on its own key.
  auto RequestOf = [&](int Client) {
    std::string B = Body;
    if (size_t At = B.find("{client}"); At != std::string::npos)
      B.replace(At, 8, std::to_string(Client));
    return "POST " + Path +
           " HTTP/1.1\r\nHost: bench\r\nContent-Type: "
           "application/json\r\nContent-Length: " +
           std::to_string(B.size()) + "\r\n\r\n" + B;
  };

  auto Start = Clock::now();
  auto MeasureFrom = Start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(Warmup));
  auto End = MeasureFrom + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(Seconds));
  std::vector<Client> Results(static_cast<size_t>(Clients));
  std::vector<std::thread> Threads;
  for (int C = 0; C < Clients; ++C)
    Threads.emplace_back([&, C] {
      Client &Me = Results[static_cast<size_t>(C)];
      const std::string Request = RequestOf(C);
      int Fd = -1;
      std::string Pending;
      for (;;) {
        auto Now = Clock::now();
        if (Now >= End)
          break;
        if (Fd < 0) {
          Fd = connectTo(Host, Port);
          Pending.clear();
          if (Fd < 0) {
            ++Me.Errors;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
          }
        }
        auto Sent = Clock::now();
        bool Close = false;
        int Status = ::send(Fd, Request.data(), Request.size(), MSG_NOSIGNAL) ==
                             static_cast<ssize_t>(Request.size())
                         ? readResponse(Fd, Pending, Close)
                         : -1;
        auto Done = Clock::now();
        if (Status < 0 || Close) {
          ::close(Fd);
          Fd = -1;
        }
        if (Sent < MeasureFrom || Done > End)
          continue;
        if (Status < 0)
          ++Me.Errors;
        else if (Status < 200 || Status > 299)
          ++Me.Non2xx;
        Me.Latencies.push_back(
            std::chrono::duration<double, std::micro>(Done - Sent).count());
      }
      if (Fd >= 0)
        ::close(Fd);
    });
  for (std::thread &T : Threads)
    T.join();

  std::vector<double> All;
  long Errors = 0, Non2xx = 0;
  for (Client &C : Results) {
    All.insert(All.end(), C.Latencies.begin(), C.Latencies.end());
    Errors += C.Errors;
    Non2xx += C.Non2xx;
  }
  std::sort(All.begin(), All.end());
  auto Pct = [&](double P) {
    return All.empty() ? 0.0
                       : All[std::min(All.size() - 1,
                                      static_cast<size_t>(P * All.size()))];
  };
  std::printf("{\"clients\": %d, \"requests\": %zu, \"rps\": %.1f, "
              "\"p50_us\": %.0f, \"p99_us\": %.0f, \"max_us\": %.0f, "
              "\"errors\": %ld, \"non2xx\": %ld}\n",
              Clients, All.size(), All.size() / Seconds, Pct(0.5), Pct(0.99),
              All.empty() ? 0.0 : All.back(), Errors, Non2xx);
  return 0;
}
