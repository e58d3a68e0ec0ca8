# Sourced before every release build that is measured (make bench, make sizes): OpenSSL, which
# webauthn-rs and the key checks of API management need, is linked statically, as in the arm64
# build Lambda runs (`vendored`, shared/Cargo.toml). Linked as shared libraries, libssl and
# libcrypto cost every cold start ~1 ms of loading that the shipped binaries never pay (a C
# program that links them starts in 1.8 ms, one that does not in 1.0 ms). Debian's libssl-dev
# has the static libraries; the same variables for every build keep cargo from rebuilding.
export OPENSSL_STATIC=1 OPENSSL_NO_PKG_CONFIG=1 OPENSSL_INCLUDE_DIR=/usr/include \
  OPENSSL_LIB_DIR="/usr/lib/$(gcc -dumpmachine)"
