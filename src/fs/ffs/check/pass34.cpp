// Phase 3 (connectivity: every directory reachable from the root) and phase 4 (reference
// counts: di_nlink against the entries found). Facts: fsck_ffs pass3.c, pass4.c, dir.c
// (propagate, linkup, adjust) and inode.c (clri).
#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"

namespace uk::ffs::check {

void Checker::pass3() {
    // propagate(): a directory whose parent was reached is reached.
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> children;
    for (std::size_t i = 0; i < m_dirs.size(); ++i)
        if (m_dirs[i].parent != 0 && m_dirs[i].ino != root_ino)
            children[m_dirs[i].parent].push_back(i);
    std::vector<std::uint64_t> todo{root_ino};
    while (!todo.empty()) {
        const std::uint64_t d = todo.back();
        todo.pop_back();
        auto it = children.find(d);
        if (it == children.end())
            continue;
        for (std::size_t i : it->second) {
            InoInfo& info = m_ino[m_dirs[i].ino];
            if (info.state == State::dstate) {
                info.state = State::dfound;
                todo.push_back(m_dirs[i].ino);
            }
        }
    }
    // The directories still not reached, each in turn: the top of its unreachable chain is
    // offered to linkup(). Under -n nothing is reconnected, so a chain's top is offered again
    // for every directory below it, as fsck_ffs -n prints it.
    for (std::size_t i = m_dirs.size(); i-- > 0;) {
        const DirInfo* dir = &m_dirs[i];
        if (dir->ino == root_ino || m_ino[dir->ino].state != State::dstate)
            continue;
        std::size_t loopcnt = 0;
        while (dir->parent != 0 && m_ino[dir->parent].state == State::dstate &&
               loopcnt <= m_dirs.size()) {
            dir = &m_dirs[m_dir_index.at(dir->parent)];
            ++loopcnt;
        }
        if (loopcnt > m_dirs.size()) {
            problem(fmt::format("ORPHANED DIRECTORY LOOP DETECTED I={}", dir->ino),
                    fmt::format("ORPHANED DIRECTORY LOOP DETECTED I={}", dir->ino), "RECONNECT");
            continue;
        }
        linkup_refused(dir->ino, "DIR");
    }
}

// linkup() answered no: "UNREF DIR " or "UNREF FILE ", then pinode(), then the question.
void Checker::linkup_refused(std::uint64_t ino, std::string_view kind) {
    problem(fmt::format("UNREF {} I={}", kind, ino), fmt::format("UNREF {} {}", kind, pinode(ino)),
            "RECONNECT");
}

Result<void> Checker::pass4() {
    for (std::uint64_t ino = root_ino; ino <= m_lastino; ++ino) {
        const InoInfo& info = m_ino[ino];
        if (info.state == State::ustate)
            continue;
        const char* kind = info.type == dt_dir ? "DIR" : "FILE";
        auto clri = [&](std::string_view why) {
            problem(fmt::format("{} {} I={}", why, kind, ino),
                    fmt::format("{} {}{}", why, kind, pinode(ino)), "CLEAR");
        };
        switch (info.state) {
        case State::fstate:
        case State::dfound: {
            const Inode di = UKFS_TRY(read_inode(ino));
            const std::int64_t nlink = di.nlink;
            if (nlink == static_cast<std::int64_t>(info.refs))
                break;
            if (is_quota_inode(ino) || is_journal_inode(ino, di))  // named by no directory
                break;
            if (info.refs == 0 && nlink == 0) {
                clri("UNREF");
            } else if (info.refs == 0) {
                // adjust() -> linkup() refused -> clri() without a second header.
                linkup_refused(ino, kind);
                say("\nCLEAR? no\n\n");
            } else {
                const std::string line = fmt::format("LINK COUNT {} I={} COUNT {} SHOULD BE {}",
                                                     kind, ino, nlink, info.refs);
                problem(line,
                        fmt::format("LINK COUNT {}{} COUNT {} SHOULD BE {}", kind, pinode(ino),
                                    nlink, info.refs),
                        "ADJUST");
            }
            break;
        }
        case State::dstate: clri("UNREF"); break;
        case State::dclear:
        case State::fclear: clri("BAD/DUP"); break;
        case State::ustate: break;
        }
    }
    return {};
}

}  // namespace uk::ffs::check
