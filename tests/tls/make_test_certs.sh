#!/usr/bin/env bash
# Makes throw-away certificates for the TLS tests in OUT_DIR (made at test
# time, never checked in; valid for 3 days; EC P-256, quick to make):
#   ca.pem ca.key              the test CA
#   server.pem server.key      CN=gateway-1, for localhost and 127.0.0.1
#   server2.pem server2.key    CN=gateway-2, the same names (a rotation)
#   client.pem client.key      CN=client-1, a client certificate from the CA
#   other_ca.pem               another CA, trusted by nothing
#   other_client.pem .key      CN=stranger, a client certificate from it
#   encrypted.key              server.key under a passphrase
# Usage: make_test_certs.sh OUT_DIR
set -euo pipefail
out="${1:?usage: make_test_certs.sh OUT_DIR}"
mkdir -p "$out"
cd "$out"

cat > req.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF

new_key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)

make_ca() {  # NAME CN
  openssl req -x509 -new -config req.cnf -extensions ca "${new_key[@]}" \
    -keyout "$1.key" -out "$1.pem" -days 3 -subj "/CN=$2" 2>/dev/null
}

make_leaf() {  # NAME CN CA EXTENSIONS
  openssl req -new -config req.cnf "${new_key[@]}" -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 3 -extfile req.cnf -extensions "$4" \
    -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}

make_ca ca llmgw-test-ca
make_leaf server gateway-1 ca server
make_leaf server2 gateway-2 ca server
make_leaf client client-1 ca client
make_ca other_ca llmgw-other-ca
make_leaf other_client stranger other_ca client
openssl pkey -in server.key -aes256 -passout pass:secret -out encrypted.key 2>/dev/null
