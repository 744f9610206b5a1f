#pragma once
// The bundled list of common passwords (common_passwords.cpp says where it comes from).
#include <span>
#include <string_view>

namespace poste::validate {

// Lower-case ASCII entries, sorted bytewise, unique.
std::span<const std::string_view> CommonPasswords();

}  // namespace poste::validate
