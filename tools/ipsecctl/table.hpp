#pragma once
// Column-aligned tables and key/value blocks for ipsecctl's human output.
#include <string>
#include <vector>

namespace ipsecctl {

class table {
public:
    explicit table(std::vector<std::string> header) : _header(std::move(header)) {}
    void add(std::vector<std::string> row) { _rows.push_back(std::move(row)); }
    [[nodiscard]] std::string render() const;

private:
    std::vector<std::string> _header;
    std::vector<std::vector<std::string>> _rows;
};

// "key: value" lines with the keys padded to one width.
std::string key_values(const std::vector<std::pair<std::string, std::string>>& kv);

} // namespace ipsecctl
