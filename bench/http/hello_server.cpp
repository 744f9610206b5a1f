// The reference for Poste's HTTP benchmark: a minimal Boost.Beast HTTP/1.1 server built on C++20
// coroutines, answering every request with {"status":"ok"}. It does what any Beast coroutine server must
// (accept, parse, keep-alive loop, serialise, one timeout per operation) and nothing else, so
// "Poste / this" is the share of the raw framework's throughput that Poste keeps.
//
// Usage: bench_hello_server ADDRESS PORT [THREADS]   (THREADS: 0 or absent = one per core)
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kTimeout = std::chrono::seconds(30);
constexpr std::string_view kBody = R"({"status":"ok"})";

asio::awaitable<void> Session(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    stream.expires_after(kTimeout);
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // end of stream, timeout or bad request: close

    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body().assign(kBody.data(), kBody.size());
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> Listen(asio::io_context& ioc, tcp::acceptor& acceptor) {
  for (;;) {
    error_code ec;
    // Each connection gets its own strand, as a real server with timers and shared state would.
    tcp::socket socket(asio::make_strand(ioc));
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Session(beast::tcp_stream(std::move(socket))), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ADDRESS PORT [THREADS]\n", argv[0]);
    return 2;
  }
  try {
    auto address = asio::ip::make_address(argv[1]);
    auto port = static_cast<unsigned short>(std::atoi(argv[2]));
    int threads = argc > 3 ? std::atoi(argv[3]) : 0;
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    asio::io_context ioc(threads);
    tcp::acceptor acceptor(ioc);
    tcp::endpoint endpoint(address, port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&ioc](error_code, int) { ioc.stop(); });
    asio::co_spawn(ioc, Listen(ioc, acceptor), asio::detached);

    std::printf("bench_hello_server: listening on %s:%u with %d thread(s)\n", argv[1],
                acceptor.local_endpoint().port(), threads);
    std::fflush(stdout);

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_hello_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
