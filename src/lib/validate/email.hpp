#pragma once
// Email addresses as accounts, contacts and senders use them: the practical subset of RFC 5322 that mail
// systems accept everywhere.
#include <string>
#include <string_view>

namespace poste::validate {

inline constexpr std::size_t kMaxEmail = 254;  // RFC 5321's 256-byte path, less the angle brackets
inline constexpr std::size_t kMaxEmailLocal = 64;

// local@domain where the local part is a dot-atom (RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~,
// separated by single dots, none at either end) of at most 64 bytes, and the domain passes IsValidDomain
// without a trailing dot; 254 bytes in all. Refused on purpose, though RFC 5322 allows them: quoted local
// parts ("a b"@x), comments, IP-literal domains, and non-ASCII (SMTPUTF8) addresses. No whitespace,
// CR/LF, NUL or other control character can pass. Validate NormalizeEmail's result, not raw input.
bool IsValidEmail(std::string_view email);

// Whether `s` is a dot-atom: atext runs separated by single dots, none at either end (a local part's rule).
bool IsDotAtom(std::string_view s);

// The form to store and show: surrounding whitespace trimmed, the domain lower-cased (domains are
// case-insensitive), the local part's case kept (RFC 5321 lets a server tell "Bob" from "bob").
std::string NormalizeEmail(std::string_view email);

// The key for uniqueness and look-ups: the whole normalised address lower-cased, since no real mail server
// treats "Bob@x" and "bob@x" as different people and one person must not get two accounts.
std::string EmailKey(std::string_view email);

// The local part (before the last '@'); the whole input when there is no '@'.
std::string_view EmailLocalPart(std::string_view email);

}  // namespace poste::validate
