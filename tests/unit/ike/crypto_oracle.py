#!/usr/bin/python3
# Independent oracle for the IKE crypto suite tests (tests/unit/ike/*_test.cpp): recomputes
# RFC 7296 constructions with Python's hmac/hashlib and the `cryptography` package, written from
# the RFC text, sharing no code with ike/. Reads one command per line on stdin, writes one line
# per command on stdout. Hex arguments; "-" is the empty string.
#
#   hmac     DIGEST KEY DATA                          -> prf(KEY, DATA)
#   prfplus  DIGEST KEY SEED LEN                      -> prf+(KEY, SEED) truncated to LEN (2.13)
#   ikekeys  DIGEST NI NR GIR SPII SPIR ELEN ALEN     -> SKEYSEED SK_d SK_ai SK_ar SK_ei SK_er SK_pi SK_pr (2.14)
#   rekeyseed DIGEST SKD GIR NI NR                    -> prf(SK_d, g^ir | Ni | Nr) (2.18)
#   childkeys DIGEST SKD GIR NI NR ELEN ALEN          -> ei ai er ar (2.17)
#   modp_prime BITS                                   -> p of RFC 2409/3526 computed from pi
#   modexp   BASE EXP MOD                             -> BASE^EXP mod MOD, padded to |MOD|
#   ecdh     CURVE PRIV PEER(x|y)                     -> our x|y, shared x (RFC 5903)
#   x25519   PRIV PEER                                -> our public, shared (RFC 7748)
#   sk_cbc   CIPHER KEY IV PLAIN DIGEST IKEY ICVLEN AAD -> IV|ct|ICV (3.14, zero padding)
#   sk_gcm   KEY+SALT IV PLAIN AAD ICVLEN             -> IV|ct|tag (RFC 5282, no padding)
#   psk_auth DIGEST PSK MSG NONCE SKP IDBODY          -> AUTH (2.15)
#   natd     SPII SPIR IP PORT                        -> SHA1(SPIi|SPIr|IP|Port) (2.23)
import hashlib
import hmac
import sys
import warnings

warnings.filterwarnings("ignore")


def h(s):
    return b"" if s == "-" else bytes.fromhex(s)


def x(b):
    return b.hex() if b else "-"


def prf(d, k, m):
    return hmac.new(k, m, d).digest()


