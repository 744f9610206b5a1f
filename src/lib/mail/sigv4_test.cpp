#include "lib/mail/sigv4.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/error.hpp"

namespace poste::mail {
namespace {

using namespace std::chrono_literals;

// aws-sig-v4-test-suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html): service
// "service", region "us-east-1", 2015-08-30T12:36:00Z, the example key pair below. The expected canonical
// requests and signatures are the suite's.
const SigV4Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const auto kWhen = std::chrono::system_clock::time_point(1440938160s);  // 20150830T123600Z
constexpr const char* kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kCredential = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

SigV4Signature Sign(SigV4Request request) {
  request.headers.insert(request.headers.begin(), {"Host", "example.amazonaws.com"});
  request.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  return SignV4(request, kSuite, "us-east-1", "service", kWhen);
}

TEST(SigV4, GetVanilla) {
  auto s = Sign({"GET", "https://example.amazonaws.com/", {}, ""});
  EXPECT_EQ(s.canonical_request, std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                                             "host;x-amz-date\n") +
                                     kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization, std::string(kCredential) +
                                 "SignedHeaders=host;x-amz-date, "
                                 "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(s.amz_date, "20150830T123600Z");
  EXPECT_TRUE(s.added_headers.empty());
}

TEST(SigV4, PostVanilla) {
  auto s = Sign({"POST", "https://example.amazonaws.com/", {}, ""});
  EXPECT_EQ(s.canonical_request, std::string("POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                                             "host;x-amz-date\n") +
                                     kEmptyHash);
  EXPECT_EQ(s.authorization, std::string(kCredential) +
                                 "SignedHeaders=host;x-amz-date, "
                                 "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, PostXWwwFormUrlencoded) {
  auto s = Sign({"POST",
                 "https://example.amazonaws.com/",
                 {{"Content-Type", "application/x-www-form-urlencoded"}},
                 "Param1=value1"});
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(s.authorization, std::string(kCredential) +
                                 "SignedHeaders=content-type;host;x-amz-date, "
                                 "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
  auto s = Sign({"GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", {}, ""});
  EXPECT_EQ(s.canonical_request, std::string("GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                                             "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") +
                                     kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(s.authorization, std::string(kCredential) +
                                 "SignedHeaders=host;x-amz-date, "
                                 "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, AddsHostDateAndTokenAndCanonicalisesHeaders) {
  SigV4Credentials temporary = kSuite;
  temporary.session_token = "TOKEN";
  auto s = SignV4({"POST",
                   "https://email.eu-west-1.amazonaws.com:8443/v2/email/outbound-emails?b=%2f&a=x%20y+z&flag",
                   {{"My-Header", "  a   b  "}, {"my-header", "c"}, {"Content-Type", "application/json"}},
                   "{}"},
                  temporary, "eu-west-1", "ses", kWhen);
  EXPECT_EQ(s.signed_headers, "content-type;host;my-header;x-amz-date;x-amz-security-token");
  EXPECT_NE(s.canonical_request.find("\nhost:email.eu-west-1.amazonaws.com:8443\n"), std::string::npos);
  EXPECT_NE(s.canonical_request.find("\nmy-header:a b,c\n"), std::string::npos) << s.canonical_request;
  EXPECT_NE(s.canonical_request.find("\n/v2/email/outbound-emails\na=x%20y%2Bz&b=%2F&flag=\n"), std::string::npos)
      << s.canonical_request;
  EXPECT_NE(s.authorization.find("/20150830/eu-west-1/ses/aws4_request"), std::string::npos);
  ASSERT_EQ(s.added_headers.size(), 3u);
  EXPECT_EQ(s.added_headers[0].first, "Host");
  EXPECT_EQ(s.added_headers[1], (std::pair<std::string, std::string>{"X-Amz-Date", "20150830T123600Z"}));
  EXPECT_EQ(s.added_headers[2], (std::pair<std::string, std::string>{"X-Amz-Security-Token", "TOKEN"}));
}

TEST(SigV4, RefusesUrlsItCannotSign) {
  for (const char* url : {"", "ftp://example.com/", "https://user:pw@example.com/", "https://exa mple.com/",
                          "https://example.com/\r\nX: y"}) {
    EXPECT_THROW(SignV4({"GET", url, {}, ""}, kSuite, "us-east-1", "service", kWhen), AppError) << url;
  }
}

TEST(AwsRegion, OneCheckForEveryService) {
  for (const char* region : {"us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-4"}) {
    EXPECT_TRUE(IsValidAwsRegion(region)) << region;
  }
  for (const char* region :
       {"", "eu", "EU-WEST-1", "eu-west-1.evil.com/x?", "eu_west_1", "-eu", "eu--west", "eu-west-", "1eu-west",
        "eu west", "eu-west-1\r\n", "eu-west-1;DROP TABLE x", "abcdefghijklmnopqrstuvwxyz-123456789"}) {
    EXPECT_FALSE(IsValidAwsRegion(region)) << region;
  }
  EXPECT_FALSE(IsValidAwsRegion(std::string_view("eu-west-1\0x", 11)));
}

}  // namespace
}  // namespace poste::mail
