#pragma once
// Immutable tables published to the workers with DPDK's quiescent-state RCU (rte_rcu_qsbr):
// the control side swaps a pointer and retires the old object; the object is freed only
// once every registered worker has reported a quiescent state after the swap, so a worker
// never reads freed memory and never waits on a lock. Works without an initialised EAL
// (the QSBR variable is plain shared memory), which is what the unit tests rely on.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

struct rte_rcu_qsbr;

namespace dataplane {

class qsbr {
public:
    explicit qsbr(unsigned max_readers);
    ~qsbr();
    qsbr(const qsbr&) = delete;
    qsbr& operator=(const qsbr&) = delete;

    // Reader (worker) side.
    void register_reader(unsigned id);
    void unregister_reader(unsigned id);
    void online(unsigned id);
    void offline(unsigned id);
    void quiescent(unsigned id);  // "I hold no reference to anything published before now"

    // Writer side: a token after a swap, then poll (non-blocking) or wait.
    std::uint64_t start();
    [[nodiscard]] bool check(std::uint64_t token);
    void synchronize();

private:
    rte_rcu_qsbr* _v = nullptr;
};

template <class T>
class rcu_published {
public:
    explicit rcu_published(unsigned max_readers) : _qs(max_readers) {}
    ~rcu_published() {
        delete _cur.load();
        for (auto& r : _retired) delete r.obj;
    }

    qsbr& readers() { return _qs; }

    // Worker: valid until the worker's next quiescent() call.
    [[nodiscard]] const T* get() const { return _cur.load(std::memory_order_acquire); }

    // Control: install a new object; the old one is retired, freed by reclaim() once safe.
    void publish(std::unique_ptr<T> next) {
        std::lock_guard g(_m);
        T* old = _cur.exchange(next.release(), std::memory_order_acq_rel);
        if (old) _retired.push_back({_qs.start(), old});
    }
    // Frees retired objects no reader can still see; returns how many are still pending.
    std::size_t reclaim() {
        std::lock_guard g(_m);
        std::erase_if(_retired, [&](const retired& r) {
            if (!_qs.check(r.token)) return false;
            delete r.obj;
            return true;
        });
        return _retired.size();
    }

private:
    struct retired {
        std::uint64_t token;
        T* obj;
    };
    qsbr _qs;
    std::atomic<T*> _cur{nullptr};
    std::mutex _m;  // control side only
    std::vector<retired> _retired;
};

} // namespace dataplane
