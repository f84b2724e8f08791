// Blocking libcurl and simdjson DOM calls: fine in a test, never in server/.
#include "tests/integration/fakellm_client.h"

#include <curl/curl.h>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace llmgateway::testing {
namespace {

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

std::string HttpGet(int port, const std::string& path) { return HttpRequest(port, "GET", path); }

std::string HttpRequest(int port, const std::string& method, const std::string& path,
                        const std::string& body) {
  std::string response;
  CURL* curl = curl_easy_init();
  const std::string url = absl::StrCat("http://127.0.0.1:", port, path);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  struct curl_slist* headers = nullptr;
  if (method != "GET") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  return response;
}

std::vector<RecordedRequest> RecordedRequests(int port) {
  std::vector<RecordedRequest> requests;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(HttpGet(port, "/_requests")).get(root) != simdjson::SUCCESS) {
    return requests;
  }
  simdjson::dom::array list;
  if (root.get_array().get(list) != simdjson::SUCCESS) return requests;
  for (simdjson::dom::element entry : list) {
    RecordedRequest& request = requests.emplace_back();
    std::string_view path;
    if (entry["path"].get_string().get(path) == simdjson::SUCCESS) request.path = path;
    simdjson::dom::object headers;
    if (entry["headers"].get_object().get(headers) == simdjson::SUCCESS) {
      for (auto field : headers) {
        std::string_view value;
        if (field.value.get_string().get(value) == simdjson::SUCCESS) {
          request.headers[std::string(field.key)] = std::string(value);
        }
      }
    }
    simdjson::dom::element body;
    if (entry["body"].get(body) == simdjson::SUCCESS) {
      request.body = simdjson::minify(body);
    }
  }
  return requests;
}

std::optional<RecordedRequest> FindRequest(int port, const std::string& marker) {
  std::vector<RecordedRequest> requests = RecordedRequests(port);
  for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
    if (it->body.find(marker) != std::string::npos) return *it;
  }
  return std::nullopt;
}

std::string JsonAt(const std::string& json, const std::string& pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return "<missing>";
  simdjson::dom::element value;
  if (root.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "<missing>";
  return simdjson::minify(value);
}

long FakeLlmStat(int port, const std::string& name) {
  const std::string value = JsonAt(HttpGet(port, "/_stats"), "/" + name);
  try {
    return std::stol(value);
  } catch (...) {
    return -1;
  }
}

}  // namespace llmgateway::testing
