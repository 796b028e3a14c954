#include "table.hpp"

#include <algorithm>

namespace ipsecctl {

std::string table::render() const {
    std::vector<std::size_t> width(_header.size(), 0);
    auto measure = [&](const std::vector<std::string>& r) {
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    };
    measure(_header);
    for (const auto& r : _rows) measure(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
        std::string l;
        for (std::size_t i = 0; i < width.size(); ++i) {
            std::string cell = i < r.size() ? r[i] : "";
            l += cell;
            if (i + 1 < width.size()) l += std::string(width[i] - cell.size() + 2, ' ');
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + '\n';
    };
    line(_header);
    for (const auto& r : _rows) line(r);
    return out;
}

std::string key_values(const std::vector<std::pair<std::string, std::string>>& kv) {
    std::size_t w = 0;
    for (const auto& [k, v] : kv) w = std::max(w, k.size());
    std::string out;
    for (const auto& [k, v] : kv) out += k + ":" + std::string(w - k.size() + 1, ' ') + v + '\n';
    return out;
}

} // namespace ipsecctl
