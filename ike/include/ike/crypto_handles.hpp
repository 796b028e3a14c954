#pragma once
// OpenSSL handles as std::unique_ptr with a deleter template: no manual *_free anywhere.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <memory>

namespace ike::crypto {

template <auto FreeFn>
struct ossl_deleter {
    template <class T>
    void operator()(T* p) const noexcept { FreeFn(p); }
};
template <class T, auto FreeFn>
using ossl_ptr = std::unique_ptr<T, ossl_deleter<FreeFn>>;

using evp_mac_ptr = ossl_ptr<EVP_MAC, EVP_MAC_free>;
using evp_mac_ctx_ptr = ossl_ptr<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using evp_cipher_ptr = ossl_ptr<EVP_CIPHER, EVP_CIPHER_free>;
using evp_cipher_ctx_ptr = ossl_ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using evp_md_ptr = ossl_ptr<EVP_MD, EVP_MD_free>;
using evp_md_ctx_ptr = ossl_ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using evp_pkey_ptr = ossl_ptr<EVP_PKEY, EVP_PKEY_free>;
using evp_pkey_ctx_ptr = ossl_ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using bn_ptr = ossl_ptr<BIGNUM, BN_free>;
using bn_secret_ptr = ossl_ptr<BIGNUM, BN_clear_free>; // private exponents / scalars
using bn_ctx_ptr = ossl_ptr<BN_CTX, BN_CTX_free>;
using ec_group_ptr = ossl_ptr<EC_GROUP, EC_GROUP_free>;
using ec_point_ptr = ossl_ptr<EC_POINT, EC_POINT_free>;
using ossl_param_bld_ptr = ossl_ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ossl_param_ptr = ossl_ptr<OSSL_PARAM, OSSL_PARAM_free>;

} // namespace ike::crypto
