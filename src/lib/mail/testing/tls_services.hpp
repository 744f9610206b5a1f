#pragma once
// Tests only: the TLS listeners of scripts/test-services (a throwaway CA; the capture server with STARTTLS
// and with implicit TLS; Dovecot's IMAPS), from the variables its `env` prints. Services started by an older
// scripts/test-services have none: the tests then skip, except under CI=true, where they fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace poste::mail::testing {

struct TlsServices {
  std::string ca_file;  // the CA that signed the servers' certificate (for 127.0.0.1 and localhost)
  int smtp_starttls_port = 0;
  int smtps_port = 0;
  int imaps_port = 0;
};

inline std::optional<TlsServices> FindTlsServices() {
  const auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  TlsServices t;
  t.ca_file = env("POSTE_TEST_TLS_CA_FILE");
  t.smtp_starttls_port = std::atoi(env("POSTE_TEST_SMTP_STARTTLS_PORT").c_str());
  t.smtps_port = std::atoi(env("POSTE_TEST_SMTPS_PORT").c_str());
  t.imaps_port = std::atoi(env("POSTE_TEST_IMAPS_PORT").c_str());
  if (t.ca_file.empty() || t.smtp_starttls_port <= 0 || t.smtps_port <= 0 || t.imaps_port <= 0) return std::nullopt;
  return t;
}

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

inline constexpr const char* kNoTlsServices =
    "the TLS listeners of scripts/test-services are not configured (POSTE_TEST_TLS_CA_FILE, "
    "POSTE_TEST_SMTP_STARTTLS_PORT, POSTE_TEST_SMTPS_PORT, POSTE_TEST_IMAPS_PORT): start the services with the "
    "current scripts/test-services and load its env";

}  // namespace poste::mail::testing

// Sets `out` (a TlsServices) or ends the test: a failure under CI=true, a skip elsewhere. For SetUp or a test
// body (it returns from the function).
#define POSTE_REQUIRE_TLS_SERVICES(out)                                                     \
  do {                                                                                      \
    auto found_tls_ = ::poste::mail::testing::FindTlsServices();                            \
    if (!found_tls_) {                                                                      \
      if (::poste::mail::testing::InCi()) FAIL() << ::poste::mail::testing::kNoTlsServices; \
      GTEST_SKIP() << ::poste::mail::testing::kNoTlsServices;                               \
    }                                                                                       \
    (out) = *found_tls_;                                                                    \
  } while (0)
