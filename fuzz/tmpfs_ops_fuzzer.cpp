// Operation sequences on a tmpfs mount, through the VFS: every operation's result is allowed to
// be an error, but afterwards the tree must be consistent (link counts match the entries that
// name each node, directories count their subdirectories) and the mount must release cleanly.
#include <ukfs/ukfs.hpp>

#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}
    bool done() const { return m_pos >= m_size; }
    std::uint8_t byte() { return m_pos < m_size ? m_data[m_pos++] : 0; }
    std::string path() {
        static const char* const names[] = {"a", "b", "c", "..", ".", "d"};
        std::string p = (byte() & 1) ? "/" : "";
        int depth = 1 + byte() % 3;
        for (int i = 0; i < depth; ++i)
            p += std::string(i ? "/" : "") + names[byte() % 6];
        return p;
    }

private:
    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
};

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

// Per inode: the entries naming it, and its link count.
using Links = std::map<std::uint64_t, std::pair<unsigned, unsigned>>;

// Walk the tree: count the entries naming each inode, and each directory's subdirectories.
void walk(uk::Mount& m, const std::string& dir, Links& names,
          int depth) {
    check(depth < 64, "directory tree deeper than any sequence can make");
    auto entries = m.list(dir);
    check(bool(entries), "listing a directory reached by walking");
    unsigned subdirs = 0;
    for (const uk::DirEntry& e : *entries) {
        if (e.name == "." || e.name == "..")
            continue;
        std::string p = dir + (dir == "/" ? "" : "/") + e.name;
        auto st = m.stat(p, uk::Follow::no);
        check(bool(st), "stat of a listed entry");
        check(st->st_ino == e.ino, "readdir and stat agree on the inode");
        if (S_ISDIR(st->st_mode)) {
            ++subdirs;
            walk(m, p, names, depth + 1);
        } else {
            ++names[st->st_ino].first;
            names[st->st_ino].second = static_cast<unsigned>(st->st_nlink);
        }
    }
    auto self = m.stat(dir);
    check(self->st_nlink == 2 + subdirs, "directory link count is 2 + subdirectories");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto mounted = uk::Mount::open("", uk::MountOptions{.type = "tmpfs"});
    check(bool(mounted), "tmpfs mounts");
    uk::Mount& m = *mounted;
    Input in(data, size);
    std::vector<std::byte> buf(4096, std::byte{0x5a});
    for (int ops = 0; !in.done() && ops < 256; ++ops) {
        switch (in.byte() % 12) {
        case 0: (void)m.mkdir(in.path(), 0755); break;
        case 1: (void)m.create(in.path(), 0644); break;
        case 2: (void)m.write(in.path(), in.byte() * 997u, std::span(buf).first(in.byte() * 16u)); break;
        case 3: (void)m.truncate(in.path(), in.byte() * 1031u); break;
        case 4: (void)m.remove(in.path()); break;
        case 5: (void)m.rmdir(in.path()); break;
        case 6: { auto a = in.path(); (void)m.rename(a, in.path()); break; }
        case 7: { auto a = in.path(); (void)m.link(a, in.path()); break; }
        case 8: { auto a = in.path(); (void)m.symlink(a, in.path()); break; }
        case 9: (void)m.read(in.path(), in.byte() * 13u, buf); break;
        case 10: (void)m.chdir(in.path()); break;
        case 11: (void)m.chmod(in.path(), in.byte() * 8u); break;
        }
    }
    (void)m.chdir("/");
    Links names;
    walk(m, "/", names, 0);
    for (const auto& [ino, seen] : names)
        check(seen.first == seen.second, "a file's link count equals the entries naming it");
    check(bool(m.release()), "release after the sequence");
    return 0;
}
