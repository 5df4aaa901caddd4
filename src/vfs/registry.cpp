// The driver registry.
#include "vfs/registry.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

namespace uk::vfs {

void register_builtin_drivers(Registry& registry);  // builtin.cpp

Registry& Registry::global() {
    static Registry* registry = [] {
        auto* r = new Registry;  // never destroyed: modules may hold pointers into it
        register_builtin_drivers(*r);
        return r;
    }();
    return *registry;
}

Result<void> Registry::add(Driver driver) {
    std::lock_guard guard(m_lock);
    for (const Driver& d : m_drivers)
        if (d.name == driver.name)
            return Error::sys(EEXIST, fmt::format("file system type {} is registered", d.name));
    m_drivers.push_back(std::move(driver));
    return {};
}

std::optional<Driver> Registry::find(std::string_view name) const {
    std::lock_guard guard(m_lock);
    for (const Driver& d : m_drivers)
        if (d.name == name)
            return d;
    return std::nullopt;
}

std::vector<std::string> Registry::names() const {
    std::lock_guard guard(m_lock);
    std::vector<std::string> out;
    for (const Driver& d : m_drivers)
        out.push_back(d.name);
    return out;
}

Result<Driver> Registry::detect(io::BlockDevice& dev) const {
    std::vector<Driver> drivers;
    {
        std::lock_guard guard(m_lock);
        drivers = m_drivers;
    }
    const Driver* best = nullptr;
    int best_score = 0;
    std::string tried;
    for (const Driver& d : drivers) {
        if (!d.detect)
            continue;
        tried += (tried.empty() ? "" : ", ") + d.name;
        int score = d.detect(dev);
        if (score > best_score) {
            best_score = score;
            best = &d;
        }
    }
    for (const Driver& d : drivers) {
        if (best || !d.detect_damaged)
            continue;
        int score = d.detect_damaged(dev);
        if (score > best_score) {
            best_score = score;
            best = &d;
        }
    }
    if (!best)
        return Error::sys(ENODEV, fmt::format("{}: no known file system found (tried: {})",
                                              dev.name(), tried.empty() ? "none" : tried));
    return *best;
}

Result<std::uint64_t> param_number(const FormatParams::value_type& param, std::uint64_t min,
                                   std::uint64_t max) {
    const std::string& v = param.second;
    auto bad = [&] {
        return Error::sys(EINVAL, fmt::format("{}={}: expected a number from {} to {}", param.first,
                                              v, min, max));
    };
    if (v.empty() || v[0] == '-' || v[0] == '+')
        return bad();
    char* end = nullptr;
    errno = 0;
    std::uint64_t n = std::strtoull(v.c_str(), &end, 0);
    if (errno != 0 || end == v.c_str())
        return bad();
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift != 0) {
        ++end;
        if (n > (UINT64_MAX >> shift))
            return bad();
        n <<= shift;
    }
    if (*end != '\0' || n < min || n > max)
        return bad();
    return n;
}

Error unknown_param(std::string_view type, const FormatParams::value_type& param) {
    return Error::sys(EINVAL, fmt::format("{} mkfs: unknown parameter \"{}\"", type, param.first));
}

}  // namespace uk::vfs
