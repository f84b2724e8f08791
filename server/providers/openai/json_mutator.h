// Test support: random edits that stress a JSON parser (bit flips, JSON
// punctuation, deleted, doubled and spliced runs), shared by the parsers'
// seeded property tests.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_MUTATOR_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_MUTATOR_H_

#include <random>
#include <string>
#include <vector>

namespace llmgateway::openai {

// Applies 1-4 random edits to `s`; splices come from `samples` (not empty).
std::string MutateJson(std::string s, std::mt19937& rng,
                       const std::vector<std::string>& samples);

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_MUTATOR_H_
