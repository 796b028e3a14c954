// Differential tests: random policy sets (IPv4 and IPv6, nested and overlapping prefixes, port
// ranges, protocols, priority ties, both directions) and random flows biased to hit them; the
// compiled classifier must agree with the linear reference on every flow, under several build
// options (tiny leaves and few cuts push the tree code through its corner cases). Seeds are
// fixed; a failure prints the seed, the options and the flow.
#include "spd_random.hpp"
#include "spd_test_util.hpp"

#include <spd/classifier.hpp>
#include <spd/linear.hpp>

#include <catch2/catch.hpp>

#include <cstdio>

using namespace spd;

namespace {

std::string describe(const flow_key& k) {
    auto s = ip_prefix{k.family, k.src, std::uint8_t(k.family == ip_family::v4 ? 32 : 128)}.to_string();
    auto d = ip_prefix{k.family, k.dst, std::uint8_t(k.family == ip_family::v4 ? 32 : 128)}.to_string();
    return s + " -> " + d + " proto " + std::to_string(k.proto) +
           (k.ports_known ? " ports " + std::to_string(k.sport) + "->" + std::to_string(k.dport) : " no ports");
}

// Returns the number of flows compared; any mismatch fails the test with the details.
std::size_t run_case(std::uint64_t seed, const spd_test::random_spec& spec, const build_options& opt,
                     std::size_t flows) {
    spd_test::random_sets gen(seed);
    auto ps = gen.policies(spec);
    const action dflt = gen.pick(2) ? action::bypass : action::discard;
    std::size_t compared = 0;
    for (direction dir : {direction::out, direction::in}) {
        linear_classifier lin(ps, dir, dflt);
        classifier cls(ps, dir, dflt, opt);
        std::vector<flow_key> in(classifier::burst_size);
        std::vector<verdict> a(in.size()), b(in.size());
        for (std::size_t done = 0; done < flows; done += in.size()) {
            for (auto& k : in) k = gen.flow(ps);
            cls.classify(in, a);
            lin.classify(in, b);
            for (std::size_t i = 0; i < in.size(); ++i) {
                if (a[i] == b[i]) continue;
                INFO("seed " << seed << " policies " << spec.policies << " leaf_size " << opt.leaf_size
                     << " space_factor " << opt.space_factor << " max_cut_bits " << opt.max_cut_bits
                     << " max_depth " << opt.max_depth << " dir " << to_string(dir));
                INFO("flow " << describe(in[i]));
                INFO("compiled: " << (a[i].policy == no_policy ? "default" : ps[a[i].policy].name)
                     << " reference: " << (b[i].policy == no_policy ? "default" : ps[b[i].policy].name));
                REQUIRE(a[i] == b[i]);
            }
            compared += in.size();
        }
    }
    return compared;
}

} // namespace

TEST_CASE("compiled classifier agrees with the linear reference on random sets", "[spd][differential]") {
    const std::vector<build_options> opts{
        build_options{},
        build_options{.leaf_size = 1, .space_factor = 1.5, .max_cut_bits = 1},
        build_options{.leaf_size = 2, .space_factor = 8, .max_cut_bits = 4, .max_depth = 3},
        build_options{.leaf_size = 4, .space_factor = 2, .max_cut_bits = 8, .wide_v4_len = 16, .wide_v6_len = 48},
        build_options{.leaf_size = 2, .max_replication = 1, .small_group = 64},  // memory budget hit early
        build_options{.leaf_size = 1, .space_factor = 16, .small_group = 1000},     // one tree per family
    };
    std::size_t compared = 0;
    for (std::uint64_t seed = 1; seed <= 160; ++seed) {
        spd_test::random_spec spec;
        spec.policies = 1 + (seed * 37) % 200;
        spec.priority_range = 1 + unsigned(seed % 12);
        spec.base_pool = 1 + unsigned(seed % 8);
        spec.port_percent = unsigned(seed * 13 % 100);
        compared += run_case(seed, spec, opts[seed % opts.size()], 320);
    }
    std::printf("differential: %zu flows compared\n", compared);
    CHECK(compared >= 100000);
}

TEST_CASE("compiled classifier agrees with the reference on larger sets", "[spd][differential]") {
    std::size_t compared = 0;
    for (std::uint64_t seed = 1000; seed < 1004; ++seed) {
        spd_test::random_spec spec;
        spec.policies = 1500;
        spec.priority_range = 200;
        spec.base_pool = 20;
        spec.any_addr_percent = 10;
        compared += run_case(seed, spec, build_options{}, 2048);
    }
    CHECK(compared == 4 * 2 * 2048);
}

TEST_CASE("single-address-family sets with only tie priorities", "[spd][differential]") {
    for (std::uint64_t seed = 2000; seed < 2020; ++seed) {
        spd_test::random_spec spec;
        spec.policies = 100;
        spec.priority_range = 1;  // every policy ties: list order decides
        spec.v6_percent = seed % 2 ? 100 : 0;
        spec.any_addr_percent = 0;
        spec.base_pool = 2;
        CHECK(run_case(seed, spec, build_options{.leaf_size = 3}, 640) == 2 * 640);
    }
}

TEST_CASE("port-range-only sets: unaligned ranges across cut boundaries", "[spd][differential]") {
    // Prefixes are aligned blocks, so only port ranges straddle cut boundaries partially; this
    // exercises the subtree-reuse condition and shadowing with ranges.
    std::size_t compared = 0;
    for (std::uint64_t seed = 3000; seed < 3040; ++seed) {
        spd_test::random_spec spec;
        spec.policies = 20 + seed % 60;
        spec.priority_range = 1 + unsigned(seed % 5);
        spec.any_addr_percent = seed % 4 == 0 ? 80 : 100;
        spec.port_percent = 100;
        build_options opt{.leaf_size = 1 + unsigned(seed % 3), .space_factor = 2 + double(seed % 7),
                          .max_cut_bits = 1 + unsigned(seed % 4)};
        compared += run_case(seed, spec, opt, 640);
    }
    CHECK(compared == 40 * 2 * 640);
}
