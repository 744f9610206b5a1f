#pragma once
// gzip (RFC 1952) compression of response bodies, with zlib.
#include <optional>
#include <string>
#include <string_view>

namespace poste {

std::string GzipCompress(std::string_view data, int level = 6);
// Inflates gzip data; nullopt on corrupt input or when the output would pass max_size.
std::optional<std::string> GzipDecompress(std::string_view data, std::size_t max_size);

}  // namespace poste
