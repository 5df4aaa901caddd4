// The line editor of `fsu shell` (libedit).
#include "line_editor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

// libedit's readline.h uses FILE without including stdio.h.
#include <cstdio>

#include <editline/readline.h>

namespace fsu {

namespace {

LineEditor* current = nullptr;
std::vector<std::string> candidates;  // of the completion in progress
std::size_t next_candidate = 0;

// Hands out the candidates complete() found.
char* generate(const char*, int state) {
    if (state == 0)
        next_candidate = 0;
    if (next_candidate >= candidates.size())
        return nullptr;
    return strdup(candidates[next_candidate++].c_str());
}

char** complete(const char* text, int start, int) {
    rl_attempted_completion_over = 1;  // never the host's file names

    const std::string before(rl_line_buffer, static_cast<std::size_t>(std::max(start, 0)));
    const bool first = before.find_first_not_of(" \t") == std::string::npos;
    candidates = current ? current->complete_word(text, first) : std::vector<std::string>{};
    // A directory completes to "dir/" with no space after it, ready for the next part.
    rl_completion_append_character =
        candidates.size() == 1 && candidates[0].ends_with('/') ? '\0' : ' ';
    return rl_completion_matches(text, generate);
}

}  // namespace

LineEditor::LineEditor(uk::Mount* mnt, std::vector<std::string> words)
    : m_mnt(mnt), m_words(std::move(words)) {
    std::sort(m_words.begin(), m_words.end());
    if (const char* h = std::getenv("FSU_HISTORY"))
        m_history = h;
    else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        m_history = std::string(home) + "/.fsu_history";
    current = this;
    rl_readline_name = "fsu";
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = const_cast<char*>(" \t");
    stifle_history(1000);
    if (!m_history.empty())
        read_history(m_history.c_str());
}

LineEditor::~LineEditor() {
    if (!m_history.empty())
        write_history(m_history.c_str());
    current = nullptr;
}

std::optional<std::string> LineEditor::read(const char* prompt) {
    char* raw = readline(prompt);
    if (raw == nullptr)
        return std::nullopt;
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") != std::string::npos)
        add_history(line.c_str());
    return line;
}

std::vector<std::string> LineEditor::complete_word(const std::string& text, bool first) const {
    std::vector<std::string> out;
    if (first) {
        for (const std::string& w : m_words)
            if (w.starts_with(text))
                out.push_back(w);
        return out;
    }
    // A path: list the directory part, match the last component.
    const std::size_t slash = text.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : text.substr(0, slash + 1);
    const std::string part = slash == std::string::npos ? text : text.substr(slash + 1);
    auto list = m_mnt->list(dir.empty() ? "." : dir);
    if (!list)
        return out;
    for (const uk::DirEntry& e : *list) {
        if (e.name == "." || e.name == ".." || !e.name.starts_with(part))
            continue;
        std::string full = dir + e.name;
        auto st = m_mnt->stat(full);
        if (st && S_ISDIR(st->st_mode))
            full += '/';
        out.push_back(std::move(full));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace fsu
