// Read-write mounts of FFS images made by makefs and by our newfs, judged by others
// (ORACLES.md): the same operations run through the driver and on a host directory (the
// model). Every test ends with our checker (fsck_ffs' phases) finding nothing and an
// independent reader (image_support.hpp: The Sleuth Kit, or GRUB where TSK cannot find the
// superblock) showing the model's tree, with a note where neither can read the image. Then
// deep and sparse files, freeing everything, the refusals, and a random operation sequence
// compared with the model at every step.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/model.hpp"
#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/newfs.hpp"
#include "image_support.hpp"

namespace uk::ffs::test {
namespace {

struct Variant {
    const char* name;
    const char* opts;  // makefs' options, or our newfs' -o words (newfs_params) when `ours`
    bool ufs2;
    bool ours = false;  // made by our newfs: a UFS2 superblock at 65536, where TSK looks
};

const Variant variants[] = {
    {"ufs2_le_8k_newfs", "version=2,endian=le,bsize=8192,fsize=1024", true, true},
    {"ufs2_be_16k_newfs", "version=2,endian=be,bsize=16384,fsize=2048", true, true},
    {"ufs1_be_8k_newfs", "version=1,endian=be,bsize=8192,fsize=1024", false, true},
    {"ufs1_le_8k", "-o version=1,bsize=8192,fsize=1024 -B le -s 32m -f 4096", false},
    {"ufs2_be_8k", "-o version=2,bsize=8192,fsize=1024 -B be -s 32m -f 4096", true},
    {"ufs2_le_4k", "-o version=2,bsize=4096,fsize=512 -B le -s 32m -f 4096", true},
    {"ufs1_be_32k", "-o version=1,bsize=32768,fsize=4096 -B be -s 32m -f 4096", false},
    {"ufs2_le_32k", "-o version=2,bsize=32768,fsize=4096 -B le -s 32m -f 4096", true},
    {"ufs1_le_4k_frag1", "-o version=1,bsize=4096,fsize=4096 -B le -s 32m -f 4096", false},
};

using uk::test::Both;

// Fixed times on every node (children first, so a directory's own time is the last set).
void stamp_times(Both& both, const fs::path& model) {
    auto paths = uk::test::walk_host(model);
    std::reverse(paths.begin(), paths.end());
    long k = 0;
    for (const fs::path& p : paths)
        both.utimes("/" + p.lexically_relative(model).string(),
                    timespec{1'600'000'000 + 1000 * k, 123'456'789 + k++});
    both.utimes("/", timespec{1'700'000'000, 987'654'321});
}

// Our checker finds nothing wrong.
void expect_clean(const fs::path& img) {
    auto dev = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(dev);
    std::string out;
    auto r = check::check(**dev, {}, [&](std::string_view s) { out += s; });
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->exit_code, 0) << out;
    EXPECT_TRUE(r->problems.empty()) << out;
}

struct Totals {
    std::uint64_t ndir, nbfree, nifree, nffree;
    bool operator==(const Totals&) const = default;
};

Totals totals(const fs::path& img) {
    auto dev = io::ImageFile::open(img.string(), true);
    EXPECT_TRUE(dev);
    auto found = find_superblock(**dev);
    EXPECT_TRUE(found);
    auto g = derive_geometry(*found, (*dev)->size());
    EXPECT_TRUE(g);
    return {g->cs_ndir, g->cs_nbfree, g->cs_nifree, g->cs_nffree};
}

// The random operation sequence (RandomOperations): a few names in a few directories, so that
// operations meet each other's nodes, chosen by a generator seeded per variant.
class RandomSequence {
public:
    RandomSequence(std::uint32_t seed, fs::path model, std::uint32_t bsize)
        : m_rng(seed), m_model(std::move(model)), m_bsize(bsize) {}

    // One operation, and what to check after it.
    struct Step {
        std::string what;
        std::function<void(Both&)> apply;  // the operation, through Both's try_ forms
        std::vector<std::string> nodes;    // compared, and stamped with fixed times, after it
        std::vector<std::string> dirs;     // the same, and their listings compared
        std::string watch;                 // a file whose mtime must change on both or neither
        bool stamp = true;                 // false: the step set the times itself
    };

    // The next operation, chosen from the model's present tree.
    Step next();

private:
    struct Node {
        std::string path;
        fs::file_type type;
        std::uint64_t size;
    };

    std::size_t pick(std::size_t n) { return static_cast<std::size_t>(m_rng() % n); }
    bool chance(std::size_t percent) { return pick(100) < percent; }
    template <class T>
    const T& one_of(const std::vector<T>& v) {
        return v[pick(v.size())];
    }

    // The model's nodes, sorted (the host's directory order must not steer the sequence).
    void survey() {
        m_nodes.clear();
        m_bytes = 0;
        m_nodes.push_back({"/", fs::file_type::directory, 0});
        for (const fs::path& p : uk::test::walk_host(m_model)) {
            struct stat st {};
            ::lstat(p.c_str(), &st);
            const fs::file_type t = fs::symlink_status(p).type();
            m_nodes.push_back({"/" + p.lexically_relative(m_model).string(), t,
                               static_cast<std::uint64_t>(st.st_size)});
            if (t == fs::file_type::regular)
                m_bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
        }
        std::sort(m_nodes.begin(), m_nodes.end(),
                  [](const Node& a, const Node& b) { return a.path < b.path; });
    }
    std::vector<const Node*> nodes_where(const std::function<bool(const Node&)>& keep) const {
        std::vector<const Node*> out;
        for (const Node& n : m_nodes)
            if (keep(n))
                out.push_back(&n);
        return out;
    }
    const Node* find(const std::string& path) const {
        for (const Node& n : m_nodes)
            if (n.path == path)
                return &n;
        return nullptr;
    }
    static bool is(const Node& n, fs::file_type t) { return n.type == t; }
    static std::string parent(const std::string& p) {
        const std::string d = fs::path(p).parent_path().string();
        return d.empty() ? "/" : d;
    }
    static std::string join(const std::string& dir, const std::string& name) {
        return dir == "/" ? "/" + name : dir + "/" + name;
    }
    static std::size_t depth(const std::string& p) {
        return p == "/" ? 0 : static_cast<std::size_t>(std::count(p.begin(), p.end(), '/'));
    }
    // The deepest node below `dir`, counted from `dir`.
    std::size_t height(const std::string& dir) const {
        std::size_t h = 0;
        for (const Node& n : m_nodes)
            if (n.path.rfind(dir + "/", 0) == 0)
                h = std::max(h, depth(n.path) - depth(dir));
        return h;
    }
    std::string some_dir(std::size_t max_depth = 99) {
        auto dirs = nodes_where([&](const Node& n) {
            return is(n, fs::file_type::directory) && depth(n.path) <= max_depth;
        });
        return one_of(dirs)->path;
    }
    // A name in a directory, which may or may not exist; `long_ok`: 255 bytes now and then.
    std::string some_name(const std::string& dir, bool long_ok) {
        static const std::vector<std::string> pool{
            "a", "b", "c", "d", "e", "f", "g", "name-of-sixty-bytes-" + std::string(40, 'x')};
        if (long_ok && chance(4))
            return join(dir, std::string(255, 'L'));
        return join(dir, one_of(pool));
    }
    std::string new_path(bool long_ok, std::size_t max_depth = 99) {
        return some_name(some_dir(max_depth), long_ok);
    }
    // An existing node other than the root, matching `keep`; empty when there is none.
    std::string existing(const std::function<bool(const Node&)>& keep) {
        auto v = nodes_where([&](const Node& n) { return n.path != "/" && keep(n); });
        return v.empty() ? std::string() : one_of(v)->path;
    }
    std::mt19937 m_rng;
    fs::path m_model;
    std::uint32_t m_bsize;
    std::vector<Node> m_nodes;
    std::uint64_t m_bytes = 0;  // the model's regular files' blocks, in bytes
};

RandomSequence::Step RandomSequence::next() {
    survey();
    Step s;
    const auto reg = [](const Node& n) { return is(n, fs::file_type::regular); };
    const auto dir = [](const Node& n) { return is(n, fs::file_type::directory); };
    const auto nondir = [](const Node& n) { return !is(n, fs::file_type::directory); };
    const auto any = [](const Node&) { return true; };
    // Keep well inside 32 MiB, and the files small enough to compare at every step (up to
    // the double indirect block at 4 KiB blocks; DeepSparseFile goes deeper).
    const bool full = m_bytes > (std::uint64_t{6} << 20);
    const std::uint64_t max_size = std::uint64_t{3} << 20;
    // The step names `p` and changes its directory.
    const auto touches = [&](const std::string& p) {
        s.nodes.push_back(p);
        s.dirs.push_back(parent(p));
    };
    for (;;) {
        const std::size_t op = pick(100);
        if (op < 22) {  // write: extend, overwrite, or past the end leaving a hole
            if (full)
                continue;
            std::string p = existing(reg);
            if (p.empty() || chance(25))
                p = new_path(true);
            const Node* n = find(p);
            if (n != nullptr && !is(*n, fs::file_type::regular) &&
                !(is(*n, fs::file_type::directory) && chance(20)))
                continue;  // never through a symlink, a FIFO or a device; a directory: EISDIR
            const std::uint64_t size = n != nullptr ? n->size : 0;
            std::uint64_t off = 0;
            const std::size_t how = pick(4);
            if (how == 1)
                off = size;  // extend
            else if (how == 2 && size > 0)
                off = pick(static_cast<std::size_t>(size));  // overwrite
            else if (how == 3)
                off = size + 1 + (chance(20) ? pick(2 << 20) : pick(3 * m_bsize));  // a hole
            const std::size_t len = chance(10)   ? 1 + pick(300000)
                                    : chance(50) ? 1 + pick(3 * m_bsize)
                                                 : 1 + pick(100);
            if (off + len > max_size)
                continue;
            s.what = fmt::format("write {} at {} len {} (size {})", p, off, len, size);
            s.nodes.push_back(p);
            s.dirs.push_back(parent(p));
            if (n != nullptr && reg(*n))
                s.watch = p;
            s.apply = [=, data = pattern(len, m_rng())](Both& b) { b.try_write(p, off, data); };
        } else if (op < 30) {  // truncate: shrink or grow; a directory now and then (EISDIR)
            std::string p = chance(5) ? existing(dir) : existing(reg);
            if (p.empty())
                continue;
            const Node* n = find(p);
            const std::uint64_t size =
                chance(50) ? pick(static_cast<std::size_t>(n->size) + 1)
                           : n->size + (chance(10) ? pick(2 << 20) : pick(4 * m_bsize));
            if ((full || size > max_size) && size > n->size)
                continue;
            s.what = fmt::format("truncate {} to {} (size {})", p, size, n->size);
            s.nodes.push_back(p);
            if (reg(*n) && size != n->size)
                s.watch = p;  // to the same size, POSIX leaves the mtime to the system
            s.apply = [=](Both& b) { b.try_truncate(p, size); };
        } else if (op < 35) {  // create
            static const std::vector<std::uint32_t> modes{0644, 0600, 0755, 04755, 02644, 0};
            const std::string p = new_path(true);
            const std::uint32_t mode = one_of(modes);
            s.what = fmt::format("create {} {:o}", p, mode);
            touches(p);
            s.apply = [=](Both& b) { b.try_create(p, mode); };
        } else if (op < 43) {  // mkdir
            static const std::vector<std::uint32_t> modes{0755, 0700, 0777, 0750, 01777};
            const std::string p = new_path(false, 3);
            const std::uint32_t mode = one_of(modes);
            s.what = fmt::format("mkdir {} {:o}", p, mode);
            touches(p);
            s.apply = [=](Both& b) { b.try_mkdir(p, mode); };
        } else if (op < 49) {  // rmdir: empty, not empty (ENOTEMPTY), not a directory (ENOTDIR)
            const std::string p = chance(10) ? existing(nondir) : existing(dir);
            if (p.empty())
                continue;
            s.what = "rmdir " + p;
            touches(p);
            s.apply = [=](Both& b) { b.try_rmdir(p); };
        } else if (op < 57) {  // unlink; a directory now and then (EISDIR)
            const std::string p = chance(10) ? existing(dir) : existing(nondir);
            if (p.empty())
                continue;
            s.what = "unlink " + p;
            touches(p);
            s.apply = [=](Both& b) { b.try_remove(p); };
        } else if (op < 63) {  // link; to a directory now and then (EPERM)
            const bool of_dir = chance(10);
            const std::string from = of_dir ? existing(dir) : existing(nondir);
            if (from.empty())
                continue;
            // A directory to a new name only: over an existing one Linux says EEXIST and the
            // VFS EPERM, both of which POSIX allows.
            const std::string p = of_dir ? join(some_dir(), "new-link") : new_path(true);
            s.what = "link " + from + " " + p;
            s.nodes.push_back(from);
            touches(p);
            s.apply = [=](Both& b) { b.try_link(from, p); };
        } else if (op < 70) {  // symlink: targets short (in the inode) and long
            static const std::vector<std::size_t> lengths{1,   7,   59,  60,  61,  119,
                                                          120, 121, 200, 600, 1000};
            const std::size_t len = one_of(lengths);
            std::string target;
            while (target.size() < len)
                target += fmt::format("t{}/", pick(1000));
            target.resize(len);
            if (target.back() == '/')
                target.back() = 'z';
            const std::string p = new_path(true);
            s.what = fmt::format("symlink {} ({} bytes)", p, len);
            touches(p);
            s.apply = [=](Both& b) { b.try_symlink(target, p); };
        } else if (op < 82) {  // rename
            const std::string from = existing(any);
            if (from.empty())
                continue;
            const Node* n = find(from);
            const bool is_dir = dir(*n);
            std::string to;
            const std::size_t how = pick(10);
            if (how < 4) {
                to = new_path(!is_dir);  // anywhere: a new name, or over what is there
            } else if (how < 6) {
                to = existing([&](const Node& m) { return dir(m) == is_dir; });  // over its kind
            } else if (how < 7) {
                to = existing([&](const Node& m) { return dir(m) != is_dir; });  // EISDIR, ENOTDIR
            } else if (how < 8 && is_dir) {
                // Into its own subtree: EINVAL.
                auto below = nodes_where([&](const Node& m) {
                    return dir(m) && (m.path == from || m.path.rfind(from + "/", 0) == 0);
                });
                to = some_name(one_of(below)->path, false);
            } else {
                to = some_name(parent(from), !is_dir);  // in the same directory
            }
            if (to.empty() || to == "/")
                continue;
            // A non-directory over a directory above it: POSIX allows EISDIR (the VFS's, as
            // NetBSD's rename checks the types first) and ENOTEMPTY (Linux's, which checks
            // the ancestry first).
            if (!is_dir && from.rfind(to + "/", 0) == 0)
                continue;
            // A directory into its own subtree over a non-directory: EINVAL (Linux, ancestry
            // first) and ENOTDIR (the VFS, types first) are both POSIX's.
            const Node* over = find(to);
            if (is_dir && over != nullptr && !dir(*over) && to.rfind(from + "/", 0) == 0)
                continue;
            if (is_dir && depth(parent(to)) + 1 + height(from) > 5)
                continue;  // keep paths short
            s.what = "rename " + from + " " + to;
            s.nodes = {from, to};
            s.dirs = {parent(from), parent(to)};
            s.apply = [=](Both& b) { b.try_rename(from, to); };
        } else if (op < 86) {  // chmod (not on a symlink: Linux cannot)
            static const std::vector<std::uint32_t> modes{0,     0644,  0600, 0755,  04755, 02755,
                                                          02644, 01777, 0777, 06711, 0444};
            const std::string p =
                chance(5) ? "/"
                          : existing([](const Node& n) { return !is(n, fs::file_type::symlink); });
            if (p.empty())
                continue;
            const std::uint32_t mode = one_of(modes);
            s.what = fmt::format("chmod {} {:o}", p, mode);
            s.nodes.push_back(p);
            s.apply = [=](Both& b) { b.try_chmod(p, mode); };
        } else if (op < 90) {  // chown, symlinks too
            static const std::vector<std::uint32_t> ids{0, 1, 1000, 65534, 70000, 3000000000u};
            const std::string p = chance(5) ? "/" : existing(any);
            if (p.empty())
                continue;
            const std::uint32_t uid = one_of(ids), gid = one_of(ids);
            s.what = fmt::format("chown {} {}:{}", p, uid, gid);
            s.nodes.push_back(p);
            s.apply = [=](Both& b) { b.try_chown(p, uid, gid); };
        } else if (op < 93) {  // utimes, symlinks too
            const std::string p = existing(any);
            if (p.empty())
                continue;
            const timespec t{static_cast<time_t>(m_rng() % 2'000'000'000u),
                             static_cast<long>(m_rng() % 1'000'000'000u)};
            s.what = fmt::format("utimes {} {}.{:09}", p, t.tv_sec, t.tv_nsec);
            s.nodes.push_back(p);
            s.apply = [=](Both& b) { b.try_utimes(p, t); };
            s.stamp = false;   // its own times are the point
        } else if (op < 97) {  // mknod: a FIFO, a character or a block device
            const std::size_t kind = pick(3);
            const std::uint32_t mode = (kind == 0   ? S_IFIFO
                                        : kind == 1 ? S_IFCHR
                                                    : S_IFBLK) |
                                       (chance(50) ? 0644 : 0600);
            const dev_t rdev = kind == 0 ? 0 : makedev(pick(4096), pick(1 << 20));
            const std::string p = new_path(true);
            s.what = fmt::format("mknod {} {:o} {}:{}", p, mode, major(rdev), minor(rdev));
            touches(p);
            s.apply = [=](Both& b) { b.try_mknod(p, mode, rdev); };
        } else {  // a name in a directory that is not there: ENOENT everywhere
            const std::string p = join(new_path(false), "missing");
            s.what = "mkdir, rename and link under " + p;
            const std::string from = existing(nondir);
            s.apply = [=](Both& b) {
                b.try_mkdir(join(p, "x"), 0755);
                if (!from.empty())
                    b.try_rename(from, join(p, "x"));
                b.try_symlink("t", join(p, "x"));
            };
        }
        return s;
    }
}

class FfsWrites : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root (owners and device nodes in the model tree)";
        fs::create_directories(m_work.path() / "src");
        m_img = m_work.path() / "img";
        m_model = m_work.path() / "model";
        fs::create_directories(m_model);
        if (!GetParam().ours) {
            ASSERT_EQ(make_image(m_work.path() / "src", m_img, GetParam().opts), 0);
            // The image has the block and fragment sizes asked for (makefs' -b and -f are
            // something else: the free blocks and free inodes to leave).
            const std::string opts = GetParam().opts;
            auto dev = io::ImageFile::open(m_img.string(), true);
            ASSERT_TRUE(dev);
            auto g = derive_geometry(*find_superblock(**dev), (*dev)->size());
            ASSERT_TRUE(g);
            EXPECT_NE(opts.find(fmt::format("bsize={},fsize={}", g->bsize, g->fsize)),
                      std::string::npos)
                << opts << ": made with " << g->bsize << "/" << g->fsize;
            return;
        }
        vfs::FormatParams params;
        for (std::string_view words = GetParam().opts; !words.empty();) {
            const std::string_view w = words.substr(0, words.find(','));
            words.remove_prefix(std::min(words.size(), w.size() + 1));
            params.emplace_back(std::string(w.substr(0, w.find('='))),
                                std::string(w.substr(w.find('=') + 1)));
        }
        write_host_file(m_img, std::vector<std::byte>(std::size_t{32} << 20));
        auto dev = io::ImageFile::open(m_img.string(), false);
        ASSERT_TRUE(dev);
        auto r = newfs_params(**dev, params);
        ASSERT_TRUE(r) << r.error().describe();
    }
    TempDir m_work;
    fs::path m_img, m_model;
};

TEST_P(FfsWrites, OperationsMatchModel) {
    const Totals fresh = totals(m_img);
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        Both b(**m, m_model);
        b.mkdir("/a");
        b.mkdir("/a/b");
        b.mkdir("/a/b/c", 0700);
        b.write("/empty", 0, {});
        b.write("/one", 0, pattern(1, 1));
        for (std::size_t size : {511u, 4095u, 4096u, 4097u, 100000u, 3u << 20})
            b.write("/a/f" + std::to_string(size), 0,
                    pattern(size, static_cast<std::uint32_t>(size)));
        b.write("/a/sparse", 5u << 20, pattern(5000, 9));
        b.write("/a/sparse", 5000, pattern(100, 10));
        b.write("/a/f100000", 50000, pattern(70000, 11));  // overwrite and extend
        b.write("/tail", 0, pattern(700, 12));             // a fragment tail...
        b.write("/tail2", 0, pattern(700, 13));            // ...with a neighbour
        b.write("/tail", 700, pattern(2000, 14));          // grown in place or moved
        b.write("/tail", 2700, pattern(40000, 15));        // into whole blocks
        b.truncate("/a/f4097", 10);
        b.truncate("/a/f3145728", 1000000);
        b.truncate("/one", 300000);  // grow: a hole
        b.truncate("/tail2", 5000);  // grow a tail
        b.symlink("short/target", "/a/fast");
        b.symlink(std::string(300, 'x') + "/end", "/a/slow");
        b.link("/a/f4096", "/a/b/hard");
        b.mknod("/a/fifo", S_IFIFO | 0640, 0);
        b.mknod("/a/chr", S_IFCHR | 0600, makedev(4, 5));
        b.mknod("/a/blk", S_IFBLK | 0600, makedev(300, 70000));
        b.chmod("/a/f4095", 04751);
        b.chown("/a/f4095", 1234, 5678);
        b.chown("/a/b", 70000, 80000);
        b.rename("/a/f4096", "/a/renamed");      // same directory
        b.rename("/a/renamed", "/a/b/c/moved");  // across directories
        b.rename("/a/f100000", "/one");          // over an existing file
        b.mkdir("/d1");
        b.mkdir("/d1/sub");
        b.mkdir("/d2");
        b.rename("/d1/sub", "/d2/sub");  // a directory across parents
        b.mkdir("/d3");
        b.rename("/d2/sub", "/d3");  // over an empty directory
        b.remove("/a/f4095");
        b.rmdir("/d1");
        b.mkdir("/many");
        for (int i = 0; i < 300; ++i)
            b.write(fmt::format("/many/entry-with-a-longish-name-{:05}", i), 0,
                    pattern(static_cast<std::size_t>(i % 7), static_cast<std::uint32_t>(i)));
        for (int i = 0; i < 300; i += 2)
            b.remove(fmt::format("/many/entry-with-a-longish-name-{:05}", i));
        for (int i = 0; i < 100; ++i)
            b.write(fmt::format("/many/n{:03}", i), 0, pattern(10, static_cast<std::uint32_t>(i)));
        stamp_times(b, m_model);
        auto r = (*m)->unmount(false);
        ASSERT_TRUE(r) << r.error().describe();
    }
    expect_clean(m_img);
    expect_reader_sees(m_img, m_model);
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m) << m.error().describe();
        compare_tree(**m, m_model, true);
    }
    // Remove everything: the free counts come back to the fresh image's.
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto paths = uk::test::walk_host(m_model);
        std::reverse(paths.begin(), paths.end());
        for (const fs::path& p : paths) {
            const std::string rel = "/" + p.lexically_relative(m_model).string();
            auto r = uk::test::is_real_dir(p) ? (*m)->rmdir(rel) : (*m)->remove(rel);
            ASSERT_TRUE(r) << rel << ": " << r.error().describe();
            fs::remove(p);
        }
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    EXPECT_EQ(totals(m_img), fresh);
    expect_reader_sees(m_img, m_model);  // empty
}

// Files deep in the block map: single, double and triple indirect blocks, written sparsely.
TEST_P(FfsWrites, DeepSparseFile) {
    const Totals fresh = totals(m_img);
    const Geometry g = [&] {
        auto dev = io::ImageFile::open(m_img.string(), true);
        return *derive_geometry(*find_superblock(**dev), (*dev)->size());
    }();
    const std::uint64_t single = std::uint64_t{ndaddr} * g.bsize;
    const std::uint64_t dbl = single + std::uint64_t{g.nindir} * g.bsize;
    const std::uint64_t triple = dbl + std::uint64_t{g.nindir} * g.nindir * g.bsize;
    std::vector<std::uint64_t> offsets{0, single + 17, dbl + 3 * g.bsize + 5};
    if (triple + 100000 <= g.maxfilesize)
        offsets.push_back(triple + 12345);
    const fs::path deep = m_model / "deep";  // the model: a sparse host file
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto fd = (*m)->open("/deep", O_RDWR | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        const int hfd = ::open(deep.c_str(), O_RDWR | O_CREAT, 0644);
        ASSERT_GE(hfd, 0);
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            const std::vector<std::byte> data = pattern(3 * g.bsize, 40 + i);
            auto n = (*m)->write_fd(*fd, offsets[i], data, false);
            ASSERT_TRUE(n) << n.error().describe();
            ASSERT_EQ(::pwrite(hfd, data.data(), data.size(), static_cast<off_t>(offsets[i])),
                      static_cast<ssize_t>(data.size()));
        }
        ::close(hfd);
        ASSERT_TRUE((*m)->close(*fd));
        Both b(**m, m_model);
        stamp_times(b, m_model);
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    // Sizes and the blocks that hold data: the readers never stream gigabytes of holes.
    expect_reader_sees(m_img, m_model);
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m);
        auto fd = (*m)->open("/deep", O_RDONLY, 0);
        ASSERT_TRUE(fd);
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            std::vector<std::byte> got(3 * g.bsize + 10);
            auto n = (*m)->read_fd(*fd, offsets[i], got);
            ASSERT_TRUE(n);
            std::vector<std::byte> want = pattern(3 * g.bsize, 40 + i);
            if (i + 1 < offsets.size())
                want.resize(got.size());
            got.resize(*n);
            EXPECT_TRUE(got == want) << "at " << offsets[i];
        }
        ASSERT_TRUE((*m)->close(*fd));
    }
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m);
        Both b(**m, m_model);
        b.truncate("/deep", dbl + 100);  // frees the triple indirect tree
        stamp_times(b, m_model);
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    expect_reader_sees(m_img, m_model);
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m);
        Both b(**m, m_model);
        b.remove("/deep");
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    EXPECT_EQ(totals(m_img), fresh);
    expect_reader_sees(m_img, m_model);  // empty
}

