// The server's streamed bodies, over a real socket: request bodies handed to the handler chunk by chunk
// (RouteOptions::stream_body), with the route's limit, the body timeout, 100-continue on first read and a
// client that leaves mid-body; and response bodies streamed from a BodySource.
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <utility>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "http/http_metrics.hpp"
#include "http/pipeline.hpp"
#include "lib/error.hpp"
#include "lib/metrics/metrics.hpp"
#include "lib/web/body_source.hpp"

namespace poste::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using web::RequestContext;
using web::Response;
using web::Task;

// Serves a few routes on a loopback port in a background thread.
class StreamServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = router.Root();
    web::RouteOptions streamed;
    streamed.stream_body = true;
    streamed.body_limit = 100000;
    // Reads the whole body in small chunks; answers "<bytes> <chunks>".
    root.Post(
        "/upload",
        [this](RequestContext& ctx) -> Task<Response> {
          auto& body = web::BodyOf(ctx.request);
          std::size_t total = 0, chunks = 0;
          char buf[1000];
          try {
            for (std::size_t n; (n = co_await body.Read(buf)) > 0;) total += n, ++chunks;
          } catch (const AppError& e) {
            std::lock_guard lock(mu);
            failures.push_back(e.status());
            throw;
          }
          co_return Response::Text(200, std::to_string(total) + " " + std::to_string(chunks));
        },
        streamed);
    // Refuses before reading the body (as an authentication middleware would).
    root.Post(
        "/refuse", [](RequestContext&) -> Task<Response> { co_return Response::Text(401, "no"); }, streamed);
    root.Post("/buffered", [](RequestContext& ctx) -> Task<Response> {
      co_return Response::Text(200, std::to_string(ctx.request.body.size()));
    });
    root.Get("/stream", [](RequestContext&) -> Task<Response> {
      static const std::string data = [] {
        std::string s;
        for (int i = 0; i < 50000; ++i) s += static_cast<char>('a' + i % 26);
        return s;
      }();
      Response r = Response::Text(200, "");
      r.stream = std::make_shared<web::StringBodySource>(data);
      co_return r;
    });
    // A large answer shared from memory (as a cached answer is): more than the socket takes at once.
    root.Get("/big", [](RequestContext&) -> Task<Response> {
      static const auto data = std::make_shared<const std::string>(8 << 20, 'b');
      Response r = Response::Text(200, "");
      r.stream = std::make_shared<web::StringBodySource>(*data, data);
      co_return r;
    });
    pipeline = std::make_unique<Pipeline>(router, PipelineOptions{1024, {}, false, false}, &http_metrics);
    ServerOptions options;
    options.port = 0;
    options.body_timeout = std::chrono::milliseconds(300);
    options.drain_timeout = std::chrono::milliseconds(2000);
    server = std::make_unique<Server>(options, *pipeline);
    server->Listen();
    thread = std::thread([this] { server->Run(); });
  }
  void TearDown() override {
    server->Shutdown();
    thread.join();
  }

  tcp::socket Connect() {
    tcp::socket s(client_io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->Port()));
    return s;
  }
  static void Send(tcp::socket& s, const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }
  // Reads one response: head and Content-Length body. Bytes past it (the next pipelined answer, which may
  // arrive in the same read) are kept for the next call on that socket.
  std::string ReadResponse(tcp::socket& s, bool head = false) {
    std::string data = std::exchange(pending[s.native_handle()], {});
    std::vector<char> buf(64 * 1024);
    boost::system::error_code ec;
    std::size_t end = std::string::npos;  // of the response, once its head is known
    for (;;) {
      if (end == std::string::npos) {
        if (auto head_end = data.find("\r\n\r\n"); head_end != std::string::npos) {
          auto cl = data.find("Content-Length: ");
          end = head_end + 4 + (cl < head_end && !head ? std::stoul(data.substr(cl + 16)) : 0);
        }
      }
      if (data.size() >= end) {
        pending[s.native_handle()] = data.substr(end);
        data.resize(end);
        return data;
      }
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) return data;
      data.append(buf.data(), n);
    }
  }
  static std::string Body(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }
  // True when the server closed the connection (EOF or reset) within a second.
  static bool Closed(tcp::socket& s) {
    char c;
    boost::system::error_code ec;
    s.non_blocking(false);
    ::timeval tv{1, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    s.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  std::vector<int> Failures() {
    std::lock_guard lock(mu);
    return failures;
  }

  metrics::Registry registry;
  HttpMetrics http_metrics{registry};
  web::Router router;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<Server> server;
  std::thread thread;
  asio::io_context client_io;
  std::mutex mu;
  std::vector<int> failures;
  std::map<int, std::string> pending;  // per socket: bytes read past the last response
};

TEST_F(StreamServerTest, BodyArrivesInChunksAndTheConnectionStaysOpen) {
  auto s = Connect();
  const std::string body(5000, 'x');
  Send(s, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + body.substr(0, 1200));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Send(s, body.substr(1200));
  auto r = ReadResponse(s);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
  EXPECT_TRUE(Body(r).starts_with("5000 ")) << r;
  EXPECT_GE(std::stoi(Body(r).substr(5)), 5) << "read in the handler's 1000-byte chunks";
  // Keep-alive: the next request (pipelined with its body) on the same connection.
  Send(s,
       "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
       "POST /buffered HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(Body(ReadResponse(s)), "7 1") << "a chunked body, chunk boundaries invisible to the handler";
  EXPECT_EQ(Body(ReadResponse(s)), "2") << "the request after a streamed one is read normally";
}

TEST_F(StreamServerTest, EmptyBodyReadsAsEnd) {
  auto s = Connect();
  Send(s, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(Body(ReadResponse(s)), "0 0");
}

TEST_F(StreamServerTest, LimitsAnswer413BeforeOrDuringTheBody) {
  auto declared = Connect();
  Send(declared, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100001\r\n\r\n");
  EXPECT_TRUE(ReadResponse(declared).starts_with("HTTP/1.1 413"));
  auto chunked = Connect();
  std::string big(60000, 'y');
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", big.size());
  Send(chunked, "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  Send(chunked, size + big + "\r\n" + size + big + "\r\n0\r\n\r\n");
  auto r = ReadResponse(chunked);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 413")) << r.substr(0, 200);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_EQ(Failures(), std::vector<int>{413}) << "the handler saw the 413 and could clean up";
}

TEST_F(StreamServerTest, AClientLeavingMidBodyFailsTheHandlersRead) {
  {
    auto s = Connect();
    Send(s, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n" + std::string(20000, 'z'));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }  // closed mid-body
  for (int i = 0; i < 100 && Failures().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(Failures(), std::vector<int>{400});
}

TEST_F(StreamServerTest, AStalledBodyTimesOutWith408) {
  auto s = Connect();
  Send(s, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n" + std::string(100, 'z'));
  auto r = ReadResponse(s);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 408")) << r;
  EXPECT_EQ(Failures(), std::vector<int>{408});
}

TEST_F(StreamServerTest, ContinueIsSentOnlyWhenTheHandlerReads) {
  auto s = Connect();
  Send(s, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  char buf[64];
  std::size_t n = s.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n), "HTTP/1.1 100 Continue\r\n\r\n");
  Send(s, "abc");
  EXPECT_EQ(Body(ReadResponse(s)), "3 1");

  auto refused = Connect();
  Send(refused, "POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 90000\r\nExpect: 100-continue\r\n\r\n");
  auto r = ReadResponse(refused);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 401")) << "no 100 Continue before a refusal: " << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << "the unread body ends the connection";
  EXPECT_TRUE(Closed(refused));
}

TEST_F(StreamServerTest, AnUnreadBodyEndsTheConnectionAfterTheAnswer) {
  auto s = Connect();
  Send(s, "POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n" + std::string(20000, 'q'));
  auto r = ReadResponse(s);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 401")) << r;
  EXPECT_TRUE(Closed(s));
}

TEST_F(StreamServerTest, ResponsesStreamFromTheirSource) {
  auto s = Connect();
  Send(s, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = ReadResponse(s);
  EXPECT_NE(r.find("Content-Length: 50000\r\n"), std::string::npos);
  auto body = Body(r);
  ASSERT_EQ(body.size(), 50000u);
  EXPECT_EQ(body.substr(0, 3), "abc");
  EXPECT_EQ(body[49999], static_cast<char>('a' + 49999 % 26));
  Send(s, "HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  auto head = ReadResponse(s, true);
  EXPECT_NE(head.find("Content-Length: 50000\r\n"), std::string::npos);
  // A HEAD answer has no body: the next answer follows at once.
  Send(s, "POST /buffered HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(Body(ReadResponse(s)), "1");
}

TEST_F(StreamServerTest, AnAnswerLargerThanTheSocketTakesWaitsForTheReader) {
  auto s = Connect();
  Send(s, "GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET /big HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server fills the socket and waits
  for (int i = 0; i < 2; ++i) {
    auto r = ReadResponse(s);
    EXPECT_NE(r.find("Content-Length: 8388608\r\n"), std::string::npos);
    auto body = Body(r);
    ASSERT_EQ(body.size(), 8u << 20) << "response " << i;
    EXPECT_EQ(body.find_first_not_of('b'), std::string::npos);
  }
}

}  // namespace
}  // namespace poste::http
