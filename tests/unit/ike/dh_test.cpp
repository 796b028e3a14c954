// Key exchange groups: RFC 5903 / RFC 5114 / RFC 7748 known answers, MODP groups against the
// Python oracle (primes recomputed from pi per RFC 2409/3526, exponentiation with Python ints),
// ECDH against python-cryptography, and RFC 6989 rejection of invalid public values.
#include "crypto_oracle.hpp"

#include <ike/dh.hpp>

using namespace ike::crypto;
using namespace ike_crypto_test;

namespace {

struct ke_vector {
    dh_group group;
    const char* source;
    std::string priv_i, priv_r, pub_i, pub_r, shared;
};

std::string cat(std::initializer_list<const char*> rows) {
    std::string s;
    for (const char* r : rows) s += r;
    return s;
}

std::vector<ke_vector> rfc_vectors() {
    return {
        {dh_group::ecp256, "RFC 5903 8.1",
         "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
         "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
         "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
         "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
         "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
         "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
         "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
        {dh_group::ecp384, "RFC 5903 8.2",
         "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
         "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
         "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa"
         "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
         "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571"
         "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
         "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746"},
        {dh_group::ecp521, "RFC 5903 8.3",
         "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d4a52",
         "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
         "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e"
         "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f9582",
         "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f"
         "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0fc56a",
         "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3ddea"},
        {dh_group::ecp192, "RFC 5114 A.6",
         "323fa3169d8e9c6593f59476bc142000ab5be0e249c43426",
         "631f95bb4a67632c9c476eee9ab695ab240a0499307fcf62",
         "cd46489ecfd6c105e7b3d32566e2b122e249abaadd87061268887b4877df51dd4dc3d6fd11f0a26f8fd3844317916e9a",
         "519a121680e0045466ba21df2eee47f5973b500577ef13d5ff613ab4d64cee3a20875bdb10f953f6b30ca072c60aa57f",
         "ad420182633f8526bfe954acda376f05e5ff4f837f54febe"},
        {dh_group::ecp224, "RFC 5114 A.7",
         "b558eb6c288da707bbb4f8fbae2ab9e9cb62e3bc5c7573e22e26d37f",
         "ac3b1add3d9770e6f6a708ee9f3b8e0ab3b480e9f27f85c88b5e6d18",
         "49dfef309f81488c304cff5ab3ee5a2154367dc7833150e0a51f3eeb4f2b5ee45762c4f654c1a0c67f54cf88b016b51bce3d7c228d57adb4",
         "6b3ac96a8d0cde6a5599be8032edf10c162d0a8ad219506dcd42a207d491be99c213a7d1ca3706debfe305f361afcbb33e2609c8b1618ad5",
         "52272f50f46f4edc9151569092f46df2d96ecc3b6dc1714a4ea949fa"},
        {dh_group::modp1024s160, "RFC 5114 A.1",
         "b9a3b3ae8fefc1a2930496507086f8455d48943e",
         "9392c9f9eb6a7a6a9022f7d83e7223c6835bbdda",
         cat({"2a853b3d92197501b901", "5b2deb3ed84f5e021dcc", "3e52f109d3273d2b7521", "281cbabe0e76ff5727fa",
              "8acce26956ba9a1fca26", "f20228d8693feb10841d", "84a7360054ece5a7f5b7", "a61ad3dfb3c60d2e4310",
              "6d8727da37df9cce95b4", "78755d06bcea8f9d4596", "5f75a5f3d1df3701165f", "c9e50c4279ceb07f9895",
              "40ae96d5d88ed776"}),
         cat({"717a6cb053371ff4a3b9", "32941c1e5663f861a1d6", "ad34ae66576dfb98f6c6", "cbf9ddd5a56c7833f6bc",
              "fdff095582ad868e440e", "8d09fd769e3ceccdc3d3", "b1e4cfa057776caaf973", "9b6a9fee8e7411f8d6da",
              "c09d6a4edb46cc2b5d52", "03090eae6126311e53fd", "2c14b574e6a3109a3da1", "be41bdceaa186f5ce067",
              "16a2b6a07b3c33fe"}),
         cat({"5c804f454d30d9c4df85", "271f93528c91df6b48ab", "5f80b3b59caac1b28f8a", "cba9cd3e39f3cb614525",
              "d9521d2e644c53b807b8", "10f340062f257d7d6fbf", "e8d5e8f072e9b6e9afda", "9413eafb2e8b0699b1fb",
              "5a0caceddeaead7e9cfb", "b36ae2b420835bd83a19", "fb0b5e96bf8fa4d09e34", "5525167ecd9155416f46",
              "f408ed31b63c6e6d"})},
        {dh_group::modp2048s224, "RFC 5114 A.2",
         "22e62601dbffd06708a680f747f361f76d8f4f721a0548e483294b0c",
         "4ff3bc96c7fc6a6d71d3b363800a7cdfef6fc41b4417ea15353b7590",
         cat({"1b3a63451bd886e699e6", "7b494e288bd7f8e0d370", "badda7a0efd2fde7d8f6", "6145cc9f280419975eb8",
              "08877c8a4c0c8e0bd48d", "4a5401eb1e8776bfeee1", "34c03831ac273cd9d635", "ab0ce006a42a887e3f52",
              "fb8766b650f38078bc8e", "e8580cefe243968cfc4f", "8dc3db084554171d41bf", "2e861b7bb4d69dd0e01e",
              "a387cbaa5ca672afcbe8", "bdb9d62d4ce15f17dd36", "f91ed1eedd65ca4a0645", "5cb94cd40a52ec360e84",
              "b3c926e22c4380a3bf30", "9d56849768b7f52cfdf6", "55fd053a7ef706979e7e", "5806b17dfae53ad2a5bc",
              "568ebb529a7a61d68d25", "6f8fc97c074a861d827e", "2ebc8c6134553115b70e", "7103920aa16d85e52bcb",
              "ab8d786a68178fa8ff7c", "2f5c71648d6f"}),
         cat({"4dcee992a9762a13f2f8", "3844ad3d77ee0e31c971", "8b3db6c2035d3961182c", "3e0ba247ec4182d760cd",
              "48d99599970622a1881b", "ba2dc822939c78c3912c", "6661fa5438b20766222b", "75e24c2e3ad0c7287236",
              "129525ee15b5dd7998aa", "04c4a9696cacd7172083", "a97a81664ead2c479e44", "4e4c0654cc19e28d7703",
              "cee8dacd6126f5d665ec", "52c67255db92014b037e", "b621a2ac8e365de071ff", "c1400acf077a12913dd8",
              "de89473437ab7ba34674", "3c1b215dd9c12164a7e4", "053118d199bec8ef6fc5", "61170c84c87d10ee9a67",
              "4a1fa8ffe13bdfba1d44", "de48946d68dc0cdd7776", "35a7ab5bfb1e4bb7b856", "f96827734c184138e915",
              "d9c3002ebce53120546a", "7e2002142b6c"}),
         cat({"34d9bddc1b42176c313f", "ea034c21034d074a6313", "bb4ecdb3703fff424567", "a46bdf75530ede0a9da5",
              "229de7d76732286cbc0f", "91da4c3c852fc099c679", "531d94c78ab03d9decb0", "a4e4ca8b2bb4591c4021",
              "cf8ce3a20a541d339940", "17d0200ae2c9516e2ff5", "145779269e862b0fb474", "a2d56dc31ed569a7700b",
              "4c4ab16b22a45513531e", "f523d71212077b5a169b", "deffad7ad9608284c779", "5b6d5a5183b87066de17",
              "d8d671c9ebd8ec89544d", "45ec061593d442c62ab9", "ce3b1cb9943a1d23a5ea", "3bcf21a01471e67e003e",
              "7f8a69c728be490b2fc8", "8cfeb92db6a215e5d03c", "17c464c9ac1a46e203e1", "3f952995fb03c69d3cc4",
              "7fcb510b6998ffd3aa6d", "e73cf9f63869"})},
        {dh_group::modp2048s256, "RFC 5114 A.3",
         "0881382cdb87660c6dc13e614938d5b9c8b2f248581cc5e31b35454397fce50e",
         "7d62a7e3ef36de617b13d1afb82c780d83a23bd4ee6705645121f371f546a53d",
         cat({"2e9380c8323af97545bc", "4941deb0ec3742c62fe0", "ece824a6abdbe66c59be", "e0242911bfb967235ceb",
              "a35ae13e4ec752be630b", "92dc4bde2847a9c62cb8", "152745421fb7eb60a63c", "0fe9159fcce726ce7cd8",
              "523d7450667ef840e491", "9121eb5f01c8c9b0d3d6", "48a93bfb75689e8244ac", "134af544711ce79a02dc",
              "c34226684780dddcb498", "594106c37f5bc7985648", "7af5ab022a2e5e42f098", "97c1a85a11ea0212af04",
              "d9b4cebc937c3c1a3e15", "a8a0342e337615c84e7f", "e3b8b9b87fb1e73a15af", "12a30d746e06dfc34f29",
              "0d797ce51aa13aa785bf", "6658aff5e4b093003cbe", "af665b3c2e113a3a4e90", "5269341dc0711426685f",
              "4ef37e868a8126ff3f22", "79b57ca67e29"}),
         cat({"575f0351bd2b1b817448", "bdf87a6c362c1e289d39", "03a30b9832c5741fa250", "363e7acbc7f77f3dacbc",
              "1f131add8e03367eff8f", "bbb3e1c5784424809b25", "afe4d2262a1a6fd2fab6", "4105ca30a674e07f7809",
              "852088632fc049233791", "ad4edd083a978b883ee6", "18bc5e0dd047415f2d95", "e683cf14826b5fbe10d3",
              "ce41c6c120c78ab20008", "c698bf7f0bcab9d7f407", "bed0f43afb2970f57f8d", "12043963e66ddd320d59",
              "9ad9936c8f44137c08b1", "80ec5e985cebe186f3d5", "49677e80607331ee17af", "3380a725b0782317d7dd",
              "43f59d7af9568a9bb63a", "84d365f92244ed120988", "219302f42924c7ca90b8", "9d24f71b0ab697823d7d",
              "eb1aff5b0e8e4a45d49f", "7f53757e1913"}),
         cat({"86c70bf8d0bb81bb0107", "8a17219cb7d27203db2a", "19c877f1d1f19fd7d77e", "f22546a68f005ad52dc8",
              "4553b78fc60330be51ea", "7c0672cac1515e4b35c0", "47b9a551b88f39dc26da", "14a09ef74774d47c762d",
              "d177f9ed5bc2f11e52c8", "79bd95098504cd9eecd8", "a8f9b3efbd1f008ac585", "3097d9d1837f2b18f77c",
              "d7be01af80a7c7b5ea3c", "a54cc02d0c116fee3f95", "bb87399385875d7e8674", "7e676e728938acbff709",
              "8e05be4dcfb24052b83a", "effb14783f029adbde7f", "53fae92084224090e007", "cee94d4bf2bace9ffd4b",
              "57d2af7c724d0caa19bf", "0501f6f17b4aa10f425e", "3ea76080b4b9d6b3cefe", "a115b2ceb8789bb8a3b0",
              "ea87febe63b6c8f846ec", "6db0c26c5d7c"})},
        {dh_group::curve25519, "RFC 7748 6.1",
         "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
         "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
         "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
         "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
         "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
    };
}

std::unique_ptr<key_exchange> from_private(dh_group g, const bytes& priv) {
    auto ke = key_exchange_from_private(g, priv);
    REQUIRE(ke);
    return std::move(*ke);
}

std::string shared_hex(const key_exchange& ke, const bytes& peer) {
    auto s = ke.shared_secret(peer);
    REQUIRE(s);
    return to_hex(*s);
}

const char* curve_name(dh_group g) {
    switch (g) {
    case dh_group::ecp256: return "P-256";
    case dh_group::ecp384: return "P-384";
    case dh_group::ecp521: return "P-521";
    case dh_group::ecp192: return "P-192";
    case dh_group::ecp224: return "P-224";
    default: return "";
    }
}

constexpr dh_group safe_prime_groups[] = {dh_group::modp1024, dh_group::modp1536, dh_group::modp2048,
                                          dh_group::modp3072, dh_group::modp4096, dh_group::modp6144,
                                          dh_group::modp8192};
constexpr dh_group ecp_groups[] = {dh_group::ecp256, dh_group::ecp384, dh_group::ecp521, dh_group::ecp192,
                                   dh_group::ecp224};
constexpr dh_group usable_groups[] = {
    dh_group::modp1024, dh_group::modp1536, dh_group::modp2048, dh_group::modp3072, dh_group::modp4096,
    dh_group::modp6144, dh_group::modp8192, dh_group::ecp256, dh_group::ecp384, dh_group::ecp521,
    dh_group::modp1024s160, dh_group::modp2048s224, dh_group::modp2048s256, dh_group::ecp192, dh_group::ecp224,
    dh_group::curve25519};

// Big-endian (v) padded to n bytes.
bytes small_value(std::size_t n, std::uint8_t v) {
    bytes b(n, 0);
    if (!b.empty()) b[n - 1] = v;
    return b;
}

// Big-endian a + d (d small), same width; used for p-1, p+1.
bytes add_small(bytes a, int d) {
    int carry = d;
    for (std::size_t i = a.size(); i-- > 0 && carry != 0;) {
        int v = a[i] + carry;
        carry = v < 0 ? -1 : v >> 8;
        a[i] = static_cast<std::uint8_t>(v & 0xff);
    }
    return a;
}

} // namespace

TEST_CASE("dh: RFC 5903 (19-21), RFC 5114 (22-26) and RFC 7748 (31) known answers") {
    for (const auto& v : rfc_vectors()) {
        INFO(v.source);
        auto i = from_private(v.group, hex(v.priv_i));
        auto r = from_private(v.group, hex(v.priv_r));
        CHECK(i->group() == v.group);
        CHECK(to_hex(i->public_value()) == v.pub_i);
        CHECK(to_hex(r->public_value()) == v.pub_r);
        CHECK(shared_hex(*i, hex(v.pub_r)) == v.shared);
        CHECK(shared_hex(*r, hex(v.pub_i)) == v.shared);
        CHECK(i->public_value().size() == dh_info(v.group).public_size);
        CHECK(hex(v.shared).size() == dh_info(v.group).shared_size);
    }
}

TEST_CASE("dh: RFC 7748 5.2 X25519 scalar/u-coordinate vector through the IKE interface") {
    auto ke = from_private(dh_group::curve25519, hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
    CHECK(shared_hex(*ke, hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")) ==
          "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST_CASE("dh: MODP groups 2, 5, 14-18 match Python: primes from pi (RFC 2409/3526), g = 2, g^ir padded to |p|") {
    std::vector<std::string> cmds;
    for (dh_group g : safe_prime_groups) cmds.push_back("modp_prime " + std::to_string(dh_info(g).public_size * 8));
    auto primes = oracle(cmds);
    cmds.clear();
    const bytes x = pattern(32, 7), z = pattern(40, 9);
    for (std::size_t k = 0; k < std::size(safe_prime_groups); ++k) {
        cmds.push_back("modexp 02 " + arg(x) + " " + primes[k]);
        cmds.push_back("modexp 02 " + arg(z) + " " + primes[k]);
    }
    auto pubs = oracle(cmds);
    cmds.clear();
    for (std::size_t k = 0; k < std::size(safe_prime_groups); ++k)
        cmds.push_back("modexp " + pubs[2 * k + 1] + " " + arg(x) + " " + primes[k]);
    auto shared = oracle(cmds);
    for (std::size_t k = 0; k < std::size(safe_prime_groups); ++k) {
        const dh_group g = safe_prime_groups[k];
        INFO(dh_info(g).name);
        auto ke = from_private(g, x);
        CHECK(to_hex(ke->public_value()) == pubs[2 * k]);
        CHECK(shared_hex(*ke, hex(pubs[2 * k + 1])) == shared[k]);
        // RFC 6989 2.1 on the real p: 0, 1, p-1, p, p+1 and all-ones are rejected; 2 = g is fine.
        const bytes p = hex(primes[k]);
        const std::size_t n = p.size();
        for (const bytes& bad : {small_value(n, 0), small_value(n, 1), add_small(p, -1), p, add_small(p, 1), bytes(n, 0xff)}) {
            CHECK(check_public_value(g, bad) == crypto_errc::invalid_public_value);
            CHECK(ke->shared_secret(bad).error() == crypto_errc::invalid_public_value);
        }
        CHECK_FALSE(check_public_value(g, small_value(n, 2)));
        CHECK_FALSE(check_public_value(g, add_small(p, -2)));
        // Exact sizes only (a leading zero byte more or less is not accepted).
        bytes longer = small_value(n + 1, 2), shorter = small_value(n - 1, 2);
        CHECK(ke->shared_secret(longer).error() == crypto_errc::public_value_size);
        CHECK(ke->shared_secret(shorter).error() == crypto_errc::public_value_size);
        CHECK(ke->shared_secret({}).error() == crypto_errc::public_value_size);
    }
}

TEST_CASE("dh: RFC 5114 groups 22-24 reject values outside the prime-order subgroup (RFC 6989 2.2)") {
    for (dh_group g : {dh_group::modp1024s160, dh_group::modp2048s224, dh_group::modp2048s256}) {
        INFO(dh_info(g).name);
        const std::size_t n = dh_info(g).public_size;
        auto ke = generate_key_exchange(g);
        REQUIRE(ke);
        // 2 and 3 lie in range but (overwhelmingly) not in the order-q subgroup.
        CHECK(check_public_value(g, small_value(n, 2)) == crypto_errc::invalid_public_value);
        CHECK((*ke)->shared_secret(small_value(n, 3)).error() == crypto_errc::invalid_public_value);
        CHECK(check_public_value(g, small_value(n, 1)) == crypto_errc::invalid_public_value);
        CHECK(check_public_value(g, small_value(n, 0)) == crypto_errc::invalid_public_value);
        CHECK(check_public_value(g, bytes(n, 0xff)) == crypto_errc::invalid_public_value);
        // A genuine public value of the group is accepted.
        auto other = generate_key_exchange(g);
        REQUIRE(other);
        CHECK_FALSE(check_public_value(g, (*other)->public_value()));
    }
    // The same value 2 is fine for group 14 (no subgroup check there: g = 2).
    CHECK_FALSE(check_public_value(dh_group::modp2048, small_value(256, 2)));
}

TEST_CASE("dh: ECP groups match python-cryptography ECDH; off-curve and malformed points rejected (RFC 6989 2.3)") {
    std::vector<std::string> cmds;
    std::vector<std::pair<bytes, bytes>> keys;
    for (dh_group g : ecp_groups) {
        const std::size_t size = dh_info(g).shared_size;
        bytes priv = pattern(size, static_cast<std::uint8_t>(size));
        priv[0] &= 0x7f; // below the group order
        if (g == dh_group::ecp521) priv[0] &= 0x01;
        auto peer = generate_key_exchange(g);
        REQUIRE(peer);
        bytes peer_pub((*peer)->public_value().begin(), (*peer)->public_value().end());
        cmds.push_back(std::string("ecdh ") + curve_name(g) + " " + arg(priv) + " " + arg(peer_pub));
        keys.emplace_back(priv, peer_pub);
    }
    auto out = oracle(cmds);
    for (std::size_t k = 0; k < std::size(ecp_groups); ++k) {
        const dh_group g = ecp_groups[k];
        INFO(dh_info(g).name);
        auto ke = from_private(g, keys[k].first);
        auto expect = split(out[k]);
        REQUIRE(expect.size() == 2);
        CHECK(to_hex(ke->public_value()) == expect[0]);
        CHECK(shared_hex(*ke, keys[k].second) == expect[1]);

        const std::size_t n = dh_info(g).public_size;
        bytes off = keys[k].second;
        off.back() ^= 0x01; // y changed: not on the curve
        CHECK(check_public_value(g, off) == crypto_errc::invalid_public_value);
        CHECK(ke->shared_secret(off).error() == crypto_errc::invalid_public_value);
        CHECK(ke->shared_secret(bytes(n, 0)).error() == crypto_errc::invalid_public_value); // (0,0): "infinity"
        CHECK(ke->shared_secret(bytes(n, 0xff)).error() == crypto_errc::invalid_public_value); // coords >= p
        bytes compressed(1 + n / 2, 0x02); // SEC1 compressed form is not the IKE encoding
        CHECK(ke->shared_secret(compressed).error() == crypto_errc::public_value_size);
        bytes with_prefix(1 + n, 0x04);
        std::copy(keys[k].second.begin(), keys[k].second.end(), with_prefix.begin() + 1);
        CHECK(ke->shared_secret(with_prefix).error() == crypto_errc::public_value_size);
    }
}

TEST_CASE("dh: curve25519 matches python-cryptography; all-zero shared secrets rejected (RFC 8031 2.3)") {
    const bytes priv = pattern(32, 31), peer_priv = pattern(32, 32);
    auto peer = from_private(dh_group::curve25519, peer_priv);
    bytes peer_pub(peer->public_value().begin(), peer->public_value().end());
    auto out = split(oracle({"x25519 " + arg(priv) + " " + arg(peer_pub)})[0]);
    REQUIRE(out.size() == 2);
    auto ke = from_private(dh_group::curve25519, priv);
    CHECK(to_hex(ke->public_value()) == out[0]);
    CHECK(shared_hex(*ke, peer_pub) == out[1]);
    // Low-order points: u = 0 and u = 1 (little-endian, RFC 7748 5) give an all-zero output.
    bytes u1(32, 0);
    u1[0] = 1;
    CHECK(ke->shared_secret(bytes(32, 0)).error() == crypto_errc::zero_shared_secret);
    CHECK(ke->shared_secret(u1).error() == crypto_errc::zero_shared_secret);
    CHECK(ke->shared_secret(bytes(31, 9)).error() == crypto_errc::public_value_size);
    CHECK(ke->shared_secret(bytes(33, 9)).error() == crypto_errc::public_value_size);
}

TEST_CASE("dh: fresh key pairs agree for every supported group") {
    for (dh_group g : usable_groups) {
        INFO(dh_info(g).name);
        auto a = system_key_exchange_factory().create(g);
        auto b = generate_key_exchange(g);
        REQUIRE(a);
        REQUIRE(b);
        CHECK((*a)->public_value().size() == dh_info(g).public_size);
        auto ab = (*a)->shared_secret((*b)->public_value());
        auto ba = (*b)->shared_secret((*a)->public_value());
        REQUIRE(ab);
        REQUIRE(ba);
        CHECK(ab->size() == dh_info(g).shared_size);
        CHECK(*ab == *ba);
        CHECK(to_hex((*a)->public_value()) != to_hex((*b)->public_value()));
    }
}

TEST_CASE("dh: group 1 refused, unknown groups unsupported, weak groups flagged") {
    CHECK(generate_key_exchange(dh_group::modp768).error() == crypto_errc::refused_group);
    CHECK(key_exchange_from_private(dh_group::modp768, bytes(20, 1)).error() == crypto_errc::refused_group);
    CHECK(check_public_value(dh_group::modp768, bytes(96, 2)) == crypto_errc::refused_group);
    REQUIRE(find_dh_group(1) != nullptr);
    CHECK(find_dh_group(1)->refused);
    for (std::uint16_t unknown : {0, 3, 4, 27, 30, 32, 1000})
        CHECK(find_dh_group(unknown) == nullptr);
    CHECK(generate_key_exchange(static_cast<dh_group>(28)).error() == crypto_errc::unsupported_algorithm);
    for (dh_group weak : {dh_group::modp1024, dh_group::modp1536, dh_group::modp1024s160, dh_group::ecp192})
        CHECK(dh_info(weak).weak);
    for (dh_group strong : {dh_group::modp2048, dh_group::ecp256, dh_group::curve25519})
        CHECK_FALSE(dh_info(strong).weak);
    CHECK(dh_info(dh_group::ecp521).public_size == 132);
    CHECK(dh_info(dh_group::ecp521).shared_size == 66);
}

TEST_CASE("dh: fixed private values are validated") {
    CHECK(key_exchange_from_private(dh_group::curve25519, bytes(31, 1)).error() == crypto_errc::invalid_argument);
    CHECK(key_exchange_from_private(dh_group::ecp256, bytes(32, 0)).error() == crypto_errc::invalid_argument);
    CHECK(key_exchange_from_private(dh_group::ecp256, bytes(32, 0xff)).error() == crypto_errc::invalid_argument);
    CHECK(key_exchange_from_private(dh_group::modp2048s256, bytes(32, 0xff)).error() == crypto_errc::invalid_argument);
    CHECK(key_exchange_from_private(dh_group::modp2048, {}).error() == crypto_errc::invalid_argument);
}
