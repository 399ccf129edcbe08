//===- BaselineServer.cpp - A hand-written server for one entry -----------===//
//
// The yardstick of the HTTP benchmark (bench/http/httpbench.py): the server
// a developer would write by hand around the same handler library, with
// Boost.Beast's synchronous API and a thread per connection. It does the
// same work per request as cleave-run (parse the request, run the entry's
// handler in a state transaction, commit, answer) and nothing else: no
// routing table, limits, timeouts, deadlines or idempotency.
//
//   BaselineServer MANIFEST PORT STATE ENTRY
//
// STATE is "memory" or "sqlite:PATH", ENTRY the function's name. Prints
// "listening on PORT" once it accepts connections.
//
//===----------------------------------------------------------------------===//

#include "cleave/Manifest.h"
#include "cleave/Module.h"
#include "cleave/StateStore.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace cleave::rt;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

struct Entry {
  const Module *Mod;
  StateStore *Store;
  StateLockTable *Locks;
  cleave_handler_fn_v1 Handler;
  std::vector<std::string> State;
};

void serve(tcp::socket Socket, const Entry &E) {
  beast::flat_buffer Buf;
  beast::error_code Ec;
  for (;;) {
    bhttp::request<bhttp::string_body> Req;
    bhttp::read(Socket, Buf, Req, Ec);
    if (Ec)
      return;
    bhttp::response<bhttp::string_body> Res{bhttp::status::ok, Req.version()};
    auto Txn = StateTransaction::begin(*E.Store, *E.Locks, E.State);
    if (!Txn) {
      Res.result(bhttp::status::internal_server_error);
    } else {
      const std::string &Args = Req.body();
      cleave_call_v1 Call{Args.data(), Args.size(), 0, (*Txn)->host()};
      cleave_reply_v1 Reply{500, nullptr, 0};
      E.Handler(&Call, &Reply);
      if (Reply.body)
        Res.body().assign(Reply.body, Reply.body_len);
      E.Mod->release(Reply.body);
      auto Committed = (*Txn)->commit();
      Res.result(Committed && *Committed == CommitStatus::Committed
                     ? static_cast<unsigned>(Reply.status)
                     : 500u);
    }
    Res.set(bhttp::field::content_type, "application/json");
    Res.keep_alive(Req.keep_alive());
    Res.prepare_payload();
    bhttp::write(Socket, Res, Ec);
    if (Ec || !Req.keep_alive())
      return;
  }
}

} // namespace

int main(int Argc, char **Argv) {
  if (Argc != 5) {
    std::fprintf(stderr,
                 "usage: BaselineServer MANIFEST PORT STATE ENTRY\n");
    return 2;
  }
  auto M = loadManifest(Argv[1]);
  if (!M) {
    std::fprintf(stderr, "%s\n", M.error().message().c_str());
    return 1;
  }
  auto Mod = Module::loadForManifest(*M, Argv[1]);
  if (!Mod) {
    std::fprintf(stderr, "%s\n", Mod.error().message().c_str());
    return 1;
  }
  auto Store = openStateStore(Argv[3], true);
  if (!Store) {
    std::fprintf(stderr, "%s\n", Store.error().message().c_str());
    return 1;
  }
  std::vector<std::string> All;
  for (const StateSpec &S : M->State)
    All.push_back(S.Name);
  StateLockTable Locks(All);
  Entry E{Mod->get(), Store->get(), &Locks, nullptr, {}};
  for (const FunctionSpec &F : M->Functions)
    if (F.Name == Argv[4]) {
      E.Handler = (*Mod)->find(F.Handler);
      for (const StateUse &U : F.State)
        E.State.push_back(U.Name);
    }
  if (!E.Handler) {
    std::fprintf(stderr, "no entry '%s'\n", Argv[4]);
    return 1;
  }
  std::sort(E.State.begin(), E.State.end());
  E.State.erase(std::unique(E.State.begin(), E.State.end()), E.State.end());

  boost::asio::io_context Io;
  tcp::acceptor Acceptor(
      Io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                        static_cast<unsigned short>(std::atoi(Argv[2]))));
  std::printf("listening on %d\n", Acceptor.local_endpoint().port());
  std::fflush(stdout);
  for (;;) {
    tcp::socket Socket(Io);
    Acceptor.accept(Socket);
    Socket.set_option(tcp::no_delay(true));
    std::thread(serve, std::move(Socket), std::cref(E)).detach();
  }
}