// A random operation sequence against the model: writes (extending, overwriting, leaving
// holes), truncates, creates, mkdir and rmdir, unlinks, hard and symbolic links (short and
// long), renames of files and directories (over files, over empty directories, across
// directories), chmod, chown, utimes and device nodes, with the refusals among them (rmdir of
// a full directory, a directory renamed into itself, ...) refused alike. After every step what
// it touched is compared (attributes, bytes, the directories' listings, whether the mtime
// moved), every 50 steps the whole tree; halfway the image is unmounted, checked and mounted
// again; at the end the checker, an independent reader and a read-only mount see the model.
// The seed comes from the variant's name; UKFS_FFS_SEED and UKFS_FFS_STEPS replay another.
TEST_P(FfsWrites, RandomOperations) {
    std::uint32_t seed = 2166136261u;  // FNV-1a of the name: the same in every C++ library
    for (const char c : std::string_view(GetParam().name))
        seed = (seed ^ static_cast<unsigned char>(c)) * 16777619u;
    if (const char* e = std::getenv("UKFS_FFS_SEED"))
        seed = static_cast<std::uint32_t>(std::stoul(e));
    int steps = 400;
    if (const char* e = std::getenv("UKFS_FFS_STEPS"))
        steps = std::stoi(e);
    const Geometry g = [&] {
        auto dev = io::ImageFile::open(m_img.string(), true);
        return *derive_geometry(*find_superblock(**dev), (*dev)->size());
    }();
    RandomSequence seq(seed, m_model, g.bsize);
    const std::string replay =
        fmt::format("replay: UKFS_FFS_SEED={} UKFS_FFS_STEPS={} --gtest_filter={}.{}", seed, steps,
                    ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name(),
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto m = mount_image(m_img, std::size_t{4} << 20, true);
    ASSERT_TRUE(m) << m.error().describe();
    for (int step = 0; step < steps; ++step) {
        if (step == steps / 2) {  // unmount, check, and go on in a new mount
            ASSERT_TRUE((*m)->unmount(false));
            m->reset();
            expect_clean(m_img);
            m = mount_image(m_img, std::size_t{4} << 20, true);
            ASSERT_TRUE(m) << m.error().describe();
            compare_tree(**m, m_model, true);
            ASSERT_FALSE(HasFailure()) << "after the remount at step " << step << "; " << replay;
        }
        vfs::Mount& mnt = **m;
        Both b(mnt, m_model);
        RandomSequence::Step s = seq.next();
        SCOPED_TRACE(fmt::format("seed {} step {}: {}", seed, step, s.what));
        // Whose mtime the step may change: it must change on both sides or on neither.
        std::vector<std::string> watch = s.dirs;
        if (!s.watch.empty())
            watch.push_back(s.watch);
        std::vector<std::tuple<std::string, timespec, timespec>> before;
        for (const std::string& p : watch) {
            struct stat st {};
            auto a = mnt.stat(p, vfs::Follow::no);
            if (::lstat(b.host(p).c_str(), &st) == 0 && a)
                before.emplace_back(p, st.st_mtim, a->mtime);
        }
        s.apply(b);
        const auto same = [](timespec x, timespec y) {
            return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
        };
        for (const auto& [p, host_was, ours_was] : before) {
            struct stat st {};
            auto a = mnt.stat(p, vfs::Follow::no);
            if (::lstat(b.host(p).c_str(), &st) != 0 || !a)
                continue;
            EXPECT_EQ(same(a->mtime, ours_was), same(st.st_mtim, host_was))
                << p << ": the mtime moved on one side only (host: " << !same(st.st_mtim, host_was)
                << ")";
        }
        // Fixed times on what the step touched, then compare it.
        std::vector<std::string> touched = s.nodes;
        touched.insert(touched.end(), s.dirs.begin(), s.dirs.end());
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        long k = 0;
        for (const std::string& p : touched) {
            struct stat st {};
            if (s.stamp && ::lstat(b.host(p).c_str(), &st) == 0)
                b.try_utimes(p, timespec{1'500'000'000 + 8 * step + k,
                                         (7919 * step + 104729 * k + 1) % 1'000'000'000});
            ++k;
        }
        for (const std::string& p : touched) {
            const fs::path host = b.host(p);
            if (fs::exists(fs::symlink_status(host))) {
                uk::test::compare_node(mnt, host, p, true);
                if (uk::test::is_real_dir(host))
                    uk::test::compare_listing(mnt, host, p);
            } else {
                auto a = mnt.stat(p, vfs::Follow::no);
                EXPECT_EQ(uk::test::errno_of(a), ENOENT) << p << ": not in the model";
            }
        }
        if ((step + 1) % 50 == 0)
            compare_tree(mnt, m_model, true);
        ASSERT_FALSE(HasFailure()) << "at step " << step << " (" << s.what << "); " << replay;
    }
    ASSERT_TRUE((*m)->unmount(false));
    m->reset();
    expect_clean(m_img);
    expect_reader_sees(m_img, m_model);
    auto ro = mount_image(m_img);
    ASSERT_TRUE(ro) << ro.error().describe();
    compare_tree(**ro, m_model, true);
}

// Filling the file system: every write and create that fails with ENOSPC leaves it consistent.
TEST_P(FfsWrites, FullFileSystem) {
    const Totals fresh = totals(m_img);
    std::vector<std::string> made;
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        // The model gets what each write reported done; a refused write leaves nothing.
        auto fd = (*m)->open("/big", O_RDWR | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        made.push_back("/big");
        std::vector<std::byte> big;
        const std::vector<std::byte> chunk = pattern(1 << 20, 5);
        for (;;) {
            auto n = (*m)->write_fd(*fd, big.size(), chunk, false);
            if (!n) {
                EXPECT_EQ(n.error().errnum(), ENOSPC) << n.error().describe();
                break;
            }
            big.insert(big.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
            ASSERT_LT(big.size(), std::size_t{64} << 20);
        }
        ASSERT_TRUE((*m)->close(*fd));
        write_host_file(m_model / "big", big);
        for (int i = 0; i < 100000; ++i) {
            const std::string p = fmt::format("/s{}", i);
            auto f = (*m)->open(p, O_RDWR | O_CREAT, 0644);
            if (!f)
                break;
            made.push_back(p);
            const std::vector<std::byte> data = pattern(700 + i % 3000, 6);
            auto n = (*m)->write_fd(*f, 0, data, false);
            ASSERT_TRUE((*m)->close(*f));
            write_host_file(m_model / p.substr(1),
                            n ? std::vector<std::byte>(
                                    data.begin(), data.begin() + static_cast<std::ptrdiff_t>(*n))
                              : std::vector<std::byte>{});
            if (!n) {
                EXPECT_EQ(n.error().errnum(), ENOSPC) << n.error().describe();
                break;
            }
        }
        for (const std::string& p : made)
            ::chmod((m_model / p.substr(1)).c_str(), 0644);
        Both b(**m, m_model);
        stamp_times(b, m_model);
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    expect_reader_sees(m_img, m_model);
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m) << m.error().describe();
        compare_tree(**m, m_model, true);
    }
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m);
        Both b(**m, m_model);
        for (const std::string& p : made)
            b.remove(p);
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    EXPECT_EQ(totals(m_img), fresh);
    expect_reader_sees(m_img, m_model);  // empty
}

INSTANTIATE_TEST_SUITE_P(Makefs, FfsWrites, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

// Patch a field of the primary superblock of `img` (UFS2 at 65536, UFS1 at 8192).
template <class F>
void patch_super(const fs::path& img, F&& change) {
    auto dev = io::ImageFile::open(img.string(), false);
    ASSERT_TRUE(dev);
    auto found = find_superblock(**dev);
    ASSERT_TRUE(found);
    change(found->sb, found->order);
    ASSERT_TRUE((*dev)->write_at(found->offset, std::as_bytes(std::span(&found->sb, 1))));
}

struct Refusal {
    const char* name;
    bool ufs2;
    void (*change)(Superblock&, const Order&);
};

const Refusal refusals[] = {
    {"not_clean", true, [](Superblock& sb, const Order&) { sb.fs_clean = 0; }},
    {"unclean_flag", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_unclean); }},
    {"needs_fsck", false,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_needsfsck); }},
    {"suj", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_suj); }},
    {"softdep", false,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_dosoftdep); }},
    {"gjournal", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_gjournal); }},
    {"unknown_flag", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | 0x10000u); }},
    {"inodefmt_42", false,
     [](Superblock& sb, const Order& o) {
         o.set(sb.fs_old_inodefmt, static_cast<std::uint32_t>(fs_42inodefmt));
         o.set(sb.fs_maxsymlinklen, 0u);
     }},
};

