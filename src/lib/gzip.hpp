#pragma once
// gzip (RFC 1952) compression of response bodies, with zlib.
#include <optional>
#include <string>
#include <string_view>

namespace poste {

std::string GzipCompress(std::string_view data, int level = 6);
// Inflates gzip data; nullopt on corrupt input or when the output would pass max_size.
std::optional<std::string> GzipDecompress(std::string_view data, std::size_t max_size);

// Whether an Accept-Encoding value accepts gzip (or x-gzip): listed with a q-value above 0, or not listed
// while "*" is, with a q-value above 0.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace poste
