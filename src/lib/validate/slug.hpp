#pragma once
// URL slugs for sites, content and collections.
#include <string>
#include <string_view>

namespace poste::validate {

inline constexpr std::size_t kMaxSlug = 64;

// ^[a-z0-9]+(-[a-z0-9]+)*$, 1..64 characters.
bool IsValidSlug(std::string_view slug);

// A slug made from a title: ASCII letters lower-cased, digits kept, the accented letters of Latin-1 and
// Latin Extended-A (plus Romanian ș/ț) folded to their base letters (é→e, ß→ss, æ→ae, ł→l), combining accents
// dropped, and every other character (spaces, punctuation, other scripts, invalid UTF-8) turned into a
// single '-'; no '-' at either end; cut at 64 characters on a word boundary when there is one. The result may
// be empty (a title in another script): check IsValidSlug and ask the user for a slug then.
std::string Slugify(std::string_view text);

}  // namespace poste::validate