class FfsRefusals : public ::testing::TestWithParam<Refusal> {};

TEST_P(FfsRefusals, ReadWriteIsRefusedReadOnlyWorks) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    const Refusal& r = GetParam();
    TempDir work;
    fs::create_directories(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(100, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(
        make_image(work.path() / "src", img, r.ufs2 ? "-o version=2 -s 8m" : "-o version=1 -s 8m"),
        0);
    patch_super(img, r.change);
    const std::string before = file_digest(img);
    auto rw = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().errnum(), EROFS);
    EXPECT_NE(rw.error().message().find("cannot mount read-write"), std::string::npos)
        << rw.error().message();
    EXPECT_EQ(file_digest(img), before);
    auto ro = mount_image(img);
    ASSERT_TRUE(ro) << ro.error().describe();
    auto attr = (*ro)->stat("/", vfs::Follow::yes);  // (4.2BSD names would read as garbage)
    ASSERT_TRUE(attr) << attr.error().describe();
    EXPECT_EQ(attr->type, vfs::VType::dir);
}

INSTANTIATE_TEST_SUITE_P(Flags, FfsRefusals, ::testing::ValuesIn(refusals),
                         [](const auto& info) { return std::string(info.param.name); });

// FS_ISCLEAN is clear on the device while mounted read-write and set again at unmount.
TEST(FfsWrite, CleanFlagWhileMounted) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    TempDir work;
    fs::create_directories(work.path() / "src");
    fs::create_directories(work.path() / "model");
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "-o version=2 -s 8m"), 0);
    auto clean = [&] {
        auto dev = io::ImageFile::open(img.string(), true);
        return find_superblock(**dev)->sb.fs_clean;
    };
    EXPECT_EQ(clean() & fs_isclean, fs_isclean);
    auto m = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ(clean() & fs_isclean, 0);
    Both b(**m, work.path() / "model");
    b.mkdir("/d", 0755);
    stamp_times(b, work.path() / "model");
    ASSERT_TRUE((*m)->unmount(false));
    EXPECT_EQ(clean() & fs_isclean, fs_isclean);
    expect_clean(img);
    expect_reader_sees(img, work.path() / "model");  // makefs' UFS2: GRUB reads it
}

