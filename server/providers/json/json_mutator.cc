// Random JSON-aware byte edits for property tests.
#include "server/providers/json/json_mutator.h"

#include <cstring>

namespace llmgateway::json {

std::string MutateJson(std::string s, std::mt19937& rng,
                       const std::vector<std::string>& samples) {
  // Bytes that matter to a JSON parser, drawn more often than the rest.
  static constexpr char kJsonBytes[] =
      "{}[]\":,\\ntrufalse0123456789.eE+-u \x00";
  auto byte = [&]() -> char {
    if (rng() % 2) return kJsonBytes[rng() % (sizeof(kJsonBytes) - 1)];
    return static_cast<char>(rng() % 256);
  };
  const int edits = 1 + rng() % 4;
  for (int k = 0; k < edits && !s.empty(); ++k) {
    const size_t pos = rng() % s.size();
    switch (rng() % 6) {
      case 0:  // flip one bit
        s[pos] = static_cast<char>(s[pos] ^ (1u << (rng() % 8)));
        break;
      case 1:  // replace a byte
        s[pos] = byte();
        break;
      case 2:  // insert a byte
        s.insert(s.begin() + pos, byte());
        break;
      case 3:  // delete a run
        s.erase(pos, 1 + rng() % 8);
        break;
      case 4: {  // duplicate a run (repeated keys, doubled brackets)
        const size_t len = 1 + rng() % 32;
        s.insert(pos, s.substr(pos, len));
        break;
      }
      case 5: {  // splice in a run of another sample
        const std::string& o = samples[rng() % samples.size()];
        const size_t from = rng() % o.size();
        s.insert(pos, o.substr(from, 1 + rng() % 40));
        break;
      }
    }
  }
  return s;
}

std::string RandomBytes(std::mt19937& rng, size_t max_len) {
  std::string s(rng() % max_len, '\0');
  for (char& c : s) c = static_cast<char>(rng() % 256);
  return s;
}

std::string RandomJsonAlphabet(std::mt19937& rng, size_t max_len) {
  static constexpr char kAlphabet[] = "{}[]\":,nulltruefalse0123456789 ";
  std::string s(rng() % max_len, '\0');
  for (char& c : s) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return s;
}

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

std::string InsertJsonWhitespace(absl::string_view json, std::mt19937& rng) {
  static constexpr char kSpace[] = " \t\r\n";
  std::string spaced;
  bool in_string = false, escaped = false;
  for (char c : json) {
    spaced += c;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (std::strchr("{}[]:,", c) != nullptr && rng() % 2) {
      spaced.append(1 + rng() % 3, kSpace[rng() % 4]);
    }
  }
  return spaced;
}

}  // namespace llmgateway::json
