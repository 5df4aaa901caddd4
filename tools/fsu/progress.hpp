// The progress line of long copies (cp, ecp, populate): bytes, files and rate on standard
// error, redrawn at most ten times a second, only when standard error is a terminal.
#pragma once

#include <chrono>
#include <cstdint>

namespace fsu {

class Progress {
public:
    // The process's meter; inactive until start() on a terminal.
    static Progress& get();

    void start();  // begins showing, if standard error is a terminal
    void add_bytes(std::uint64_t n);
    void add_file();
    void finish();  // the last line, then a newline; inactive again

private:
    void draw(bool force);

    bool m_active = false;
    std::uint64_t m_bytes = 0, m_files = 0;
    std::chrono::steady_clock::time_point m_start, m_last;
};

// Shows progress from construction to destruction (a command's extent).
class ProgressScope {
public:
    ProgressScope() { Progress::get().start(); }
    ~ProgressScope() { Progress::get().finish(); }
    ProgressScope(const ProgressScope&) = delete;
    ProgressScope& operator=(const ProgressScope&) = delete;
};

}  // namespace fsu
