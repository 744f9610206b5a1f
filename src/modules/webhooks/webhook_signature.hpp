#pragma once
// The Poste-Signature header of a webhook delivery: "t=<unix seconds>,v1=<hex HMAC-SHA256>", the MAC taken
// with the subscription's secret over "<t>.<body>". The timestamp inside the signed text lets a receiver
// refuse replays of an old delivery; v1 names the scheme so that a later one can be sent beside it.
#include <cstdint>
#include <string>
#include <string_view>

namespace poste::webhooks {

std::string SignatureHeader(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

// What a receiver does: parse the header, recompute the MAC, compare in constant time, and check that t
// is within tolerance_s of now_s. Any v1 entry may match (several are sent while a secret rotates).
bool VerifySignature(std::string_view header, std::string_view secret, std::string_view body, std::int64_t now_s,
                     std::int64_t tolerance_s = 300);

}  // namespace poste::webhooks
