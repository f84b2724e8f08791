// Tests the media helpers the body writers share: MIME matching, data: URLs,
// base64 literals, and the checks of a media part with their messages.
#include "server/providers/common/media.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {
namespace {

TEST(MediaTest, MimeEssence) {
  EXPECT_EQ(MimeEssence("Image/PNG; foo=bar"), "image/png");
  EXPECT_EQ(MimeEssence("  audio/wav "), "audio/wav");
  EXPECT_EQ(MimeEssence(";x"), "");
  EXPECT_EQ(MimeEssence(""), "");
}

TEST(MediaTest, MimeAllowed) {
  EXPECT_TRUE(MimeAllowed("image/png", {}));
  const std::vector<std::string> allowed = {"Image/*", "application/PDF"};
  EXPECT_TRUE(MimeAllowed("image/png", allowed));
  EXPECT_TRUE(MimeAllowed("application/pdf", allowed));
  EXPECT_FALSE(MimeAllowed("audio/wav", allowed));
  EXPECT_FALSE(MimeAllowed("imagex/png", allowed));
}

TEST(MediaTest, DataUrls) {
  EXPECT_TRUE(IsDataUrl("DATA:image/png;base64,AA=="));
  EXPECT_FALSE(IsDataUrl("https://x/data:"));
  absl::string_view payload;
  EXPECT_TRUE(Base64Payload("data:image/png;BASE64,AAAA", &payload));
  EXPECT_EQ(payload, "AAAA");
  EXPECT_FALSE(Base64Payload("data:text/plain,hello", &payload));
  EXPECT_FALSE(Base64Payload("data:image/png;base64", &payload));
  EXPECT_FALSE(Base64Payload("https://x/a.png", &payload));
}

TEST(MediaTest, Base64Literal) {
  EXPECT_EQ(Base64Literal("", "hi"), "\"aGk=\"");
  EXPECT_EQ(Base64Literal("data:image/png;base64,", std::string("\0\xff", 2)),
            "\"data:image/png;base64,AP8=\"");
  // The prefix is escaped as JSON; the base64 text needs none.
  EXPECT_EQ(Base64Literal("a\"b", ""), "\"a\\\"b\"");
}

v1::Media Media(const std::string& mime, const std::string& data) {
  v1::Media m;
  m.set_mime_type(mime);
  m.set_data(data);
  return m;
}

TEST(MediaTest, CheckMediaGivesTheEssence) {
  const absl::StatusOr<std::string> essence =
      CheckMedia(Media("Image/JPEG", "x"), 0, 1, {}, "p");
  ASSERT_TRUE(essence.ok()) << essence.status();
  EXPECT_EQ(*essence, "image/jpeg");
}

TEST(MediaTest, CheckMediaErrors) {
  EXPECT_EQ(CheckMedia(Media("", "x"), 1, 2, {}, "p").status().message(),
            "messages[1].parts[2].media.mime_type: must be set");
  EXPECT_EQ(
      CheckMedia(Media("image/png", ""), 1, 2, {}, "p").status().message(),
      "messages[1].parts[2].media: data or uri must be set");
  v1::Media no_source;
  no_source.set_mime_type("image/png");
  EXPECT_EQ(CheckMedia(no_source, 0, 0, {}, "p").status().message(),
            "messages[0].parts[0].media: data or uri must be set");
  v1::Media empty_uri;
  empty_uri.set_mime_type("image/png");
  empty_uri.set_uri("");
  EXPECT_EQ(CheckMedia(empty_uri, 0, 0, {}, "p").status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> images = {"image/*"};
  const absl::Status refused =
      CheckMedia(Media("Audio/WAV", "x"), 0, 3, images, "local").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(),
            "messages[0].parts[3].media.mime_type: \"Audio/WAV\" is not "
            "supported by provider \"local\"");
  EXPECT_EQ(UnsupportedMediaType(Media("video/mp4", "x"), 4, 5, "q").message(),
            "messages[4].parts[5].media.mime_type: \"video/mp4\" is not "
            "supported by provider \"q\"");
}

}  // namespace
}  // namespace llmgateway::providers
