// rte_rcu_qsbr wrapper: memory sized by rte_rcu_qsbr_get_memsize, cache-line aligned.
#include "dataplane/snapshot.hpp"

#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <new>
#include <stdexcept>

namespace dataplane {

qsbr::qsbr(unsigned max_readers) {
    auto sz = rte_rcu_qsbr_get_memsize(max_readers);
    if (sz == size_t(1)) throw std::invalid_argument("qsbr: bad reader count");
    sz = (sz + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
    _v = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, sz));
    if (!_v) throw std::bad_alloc();
    if (rte_rcu_qsbr_init(_v, max_readers) != 0) {
        std::free(_v);
        throw std::runtime_error("qsbr: rte_rcu_qsbr_init failed");
    }
}

qsbr::~qsbr() { std::free(_v); }

void qsbr::register_reader(unsigned id) { rte_rcu_qsbr_thread_register(_v, id); }
void qsbr::unregister_reader(unsigned id) { rte_rcu_qsbr_thread_unregister(_v, id); }
void qsbr::online(unsigned id) { rte_rcu_qsbr_thread_online(_v, id); }
void qsbr::offline(unsigned id) { rte_rcu_qsbr_thread_offline(_v, id); }
void qsbr::quiescent(unsigned id) { rte_rcu_qsbr_quiescent(_v, id); }
std::uint64_t qsbr::start() { return rte_rcu_qsbr_start(_v); }
bool qsbr::check(std::uint64_t token) { return rte_rcu_qsbr_check(_v, token, false) == 1; }
void qsbr::synchronize() { rte_rcu_qsbr_synchronize(_v, RTE_QSBR_THRID_INVALID); }

} // namespace dataplane
