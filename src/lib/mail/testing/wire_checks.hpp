#pragma once
// Checks on the bytes of a built message, shared by the MIME writers' tests.
#include <gtest/gtest.h>

#include <string>

#include "lib/mail/mime.hpp"

namespace poste::mail::testing {

// CRLF only, no line over 998 characters, nothing outside 7-bit ASCII.
inline void ExpectWireSafe(const std::string& bytes) {
  std::size_t line = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto u = static_cast<unsigned char>(bytes[i]);
    ASSERT_LT(u, 0x80) << "8-bit byte at " << i;
    if (bytes[i] == '\n') {
      ASSERT_TRUE(i > 0 && bytes[i - 1] == '\r') << "bare LF at " << i;
      line = 0;
      continue;
    }
    if (bytes[i] == '\r') {
      ASSERT_TRUE(i + 1 < bytes.size() && bytes[i + 1] == '\n') << "bare CR at " << i;
    } else {
      ASSERT_LE(++line, kMaxLine) << "long line at " << i;
    }
  }
}

}  // namespace poste::mail::testing
