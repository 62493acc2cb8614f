#!/bin/sh
# A local development CA and a certificate for localhost signed by it, for the edge's HTTPS/WSS port (3443):
#
#   sh edge/dev-cert.sh <dir>     writes <dir>/ca.pem (trust this one), <dir>/ca.key, <dir>/localhost.pem and
#                                 <dir>/localhost.key; prints "<cert> <key>" on its last line
#
# Idempotent: an existing certificate valid for 30 more days is kept (so a browser or phone that trusts the CA
# keeps trusting it). The leaf names localhost, 127.0.0.1 and ::1 (plus EDGE_DEV_CERT_NAMES, e.g.
# "DNS:dev.example.com IP:192.168.1.20" for a phone on the LAN) and lives 397 days, the longest browsers accept.
# Private keys are created readable by their owner only. For production use a real certificate
# (EDGE_TLS_CERT / EDGE_TLS_KEY, README "HTTPS and WSS"); a WeChat mini program accepts only a
# publicly trusted certificate on a domain whitelisted in its admin console.
# POSIX sh + openssl only.
set -eu

DIR="${1:?usage: edge/dev-cert.sh <dir>}"
mkdir -p "$DIR"
CA="$DIR/ca.pem"; CA_KEY="$DIR/ca.key"; CERT="$DIR/localhost.pem"; KEY="$DIR/localhost.key"

if [ -s "$CERT" ] && [ -s "$KEY" ] && [ -s "$CA" ] && openssl x509 -in "$CERT" -noout -checkend 2592000 >/dev/null 2>&1; then
  echo "$CERT $KEY"
  exit 0
fi

umask 077
if ! { [ -s "$CA" ] && [ -s "$CA_KEY" ] && openssl x509 -in "$CA" -noout -checkend 2592000 >/dev/null 2>&1; }; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=Platform local development/CN=Platform local development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$CA_KEY" -out "$CA" 2>/dev/null
fi

names="DNS:localhost,IP:127.0.0.1,IP:::1"
for extra in ${EDGE_DEV_CERT_NAMES:-}; do names="$names,$extra"; done
ext="$DIR/localhost.ext"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$names" >"$ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$KEY" -out "$DIR/localhost.csr" 2>/dev/null
openssl x509 -req -in "$DIR/localhost.csr" -CA "$CA" -CAkey "$CA_KEY" -CAcreateserial -days 397 -sha256 \
  -extfile "$ext" -out "$CERT" 2>/dev/null
rm -f "$DIR/localhost.csr" "$ext"
chmod 644 "$CA" "$CERT"
echo "edge: made a development CA ($CA) and a certificate for localhost ($CERT); trust the CA to use https://localhost:3443" >&2
echo "$CERT $KEY"