// The reserve (fs_minfree): a writer that is not root gets ENOSPC when only the reserve is
// left, as NetBSD's ffs_alloc gives it; root then writes into the reserve.
TEST(FfsWrite, MinfreeReserveIsRootsOnly) {
    TempDir work;
    const fs::path img = work.path() / "img";
    write_host_file(img, std::vector<std::byte>(std::size_t{8} << 20));
    {
        auto dev = io::ImageFile::open(img.string(), false);
        ASSERT_TRUE(dev);
        ASSERT_TRUE(newfs_params(**dev, {{"version", "2"}, {"minfree", "10"}}));
    }
    auto m = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_TRUE(m) << m.error().describe();
    ASSERT_TRUE((*m)->chmod("/", 0777, vfs::Follow::yes));
    const fs::path model = work.path() / "model";
    fs::create_directories(model);
    ::chmod(model.c_str(), 0777);
    // Write 64 KiB chunks to `path` up to `limit` bytes: the bytes written, or the error. The
    // model's file gets what was written, with the writer's owner and the directory's group.
    const auto write_until_full = [&](const std::string& path,
                                      std::uint64_t limit) -> Result<std::uint64_t> {
        const int fd = UKFS_TRY((*m)->open(path, O_RDWR | O_CREAT, 0644));
        const std::vector<std::byte> chunk = pattern(64 << 10, 7);
        std::vector<std::byte> written;
        Result<std::size_t> n = std::size_t{0};
        while (written.size() < limit && (n = (*m)->write_fd(fd, written.size(), chunk, false)))
            written.insert(written.end(), chunk.begin(),
                           chunk.begin() + static_cast<std::ptrdiff_t>(*n));
        UKFS_TRY((*m)->close(fd));
        const fs::path host = model / path.substr(1);
        write_host_file(host, written);
        ::chmod(host.c_str(), 0644);
        ::chown(host.c_str(), (*m)->cred().uid, 0);
        if (!n)
            return n.error();
        return written.size();
    };
    (*m)->set_cred(vfs::Cred{1000, 1000, {}});
    auto user = write_until_full("/user", std::uint64_t{64} << 20);
    ASSERT_FALSE(user);
    EXPECT_EQ(user.error().errnum(), ENOSPC) << user.error().describe();
    auto s = (*m)->statfs();
    ASSERT_TRUE(s);
    const std::uint64_t reserve = s->blocks * 10 / 100;
    EXPECT_EQ(s->bavail, 0u);
    EXPECT_GT(s->bfree + 64, reserve);  // stopped at the reserve (within a block or so)
    // Root writes on into the reserve.
    (*m)->set_cred(vfs::Cred{});
    auto root = write_until_full("/root", std::uint64_t{256} << 10);
    ASSERT_TRUE(root) << root.error().describe();
    auto after = (*m)->statfs();
    ASSERT_TRUE(after);
    EXPECT_LT(after->bfree + 200, s->bfree);
    Both b(**m, model);
    stamp_times(b, model);
    ASSERT_TRUE((*m)->unmount(false));
    expect_clean(img);
    expect_reader_sees(img, model);
}

