#include "lib/net/http_client.hpp"

#include <gtest/gtest.h>

#include "lib/net/testing/http_receiver.hpp"

namespace poste::net {
namespace {

using testing::HttpReceiver;
using testing::ScriptedResponse;

HttpClient Client(std::vector<std::string> allow = {"127.0.0.1", "::1"}) {
  return HttpClient({"Poste-Test/1", TargetPolicy::WithAllowList(allow)});
}

HttpErrorKind KindOf(const HttpClient& client, const std::string& url) {
  try {
    HttpRequest r;
    r.url = url;
    r.connect_timeout = std::chrono::milliseconds(500);
    r.total_timeout = std::chrono::milliseconds(1000);
    client.Send(r);
  } catch (const HttpError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error for " << url;
  return HttpErrorKind::kTransfer;
}

TEST(HttpClient, PostsAndReadsTheAnswer) {
  HttpReceiver receiver;
  receiver.Script({{201, R"({"ok":true})", {{"X-Reply", "yes"}}}});
  HttpRequest r;
  r.method = "POST";
  r.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook?x=1";
  r.headers = {{"Content-Type", "application/json"}, {"X-Custom", "v"}};
  r.body = R"({"a":1})";
  auto response = Client().Send(r);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_FALSE(response.truncated);
  EXPECT_GE(response.elapsed_ms, 0);
  bool found = false;
  for (const auto& [k, v] : response.headers) found = found || (k == "x-reply" && v == "yes");
  EXPECT_TRUE(found);
  EXPECT_EQ(response.Header("x-reply"), "yes");
  EXPECT_EQ(response.Header("x-absent"), "");
  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/hook?x=1");
  EXPECT_EQ(got[0].body, R"({"a":1})");
  EXPECT_EQ(got[0].headers["user-agent"], "Poste-Test/1");
  EXPECT_EQ(got[0].headers["x-custom"], "v");
  EXPECT_EQ(got[0].headers.count("expect"), 0u);
}

TEST(HttpResponse, HeaderIsTheFirstOfItsNameOrEmpty) {
  HttpResponse r;
  r.headers = {{"x-message-id", "first"}, {"x-message-id", "second"}, {"x-amzn-errortype", "MessageRejected:http"}};
  EXPECT_EQ(r.Header("x-message-id"), "first");
  EXPECT_EQ(r.Header("x-amzn-errortype"), "MessageRejected:http");
  EXPECT_EQ(r.Header("X-Message-Id"), "");  // names are kept in lower case: asked in lower case
  EXPECT_EQ(r.Header(""), "");
}

TEST(HttpClient, ReachesAHostNameThroughThePinnedAddress) {
  HttpReceiver receiver;
  // "localhost" is allowed by name here; the request goes to the address checked (loopback).
  HttpClient client({"Poste-Test/1", TargetPolicy::WithAllowList({"localhost"})});
  HttpRequest r;
  r.url = "http://localhost:" + std::to_string(receiver.port()) + "/";
  auto response = client.Send(r);
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(receiver.Count(), 1u);
  EXPECT_EQ(receiver.Requests()[0].headers["host"], "localhost:" + std::to_string(receiver.port()));
}

TEST(HttpClient, RefusesPrivateTargetsWithoutConnecting) {
  HttpReceiver receiver;
  const auto port = std::to_string(receiver.port());
  HttpClient strict({"Poste-Test/1", TargetPolicy()});
  for (const std::string& url :
       std::vector<std::string>{"http://127.0.0.1:" + port + "/", "http://10.0.0.1/", "http://[::1]:" + port + "/",
                                "http://169.254.169.254/latest/meta-data/", "http://localhost:" + port + "/",
                                "http://[::ffff:127.0.0.1]:" + port + "/", "http://0.0.0.0:" + port + "/",
                                "http://100.64.0.1/", "http://192.168.0.1/", "http://[fd00::1]/"}) {
    EXPECT_EQ(KindOf(strict, url), HttpErrorKind::kRefusedTarget) << url;
  }
  EXPECT_EQ(receiver.Count(), 0u) << "a refused target was connected to";
  // Allowed for 127.0.0.1 only: ::1 and other loopback addresses stay refused.
  auto v4_only = Client({"127.0.0.1"});
  EXPECT_EQ(KindOf(v4_only, "http://[::1]:" + port + "/"), HttpErrorKind::kRefusedTarget);
  EXPECT_EQ(KindOf(v4_only, "http://127.0.0.2:" + port + "/"), HttpErrorKind::kRefusedTarget);
}

TEST(HttpClient, DoesNotFollowRedirects) {
  HttpReceiver receiver;
  receiver.Script({{302, "", {{"Location", "http://169.254.169.254/latest/meta-data/"}}}});
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/";
  auto response = Client().Send(r);
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(receiver.Count(), 1u);
}

TEST(HttpClient, TimesOutKeepsOnlyTheFirstBytesAndRefusesHeaderInjection) {
  HttpReceiver receiver;
  receiver.Script({{200, "slow", {}, std::chrono::milliseconds(1500)}, {200, std::string(5000, 'x')}});
  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/";
  HttpRequest slow;
  slow.url = url;
  slow.total_timeout = std::chrono::milliseconds(300);
  try {
    Client().Send(slow);
    ADD_FAILURE() << "no timeout";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), HttpErrorKind::kTimeout);
  }
  HttpRequest big;
  big.url = url;
  big.max_response_bytes = 100;
  auto response = Client().Send(big);
  EXPECT_EQ(response.body.size(), 100u);
  EXPECT_TRUE(response.truncated);

  HttpRequest injected;
  injected.url = url;
  injected.headers = {{"X-A", "1\r\nX-Evil: 2"}};
  EXPECT_THROW(Client().Send(injected), HttpError);
  EXPECT_EQ(KindOf(Client(), "ftp://127.0.0.1/"), HttpErrorKind::kInvalidRequest);
}

TEST(HttpClient, ReportsConnectionFailures) {
  std::uint16_t closed_port = 0;
  {
    HttpReceiver gone;
    closed_port = gone.port();
  }
  EXPECT_EQ(KindOf(Client(), "http://127.0.0.1:" + std::to_string(closed_port) + "/"), HttpErrorKind::kConnect);
  EXPECT_EQ(KindOf(Client(), "http://no-such-host.invalid/"), HttpErrorKind::kResolve);
}

}  // namespace
}  // namespace poste::net