def prf_plus(d, k, s, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        assert i <= 255
        t = prf(d, k, t + s + bytes([i]))
        out += t
        i += 1
    return out[:n]


def arctan_inv(v, one):
    total, term, k, sign = 0, one // v, 1, 1
    v2 = v * v
    while term:
        total += sign * (term // k)
        term //= v2
        k += 2
        sign = -sign
    return total


def pi_fixed(bits):
    # Machin: pi = 16 atan(1/5) - 4 atan(1/239), in fixed point with guard bits.
    guard = 64
    one = 1 << (bits + guard)
    return (16 * arctan_inv(5, one) - 4 * arctan_inv(239, one)) >> guard


MODP_K = {768: 149686, 1024: 129093, 1536: 741804, 2048: 124476, 3072: 1690314,
          4096: 240904, 6144: 929484, 8192: 4743158}


def modp_prime(n):
    # RFC 2409 6.1/6.2, RFC 3526: p = 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k)
    return 2**n - 2**(n - 64) - 1 + 2**64 * (pi_fixed(n - 130) + MODP_K[n])


def run(cmd, a):
    if cmd == "hmac":
        return x(prf(a[0], h(a[1]), h(a[2])))
    if cmd == "prfplus":
        return x(prf_plus(a[0], h(a[1]), h(a[2]), int(a[3])))
    if cmd == "ikekeys":
        d, ni, nr, gir, spii, spir, el, al = a[0], h(a[1]), h(a[2]), h(a[3]), h(a[4]), h(a[5]), int(a[6]), int(a[7])
        seed = prf(d, ni + nr, gir)
        pl = hashlib.new(d).digest_size
        sizes = [pl, al, al, el, el, pl, pl]
        km = prf_plus(d, seed, ni + nr + spii + spir, sum(sizes))
        keys, pos = [], 0
        for s in sizes:
            keys.append(km[pos:pos + s])
            pos += s
        return " ".join(x(k) for k in [seed] + keys)
    if cmd == "rekeyseed":
        return x(prf(a[0], h(a[1]), h(a[2]) + h(a[3]) + h(a[4])))
    if cmd == "childkeys":
        d, skd, gir, ni, nr, el, al = a[0], h(a[1]), h(a[2]), h(a[3]), h(a[4]), int(a[5]), int(a[6])
        km = prf_plus(d, skd, gir + ni + nr, 2 * (el + al))
        return " ".join(x(k) for k in [km[:el], km[el:el + al], km[el + al:2 * el + al], km[2 * el + al:]])
    if cmd == "modp_prime":
        n = int(a[0])
        return modp_prime(n).to_bytes(n // 8, "big").hex()
    if cmd == "modexp":
        m = h(a[2])
        v = pow(int.from_bytes(h(a[0]), "big"), int.from_bytes(h(a[1]), "big"), int.from_bytes(m, "big"))
        return v.to_bytes(len(m), "big").hex()
    if cmd == "ecdh":
        from cryptography.hazmat.primitives.asymmetric import ec
        curve = {"P-192": ec.SECP192R1(), "P-224": ec.SECP224R1(), "P-256": ec.SECP256R1(),
                 "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[a[0]]
        size = (curve.key_size + 7) // 8
        priv = ec.derive_private_key(int.from_bytes(h(a[1]), "big"), curve)
        n = priv.public_key().public_numbers()
        peer = h(a[2])
        px, py = int.from_bytes(peer[:size], "big"), int.from_bytes(peer[size:], "big")
        shared = priv.exchange(ec.ECDH(), ec.EllipticCurvePublicNumbers(px, py, curve).public_key())
        return x(n.x.to_bytes(size, "big") + n.y.to_bytes(size, "big")) + " " + x(shared)
    if cmd == "x25519":
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
        from cryptography.hazmat.primitives import serialization
        priv = X25519PrivateKey.from_private_bytes(h(a[0]))
        pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return x(pub) + " " + x(priv.exchange(X25519PublicKey.from_public_bytes(h(a[1]))))
    if cmd == "sk_cbc":
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        cipher, key, iv, plain, d, ikey, icvlen, aad = a[0], h(a[1]), h(a[2]), h(a[3]), a[4], h(a[5]), int(a[6]), h(a[7])
        alg = algorithms.AES(key) if cipher == "aes" else algorithms.TripleDES(key)
        bs = alg.block_size // 8
        padlen = (bs - (len(plain) + 1) % bs) % bs
        data = plain + bytes(padlen) + bytes([padlen])
        enc = Cipher(alg, modes.CBC(iv)).encryptor()
        ct = enc.update(data) + enc.finalize()
        icv = prf(d, ikey, aad + iv + ct)[:icvlen]
        return x(iv + ct + icv)
    if cmd == "sk_gcm":
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        km, iv, plain, aad, icvlen = h(a[0]), h(a[1]), h(a[2]), h(a[3]), int(a[4])
        key, salt = km[:-4], km[-4:]
        enc = Cipher(algorithms.AES(key), modes.GCM(salt + iv, min_tag_length=icvlen)).encryptor()
        enc.authenticate_additional_data(aad)
        ct = enc.update(plain + b"\x00") + enc.finalize()
        return x(iv + ct + enc.tag[:icvlen])
    if cmd == "psk_auth":
        d, psk, msg, nonce, skp, idb = a[0], h(a[1]), h(a[2]), h(a[3]), h(a[4]), h(a[5])
        octets = msg + nonce + prf(d, skp, idb)
        return x(prf(d, prf(d, psk, b"Key Pad for IKEv2"), octets))
    if cmd == "natd":
        return hashlib.sha1(h(a[0]) + h(a[1]) + h(a[2]) + int(a[3]).to_bytes(2, "big")).hexdigest()
    raise SystemExit("unknown command " + cmd)


for line in sys.stdin:
    parts = line.split()
    if parts:
        print(run(parts[0], parts[1:]), flush=True)
