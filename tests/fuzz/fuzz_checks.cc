// Invariant checks shared by the fuzz entry points (see the header).
#include "tests/fuzz/fuzz_checks.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"

namespace llmgateway::fuzz {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsValidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t len;
    unsigned int cp;
    unsigned int min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < len) return false;
    for (size_t i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += len;
  }
  return true;
}

namespace {

std::string Find(const Message& message, const std::string& prefix) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = prefix.empty() ? field->name()
                                            : absl::StrCat(prefix, ".", field->name());
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string path =
          field->is_repeated() ? absl::StrCat(name, "[", i, "]") : name;
      if (field->type() == FieldDescriptor::TYPE_STRING) {
        const std::string value =
            field->is_repeated() ? reflection->GetRepeatedString(message, field, i)
                                 : reflection->GetString(message, field);
        if (!IsValidUtf8(value)) {
          return absl::StrCat(path, " = \"", absl::CHexEscape(value), "\"");
        }
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        const Message& sub = field->is_repeated()
                                 ? reflection->GetRepeatedMessage(message, field, i)
                                 : reflection->GetMessage(message, field);
        std::string found = Find(sub, path);
        if (!found.empty()) return found;
      }
    }
  }
  return "";
}

}  // namespace

std::string FindInvalidUtf8(const Message& message) { return Find(message, ""); }

void Fail(absl::string_view what, absl::string_view detail) {
  std::fprintf(stderr, "INVARIANT BROKEN: %.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void CheckWireSafe(const Message& message, absl::string_view what) {
  const std::string bad = FindInvalidUtf8(message);
  if (!bad.empty()) Fail(what, absl::StrCat("invalid UTF-8 in ", bad));
  std::string wire;
  if (!message.SerializeToString(&wire)) Fail(what, "does not serialize");
  std::unique_ptr<Message> back(message.New());
  if (!back->ParseFromString(wire)) Fail(what, "does not parse back");
  if (!google::protobuf::util::MessageDifferencer::Equals(message, *back)) {
    Fail(what, "differs after a serialize-parse round trip");
  }
}

}  // namespace llmgateway::fuzz
