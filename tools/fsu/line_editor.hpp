// Interactive input for `fsu shell` on a terminal: line editing through libedit's readline
// interface, history kept in $HOME/.fsu_history (FSU_HISTORY overrides; empty: none), and Tab
// completion of command names (first word) and of paths in the image (other words).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ukfs/ukfs.hpp>

namespace fsu {

class LineEditor {
public:
    // One at a time: completion reaches the editor through a process-wide pointer.
    LineEditor(uk::Mount* mnt, std::vector<std::string> words);
    ~LineEditor();  // saves the history
    LineEditor(const LineEditor&) = delete;
    LineEditor& operator=(const LineEditor&) = delete;

    // The next line, or nullopt at end of input.
    std::optional<std::string> read(const char* prompt);

    // For the completion callbacks.
    std::vector<std::string> complete_word(const std::string& text, bool first) const;

private:
    uk::Mount* m_mnt;
    std::vector<std::string> m_words;  // command names, sorted
    std::string m_history;
};

}  // namespace fsu
