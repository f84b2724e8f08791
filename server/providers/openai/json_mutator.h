// Test support: random edits that stress a JSON parser (bit flips, JSON
// punctuation, deleted, doubled and spliced runs), shared by the parsers'
// seeded property tests.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_MUTATOR_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_MUTATOR_H_

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace llmgateway::openai {

// Applies 1-4 random edits to `s`; splices come from `samples` (not empty).
std::string MutateJson(std::string s, std::mt19937& rng,
                       const std::vector<std::string>& samples);

// Up to `max_len` random bytes, and up to `max_len` characters of JSON's
// alphabet (punctuation, literals, digits), which reach deeper into a parser.
std::string RandomBytes(std::mt19937& rng, size_t max_len);
std::string RandomJsonAlphabet(std::mt19937& rng, size_t max_len);

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_MUTATOR_H_
