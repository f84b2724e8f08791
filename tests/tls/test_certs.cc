// Certificate generation for the TLS tests.
#include "tests/tls/test_certs.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace llmgateway::testing {

TestCerts::TestCerts(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string script = std::string(srcdir != nullptr ? srcdir : ".") + "/" +
                             (workspace != nullptr ? workspace : "llm_gateway") +
                             "/tests/tls/make_test_certs.sh";
  const std::string command = "bash '" + script + "' '" + dir_ + "'";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "TestCerts: %s failed (is openssl installed?)\n", command.c_str());
    std::abort();
  }
}

std::string TestCerts::Read(const std::string& file) const {
  std::ifstream in(Path(file), std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace llmgateway::testing