// fs_maxbpg: past its single indirect block a big file moves on to another group every
// fs_maxbpg blocks (ffs_blkpref), so a file that group 0 could hold alone takes blocks from
// groups 0 and 1.
TEST(FfsWrite, BigFileSpreadsOverGroups) {
    TempDir work;
    const fs::path img = work.path() / "img";
    write_host_file(img, std::vector<std::byte>(std::size_t{48} << 20));
    {
        auto dev = io::ImageFile::open(img.string(), false);
        ASSERT_TRUE(dev);
        ASSERT_TRUE(newfs_params(**dev, {{"version", "1"}, {"bsize", "4096"}, {"fsize", "512"}}));
    }
    const auto nbfree = [&] {
        auto dev = io::ImageFile::open(img.string(), true);
        auto g = derive_geometry(*find_superblock(**dev), (*dev)->size());
        std::vector<Csum> cs(g->ncg);
        EXPECT_TRUE((*dev)->read_at(g->csaddr << g->fshift, std::as_writable_bytes(std::span(cs))));
        std::vector<std::uint32_t> out;
        for (const Csum& c : cs)
            out.push_back(g->order.u32(c.cs_nbfree));
        return std::pair(out, *g);
    };
    const auto [before, g] = nbfree();
    ASSERT_GE(before.size(), 2u);
    ASSERT_EQ(g.maxbpg, g.nindir);
    const std::uint64_t blocks = ndaddr + 2 * std::uint64_t{g.nindir} + 200;  // 8.4 MB
    ASSERT_LT(blocks + 100, before[0]);  // group 0 alone could hold it
    const fs::path model = work.path() / "model";
    fs::create_directories(model);
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        Both b(**m, model);
        b.write("/big", 0, pattern(blocks * g.bsize, 3));
        stamp_times(b, model);
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(img);
    expect_reader_sees(img, model);
    const auto [after, g2] = nbfree();
    EXPECT_GT(before[0] - after[0], g.nindir) << "group 0";
    EXPECT_GT(before[1] - after[1], g.nindir) << "group 1";
    auto m = mount_image(img);
    ASSERT_TRUE(m);
    auto fd = (*m)->open("/big", O_RDONLY, 0);
    ASSERT_TRUE(fd);
    std::vector<std::byte> got(blocks * g.bsize);
    ASSERT_TRUE((*m)->read_fd(*fd, 0, got));
    EXPECT_TRUE(got == pattern(blocks * g.bsize, 3));
}

}  // namespace
}  // namespace uk::ffs::test
