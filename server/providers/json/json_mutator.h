// Test support: random edits that stress a JSON parser (bit flips, JSON
// punctuation, deleted, doubled and spliced runs), random inputs, and the
// deep or respaced JSON text the parsers' seeded property tests feed them.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_MUTATOR_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_MUTATOR_H_

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace llmgateway::json {

// Applies 1-4 random edits to `s`; splices come from `samples` (not empty).
std::string MutateJson(std::string s, std::mt19937& rng,
                       const std::vector<std::string>& samples);

// Up to `max_len` random bytes, and up to `max_len` characters of JSON's
// alphabet (punctuation, literals, digits), which reach deeper into a parser.
std::string RandomBytes(std::mt19937& rng, size_t max_len);
std::string RandomJsonAlphabet(std::mt19937& rng, size_t max_len);

// `s` `n` times over: nesting ("[" x 1000) past and within parser limits.
std::string Repeat(absl::string_view s, int n);

// `json` with 1-3 random JSON whitespace characters after about half of its
// structural characters ({}[]:,) outside strings: a parser must read the
// same document from it.
std::string InsertJsonWhitespace(absl::string_view json, std::mt19937& rng);

}  // namespace llmgateway::json

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_MUTATOR_H_
