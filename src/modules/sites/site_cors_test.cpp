#include "modules/sites/site_cors.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace poste::sites {
namespace {

constexpr std::array<std::string_view, 1> kMethods = {"POST"};
constexpr std::array<std::string_view, 2> kHeaders = {"content-type", "x-request-id"};
const PreflightPolicy kPolicy{"POST, OPTIONS", kMethods, kHeaders};

Site Alpha() {
  Site s;
  s.id = 1;
  s.slug = "alpha";
  s.domains = {"alpha.example.com", "www.alpha.example.com"};
  return s;
}

web::Request Asking(std::string origin, std::string method, std::string headers = {}) {
  web::Request r;
  r.method = "OPTIONS";
  r.headers.Add("Origin", std::move(origin));
  r.headers.Add("Access-Control-Request-Method", std::move(method));
  if (!headers.empty()) r.headers.Add("Access-Control-Request-Headers", std::move(headers));
  return r;
}

std::string Allowed(const web::Response& r) {
  return std::string(r.headers.Get("Access-Control-Allow-Origin").value_or(""));
}

TEST(SiteCors, OriginsAreTheDomainsOverHttpsAndHttp) {
  EXPECT_EQ(SiteOrigins(Alpha()),
            (std::vector<std::string>{"https://alpha.example.com", "http://alpha.example.com",
                                      "https://www.alpha.example.com", "http://www.alpha.example.com"}));
  EXPECT_TRUE(SiteOrigins(Site{}).empty());
}

TEST(SiteCors, AllowSiteOriginOnlyForAnExactOrigin) {
  const auto origins = SiteOrigins(Alpha());
  for (const std::string origin : {"https://alpha.example.com", "http://www.alpha.example.com"}) {
    web::Request request;
    request.headers.Add("Origin", origin);
    auto r = web::Response::Empty(204);
    AllowSiteOrigin(request, r, origins);
    EXPECT_EQ(Allowed(r), origin);
    EXPECT_EQ(r.headers.Get("Vary").value_or(""), "Origin");
  }
  for (const std::string origin : {"https://alpha.example.com.evil.net", "https://alpha.example.com/",
                                   "https://ALPHA.example.com", "null", "", "https://alpha.example.com\r\nX: y"}) {
    web::Request request;
    request.headers.Add("Origin", origin);
    auto r = web::Response::Empty(204);
    AllowSiteOrigin(request, r, origins);
    EXPECT_EQ(Allowed(r), "") << origin;
    EXPECT_EQ(r.headers.Get("Vary").value_or(""), "Origin") << "caches must keep answers per origin";
  }
  web::Request none;
  auto r = web::Response::Empty(204);
  AllowSiteOrigin(none, r, origins);
  EXPECT_EQ(Allowed(r), "");
}

TEST(SiteCors, PreflightGrantsOnlyWhatThePolicyAllows) {
  const auto origins = SiteOrigins(Alpha());
  const std::vector<std::string> extra = {"https://app.example.net"};
  auto ok =
      Preflight(Asking("https://alpha.example.com", "POST", " Content-Type ,X-Request-ID,, "), origins, extra, kPolicy);
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(Allowed(ok), "https://alpha.example.com");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Methods").value_or(""), "POST, OPTIONS");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Headers").value_or(""), "content-type, x-request-id");
  EXPECT_EQ(ok.headers.Get("Access-Control-Max-Age").value_or(""), "600");
  EXPECT_EQ(ok.headers.Get("Allow").value_or(""), "POST, OPTIONS");
  auto configured = Preflight(Asking("https://app.example.net", "POST"), origins, extra, kPolicy);
  EXPECT_EQ(Allowed(configured), "https://app.example.net");
  EXPECT_FALSE(configured.headers.Has("Access-Control-Allow-Headers"));

  for (const auto& request :
       {Asking("https://evil.example", "POST"), Asking("https://alpha.example.com", "GET"),
        Asking("https://alpha.example.com", "post"), Asking("https://alpha.example.com", "POST", "authorization"),
        Asking("https://alpha.example.com", "POST", "content-type, cookie"),
        Asking("https://alpha.example.com", "POST", "content-type\r\nset-cookie: a=b"),
        Asking("https://alpha.example.com", "POST", std::string(10000, ',') + "x-evil"),
        Asking("https://alpha.example.com", "POST", "content-type\xff")}) {
    auto r = Preflight(request, origins, extra, kPolicy);
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(Allowed(r), "");
    EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Methods"));
    EXPECT_EQ(r.headers.Get("Allow").value_or(""), "POST, OPTIONS");
  }
  web::Request no_method;
  no_method.headers.Add("Origin", "https://alpha.example.com");
  EXPECT_EQ(Allowed(Preflight(no_method, origins, extra, kPolicy)), "");
}

}  // namespace
}  // namespace poste::sites
