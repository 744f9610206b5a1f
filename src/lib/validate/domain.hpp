#pragma once
// Host names as users type them for a site's domains and email addresses.
#include <string>
#include <string_view>

namespace poste::validate {

// A DNS host name (RFC 1123) that could serve a website: labels of 1..63 ASCII letters, digits and hyphens,
// not starting or ending with a hyphen; at least two labels; 253 characters at most; a top-level label that
// is not all digits (so "10.0.0.1" is refused). Letters of either case are accepted; a trailing dot (the
// root) is not: NormalizeDomain removes it, and the stored form has none. Punycode labels ("xn--bcher-kva") are
// accepted as they are: convert Unicode names to punycode before. Refused: IP literals, underscores, ports, schemes,
// paths, wildcards, spaces and anything outside ASCII.
bool IsValidDomain(std::string_view domain);

// The form to store and compare: surrounding ASCII whitespace trimmed, one trailing dot removed, lower case.
// It does not validate: normalise, then check IsValidDomain ("example.com.." stays invalid).
std::string NormalizeDomain(std::string_view domain);

}  // namespace poste::validate
