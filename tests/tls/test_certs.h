// Test support: makes a fresh set of certificates (make_test_certs.sh) in a
// folder under $TEST_TMPDIR, for tests of TLS on both sides of the gateway.
#ifndef LLM_GATEWAY_TESTS_TLS_TEST_CERTS_H_
#define LLM_GATEWAY_TESTS_TLS_TEST_CERTS_H_

#include <string>

namespace llmgateway::testing {

class TestCerts {
 public:
  // Runs tests/tls/make_test_certs.sh (a data dependency) into
  // $TEST_TMPDIR/<name>; aborts the test binary if it fails.
  explicit TestCerts(const std::string& name);

  // The folder's file `file`, e.g. Path("server.pem").
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }
  // Its content.
  std::string Read(const std::string& file) const;

 private:
  std::string dir_;
};

// Replaces `path`'s content with `content` (as a rotation does).
void WriteFile(const std::string& path, const std::string& content);

}  // namespace llmgateway::testing

#endif  // LLM_GATEWAY_TESTS_TLS_TEST_CERTS_H_
