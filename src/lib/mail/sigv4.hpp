#pragma once
// AWS Signature Version 4 for requests to AWS APIs (SES v2 SendEmail): the canonical request, the string to
// sign and the Authorization header, as documented by AWS and checked against its published test suite.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poste::mail {

struct SigV4Request {
  std::string method;                                        // "GET", "POST"...
  std::string url;                                           // absolute http(s) URL; its query is signed, sorted
  std::vector<std::pair<std::string, std::string>> headers;  // signed; Host and X-Amz-Date added when absent
  std::string body;
};

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials: sent and signed as X-Amz-Security-Token
};

struct SigV4Signature {
  std::string authorization;      // the Authorization header's value
  std::string amz_date;           // the X-Amz-Date header's value, "20150830T123600Z"
  std::string canonical_request;  // for diagnostics and tests
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  // Headers to add to the request (X-Amz-Date, Host and X-Amz-Security-Token when they were not given).
  std::vector<std::pair<std::string, std::string>> added_headers;
};

// An AWS region name as endpoints, ARNs and credential scopes use it (SES, SNS): lower-case letters, digits
// and single hyphens ("us-east-1", "eu-central-2", "us-gov-west-1"), 4 to 32 characters, starting with a
// letter, not ending with a hyphen. The one check of a region for every AWS service Poste talks to.
bool IsValidAwsRegion(std::string_view region);

// Signs `request` for `service` in `region` at `when`. Throws AppError::BadRequest for a URL that
// net::ParseHttpUrl refuses.
SigV4Signature SignV4(const SigV4Request& request, const SigV4Credentials& credentials, std::string_view region,
                      std::string_view service, std::chrono::system_clock::time_point when);

}  // namespace poste::mail
