#pragma once
// Random identifiers: request ids and other non-secret tokens (not for keys or passwords: use libsodium).
#include <string>
#include <string_view>

namespace poste {

// n random bytes as 2n lower-case hex characters, from a fast per-thread generator seeded by the OS.
std::string RandomHex(std::size_t bytes);

// A client-supplied request id is kept when it is 1..128 characters of [A-Za-z0-9._:-].
bool IsWellFormedRequestId(std::string_view id);

}  // namespace poste
