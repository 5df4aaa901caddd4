// The progress line.
#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace fsu {

namespace {

std::string human(double v, const char* suffix) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return fmt::format("{:.1f} {}{}", v, units[u], suffix);
}

}  // namespace

Progress& Progress::get() {
    static Progress p;
    return p;
}

void Progress::start() {
    if (m_active || isatty(STDERR_FILENO) == 0)
        return;
    m_active = true;
    m_bytes = m_files = 0;
    m_start = m_last = std::chrono::steady_clock::now();
}

void Progress::add_bytes(std::uint64_t n) {
    if (!m_active)
        return;
    m_bytes += n;
    draw(false);
}

void Progress::add_file() {
    if (!m_active)
        return;
    ++m_files;
    draw(false);
}

void Progress::finish() {
    if (!m_active)
        return;
    draw(true);
    std::fputc('\n', stderr);
    m_active = false;
}

void Progress::draw(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - m_last < std::chrono::milliseconds(100))
        return;
    m_last = now;
    const double secs = std::chrono::duration<double>(now - m_start).count();
    const double rate = secs > 0 ? static_cast<double>(m_bytes) / secs : 0;
    std::fflush(stdout);
    fmt::print(stderr, "\r\033[K{}  {} files  {}", human(static_cast<double>(m_bytes), ""), m_files,
               human(rate, "/s"));
    std::fflush(stderr);
}

}  // namespace fsu
