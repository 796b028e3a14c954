#pragma once
// Time source for the IKE state machines. The endpoint never reads the system clock directly:
// it asks a clock, and its owner calls endpoint::on_timer() at endpoint::next_deadline(). Tests
// use fake_clock and advance it explicitly, so retransmission schedules run in microseconds.
#include <chrono>

namespace ike {

using ike_clock = std::chrono::steady_clock;
using time_point = ike_clock::time_point;
using duration = ike_clock::duration;

class clock {
public:
    virtual ~clock() = default;
    [[nodiscard]] virtual time_point now() const = 0;
};

class steady_clock_source final : public clock {
public:
    [[nodiscard]] time_point now() const override { return ike_clock::now(); }
};

class fake_clock final : public clock {
public:
    [[nodiscard]] time_point now() const override { return _now; }
    void advance(duration d) { _now += d; }
    void set(time_point t) { _now = t; }

private:
    time_point _now{std::chrono::hours(1)};  // not the epoch, so "zero" is never a valid deadline
};

} // namespace ike
